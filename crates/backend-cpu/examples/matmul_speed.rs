//! Rough matmul throughput of the CPU backend, and where threading starts to pay.
//!
//! `cargo run -p backend-cpu --release --example matmul_speed`
//!
//! Not a benchmark suite (those are criterion benches in `benches/`): a quick check
//! used to pick `GEMM_PAR_WORK` in `src/matmul.rs`.

use backend_cpu::Cpu;
use tensor::MatmulDims;
use tensor::backend::ops::*;

#[path = "timing/mod.rs"]
mod timing;
use timing::median_secs as time;

fn backend_gflops(m: usize, k: usize, n: usize, trans_a: bool, trans_b: bool) -> f64 {
    let a = Cpu.from_vec(vec![0.5; m * k]).unwrap();
    let b = Cpu.from_vec(vec![0.25; k * n]).unwrap();
    let dims = MatmulDims {
        batch: 1,
        m,
        k,
        n,
        trans_a,
        trans_b,
        a_batch_stride: m * k,
        b_batch_stride: k * n,
    };
    let secs = time(|| {
        Cpu.matmul(&a, &b, dims).unwrap();
    });
    2.0 * (m * k * n) as f64 / secs / 1e9
}

fn raw_gemm_secs(m: usize, k: usize, n: usize, parallelism: gemm::Parallelism) -> f64 {
    let (a, b) = (vec![0.5f32; m * k], vec![0.25f32; k * n]);
    let mut c = vec![0.0f32; m * n];
    // SAFETY: row-major m x k, k x n and m x n buffers of exactly those sizes.
    time(|| unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    })
}

fn main() {
    println!("rayon threads: {}", rayon::current_num_threads());
    println!("\nbackend matmul (m x k x n):");
    let shapes = [
        (1024, 1024, 1024, false, false),
        (32, 1024, 784, false, false),
        // GAN dense layers: forward, and the two backward products.
        (32, 100, 256, false, false),
        (32, 784, 1024, false, true),
        (1024, 32, 784, true, false),
        (32, 784, 1024, false, false),
    ];
    for (m, k, n, ta, tb) in shapes {
        println!(
            "  {m:>5} x {k:>5} x {n:>5}  trans_a={ta:<5} trans_b={tb:<5} {:>7.1} GFLOP/s",
            backend_gflops(m, k, n, ta, tb)
        );
    }
    println!("\nraw gemm, one thread vs all (to place GEMM_PAR_WORK):");
    let sizes = [
        (64, 64, 64),
        (96, 96, 96),
        (112, 112, 112),
        (128, 128, 128),
        (192, 192, 192),
        (256, 256, 256),
        (32, 100, 256),
        (32, 256, 256),
        (32, 256, 512),
        (32, 512, 1024),
        (256, 32, 100),
        (128, 288, 64),
    ];
    for (m, k, n) in sizes {
        let one = raw_gemm_secs(m, k, n, gemm::Parallelism::None);
        let all = raw_gemm_secs(m, k, n, gemm::Parallelism::Rayon(0));
        println!(
            "  {m:>4} x {k:>4} x {n:>4} = {:>9} madds: 1 thread {:>8.1} us, all {:>8.1} us",
            m * k * n,
            one * 1e6,
            all * 1e6
        );
    }
}
