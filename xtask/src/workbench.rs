//! `cargo xtask workbench matmul|conv`: every version of a WGSL kernel checked
//! against the CPU backend and timed over a sweep of sizes, side by side.

use backend_cpu::Cpu;
use backend_wgpu::Wgpu;
use backend_wgpu::workbench::{CONV_VERSIONS, KernelVersion, MATMUL_VERSIONS};
use clap::{Args, ValueEnum};
use std::time::{Duration, Instant};
use tensor::backend::ops::*;
use tensor::{Conv2dGeom, Distribution, MatmulDims, Padding};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Op {
    Matmul,
    Conv,
}

/// Options of `cargo xtask workbench`.
#[derive(Args, Clone, Debug)]
pub struct WorkbenchArgs {
    /// The op whose kernel versions are compared.
    #[arg(value_enum)]
    pub op: Op,
    /// Only this version (all when omitted).
    #[arg(long)]
    pub version: Option<u32>,
    /// Square matmul sizes n (matmul) [default: 128,256,512,1024; with --large 2048,4096 too].
    #[arg(long, value_delimiter = ',')]
    pub sizes: Vec<usize>,
    /// Add n = 2048 and 4096.
    #[arg(long)]
    pub large: bool,
    /// Check correctness only (no timing).
    #[arg(long)]
    pub check: bool,
    /// Seconds of timing per version and size (at least 3 repetitions).
    #[arg(long, default_value_t = 0.5)]
    pub seconds: f64,
}

fn random(n: usize, seed: u64) -> Vec<f32> {
    let s = Cpu
        .random(
            n,
            Distribution::Uniform {
                low: -1.0,
                high: 1.0,
            },
            seed,
        )
        .expect("cpu random");
    Cpu.to_vec(&s, n).expect("cpu read")
}

/// Largest |got - want| over the largest |want|.
fn rel_err(got: &[f32], want: &[f32]) -> f64 {
    let scale = want.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-30) as f64;
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() as f64)
        .fold(0.0, f64::max)
        / scale
}

/// The median seconds of `f` (one warm-up call first), repeated for about `budget`.
fn time(
    gpu: &Wgpu,
    budget: f64,
    mut f: impl FnMut() -> tensor::Result<()>,
) -> tensor::Result<(f64, usize)> {
    f()?;
    gpu.synchronize()?;
    let mut times = Vec::new();
    let started = Instant::now();
    while times.len() < 3
        || (started.elapsed() < Duration::from_secs_f64(budget) && times.len() < 100)
    {
        let t = Instant::now();
        f()?;
        gpu.synchronize()?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times.len()))
}

