//! Throughput of the wgpu matmul kernel: GFLOP/s for square products.
//!
//! `cargo run --release -p backend-wgpu --example matmul_gflops` measures n = 256,
//! 512 and 1024; add `-- --large` for 2048 and 4096 too (minutes on lavapipe), or
//! `-- --n 384` for one size.
//! Each size gets one warm-up product (which includes the shader compile), then
//! repetitions until about a second has passed; the median is reported.

use backend_wgpu::Wgpu;
use std::time::{Duration, Instant};
use tensor::backend::ops::*;
use tensor::{Distribution, MatmulDims};

fn main() -> tensor::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let large = args.iter().any(|a| a == "--large");
    let one: Option<usize> = args
        .iter()
        .position(|a| a == "--n")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok());
    let gpu = Wgpu::new()?;
    println!("device: {}", gpu.name());
    let mut sizes = vec![256usize, 512, 1024];
    if large {
        sizes.extend([2048, 4096]);
    }
    if let Some(n) = one {
        sizes = vec![n];
    }
    println!(
        "{:>6} {:>12} {:>10} {:>6}",
        "n", "median ms", "GFLOP/s", "reps"
    );
    for n in sizes {
        let dist = Distribution::Uniform {
            low: -1.0,
            high: 1.0,
        };
        let a = gpu.random(n * n, dist, 1)?;
        let b = gpu.random(n * n, dist, 2)?;
        let dims = MatmulDims::plain(n, n, n);
        // Warm-up: pipeline compile and first-dispatch driver work.
        let c = gpu.matmul(&a, &b, dims)?;
        gpu.synchronize()?;
        drop(c);

        let mut times = Vec::new();
        let cpu_before = process_cpu_seconds();
        let started = Instant::now();
        while times.len() < 3 || (started.elapsed() < Duration::from_secs(1) && times.len() < 50) {
            let t = Instant::now();
            let c = gpu.matmul(&a, &b, dims)?;
            gpu.synchronize()?;
            times.push(t.elapsed());
            drop(c);
        }
        // With a software driver (lavapipe) the work runs on this process's
        // threads, and CPU time per product is steadier than wall time on a
        // shared machine.
        let cpu = match (cpu_before, process_cpu_seconds()) {
            (Some(a), Some(b)) => format!("{:.1}", (b - a) * 1e3 / times.len() as f64),
            _ => "-".to_string(),
        };
        times.sort();
        let median = times[times.len() / 2].as_secs_f64();
        let gflops = 2.0 * (n as f64).powi(3) / median / 1e9;
        println!(
            "{n:>6} {:>12.3} {gflops:>10.2} {:>6} {cpu:>14}",
            median * 1e3,
            times.len()
        );
    }
    Ok(())
}

/// User + system CPU time of this process so far (Linux only; `None` elsewhere).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces) start after ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Clock ticks; 100 per second on Linux.
    Some((utime + stime) / 100.0)
}