fn versions(
    all: &'static [KernelVersion],
    only: Option<u32>,
) -> Result<Vec<KernelVersion>, String> {
    let chosen: Vec<KernelVersion> = all
        .iter()
        .filter(|v| only.is_none_or(|n| n == v.number))
        .copied()
        .collect();
    if chosen.is_empty() {
        return Err(format!(
            "--version {}: the versions are {}",
            only.unwrap_or(0),
            all.iter()
                .map(|v| v.number.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(chosen)
}

pub fn run(args: &WorkbenchArgs) -> Result<(), String> {
    let gpu = Wgpu::new().map_err(|e| format!("the workbench needs a wgpu adapter: {e}"))?;
    let machine = crate::machine::describe();
    let mut md = format!(
        "# Workbench: {:?}\n\n- GPU: {}\n- CPU reference: {}\n\n",
        args.op,
        crate::machine::adapter_line(&machine),
        crate::machine::cpu_line(&machine)
    );
    let table = match args.op {
        Op::Matmul => matmul(&gpu, args)?,
        Op::Conv => conv(&gpu, args)?,
    };
    md += &table;
    println!("{md}");
    let dir = crate::bench::target_dir().join("bench-report");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("workbench-{:?}.md", args.op).to_lowercase());
    std::fs::write(&path, md).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("xtask: written to {}", path.display());
    Ok(())
}

fn matmul(gpu: &Wgpu, args: &WorkbenchArgs) -> Result<String, String> {
    let chosen = versions(&MATMUL_VERSIONS, args.version)?;
    let mut sizes = if args.sizes.is_empty() {
        vec![128, 256, 512, 1024]
    } else {
        args.sizes.clone()
    };
    if args.large {
        sizes.extend([2048, 4096]);
    }
    let mut out = String::from("| version | kernel |");
    for n in &sizes {
        out += &format!(" n={n} |");
    }
    out += &format!("\n|---|---|{}\n", "---:|".repeat(sizes.len()));
    let e = |e: tensor::Error| e.to_string();
    let mut cells = vec![Vec::new(); chosen.len()];
    for &n in &sizes {
        let (a, b) = (random(n * n, 1), random(n * n, 2));
        let dims = MatmulDims::plain(n, n, n);
        let want = Cpu
            .to_vec(
                &Cpu.matmul(
                    &Cpu.from_vec(a.clone()).map_err(e)?,
                    &Cpu.from_vec(b.clone()).map_err(e)?,
                    dims,
                )
                .map_err(e)?,
                n * n,
            )
            .map_err(e)?;
        let (ga, gb) = (gpu.from_vec(a).map_err(e)?, gpu.from_vec(b).map_err(e)?);
        for (i, v) in chosen.iter().enumerate() {
            let c = gpu
                .workbench_matmul(v.number, &ga, &gb, n, n, n)
                .map_err(e)?;
            let err = rel_err(&gpu.to_vec(&c, n * n).map_err(e)?, &want);
            let ok = err < 1e-4;
            let cell = if !ok {
                format!("WRONG (error {err:.1e})")
            } else if args.check {
                format!("ok ({err:.1e})")
            } else {
                let (secs, reps) = time(gpu, args.seconds, || {
                    gpu.workbench_matmul(v.number, &ga, &gb, n, n, n).map(drop)
                })
                .map_err(e)?;
                let gflops = 2.0 * (n as f64).powi(3) / secs / 1e9;
                format!("{gflops:.1} GFLOP/s ({:.2} ms, {reps} reps)", secs * 1e3)
            };
            eprintln!("matmul v{} n={n}: {cell}", v.number);
            cells[i].push(cell);
        }
    }
    for (v, row) in chosen.iter().zip(&cells) {
        out += &format!("| {} | {} |", v.number, v.name);
        for c in row {
            out += &format!(" {c} |");
        }
        out.push('\n');
    }
    out += "\nChecked against the CPU backend (largest error relative to the largest |C| below 1e-4).\n\n";
    for v in &chosen {
        out += &format!("- v{}: {}\n", v.number, v.about);
    }
    Ok(out)
}

fn conv(gpu: &Wgpu, args: &WorkbenchArgs) -> Result<String, String> {
    let chosen = versions(&CONV_VERSIONS, args.version)?;
    // The seed models' convolutions (as in benches/ops.rs).
    let cases: [(&str, [usize; 6], Padding); 3] = [
        (
            "mnist_cnn conv1 50x28x28x1 k3x64",
            [50, 28, 1, 64, 3, 1],
            Padding::Same,
        ),
        (
            "mnist_cnn conv2 50x14x14x64 k3x128",
            [50, 14, 64, 128, 3, 1],
            Padding::Same,
        ),
        (
            "acgan D 64x14x14x64 k3x128 s2",
            [64, 14, 64, 128, 3, 2],
            Padding::Valid,
        ),
    ];
    let e = |e: tensor::Error| e.to_string();
    let mut out = String::from("| case |");
    for v in &chosen {
        out += &format!(" v{} {} |", v.number, v.name);
    }
    out += &format!("\n|---|{}\n", "---:|".repeat(chosen.len()));
    for (name, [n, hw, c, o, k, stride], padding) in cases {
        let g = Conv2dGeom::for_input([n, hw, hw, c], (k, k, o), (stride, stride), padding)
            .ok_or_else(|| format!("{name}: no output"))?;
        let out_hw = g.out_h;
        let (x, w) = (random(n * hw * hw * c, 3), random(k * k * c * o, 4));
        let len = n * out_hw * out_hw * o;
        let want = Cpu
            .to_vec(
                &Cpu.conv2d(
                    &Cpu.from_vec(x.clone()).map_err(e)?,
                    &Cpu.from_vec(w.clone()).map_err(e)?,
                    &g,
                )
                .map_err(e)?,
                len,
            )
            .map_err(e)?;
        let (gx, gw) = (gpu.from_vec(x).map_err(e)?, gpu.from_vec(w).map_err(e)?);
        out += &format!("| {name} |");
        for v in &chosen {
            let y = gpu.workbench_conv2d(v.number, &gx, &gw, &g).map_err(e)?;
            let err = rel_err(&gpu.to_vec(&y, len).map_err(e)?, &want);
            let cell = if err >= 1e-4 {
                format!("WRONG (error {err:.1e})")
            } else if args.check {
                format!("ok ({err:.1e})")
            } else {
                let (secs, reps) = time(gpu, args.seconds, || {
                    gpu.workbench_conv2d(v.number, &gx, &gw, &g).map(drop)
                })
                .map_err(e)?;
                let flop = 2.0 * (len * k * k * c) as f64;
                format!(
                    "{:.1} GFLOP/s ({:.2} ms, {reps} reps)",
                    flop / secs / 1e9,
                    secs * 1e3
                )
            };
            eprintln!("conv v{} {name}: {cell}", v.number);
            out += &format!(" {cell} |");
        }
        out.push('\n');
    }
    out += "\n";
    for v in &chosen {
        out += &format!("- v{}: {}\n", v.number, v.about);
    }
    Ok(out)
}
