//! The matrix products of one MLP-GAN iteration (batch 32), each timed on its own.
//!
//! `cargo run -p backend-cpu --release --example gan_gemms` (prefix
//! `RAYON_NUM_THREADS=1` for one thread). Not a benchmark suite (the criterion bench
//! `train_step/cpu/gan` in `benches/` is): a quick per-shape view used to tune
//! `src/matmul.rs` for the thin products of small batches.

use backend_cpu::Cpu;
use tensor::MatmulDims;
use tensor::backend::ops::*;

#[path = "timing/mod.rs"]
mod timing;
use timing::median_secs;

/// One product shape of the iteration: what it is, `m x k @ k x n`, which operand is
/// stored transposed, and how many times an iteration runs it.
struct Shape {
    what: &'static str,
    m: usize,
    k: usize,
    n: usize,
    trans_a: bool,
    trans_b: bool,
    count: usize,
}

fn shapes(batch: usize) -> Vec<Shape> {
    let mut list = Vec::new();
    let mut push = |what, m, k, n, trans_a, trans_b, count| {
        list.push(Shape {
            what,
            m,
            k,
            n,
            trans_a,
            trans_b,
            count,
        })
    };
    // D: forward on real, fake and in the G step; weight gradients in both D steps;
    // input gradients in both D steps and the G step, except for the images.
    for (i, o) in [(784, 512), (512, 256), (256, 1)] {
        push("D fwd", batch, i, o, false, false, 3);
        push("D dW", i, batch, o, true, false, 2);
        push(
            "D dx",
            batch,
            o,
            i,
            false,
            true,
            if i == 784 { 1 } else { 3 },
        );
    }
    // G: forward for the fake batch and in the G step; gradients in the G step.
    for (i, o) in [(100, 256), (256, 512), (512, 1024), (1024, 784)] {
        push("G fwd", batch, i, o, false, false, 2);
        push("G dW", i, batch, o, true, false, 1);
        if i != 100 {
            push("G dx", batch, o, i, false, true, 1);
        }
    }
    list
}

fn main() {
    backend_cpu::join_thread_pool();
    println!("rayon threads: {}", rayon::current_num_threads());
    let (mut total_secs, mut total_flop) = (0.0, 0.0);
    for s in shapes(32) {
        let a = Cpu.from_vec(vec![0.5; s.m * s.k]).unwrap();
        let b = Cpu.from_vec(vec![0.25; s.k * s.n]).unwrap();
        let dims = MatmulDims {
            batch: 1,
            m: s.m,
            k: s.k,
            n: s.n,
            trans_a: s.trans_a,
            trans_b: s.trans_b,
            a_batch_stride: s.m * s.k,
            b_batch_stride: s.k * s.n,
        };
        let secs = median_secs(|| {
            Cpu.matmul(&a, &b, dims).unwrap();
        });
        let flop = 2.0 * (s.m * s.k * s.n) as f64;
        total_secs += secs * s.count as f64;
        total_flop += flop * s.count as f64;
        println!(
            "{:6} {:5} x {:5} x {:5} trans_a={:5} trans_b={:5} (x{}): {:7.1} us {:6.1} GFLOP/s",
            s.what,
            s.m,
            s.k,
            s.n,
            s.trans_a,
            s.trans_b,
            s.count,
            secs * 1e6,
            flop / secs / 1e9
        );
    }
    println!(
        "per iteration: {:.2} ms, {:.0} MFLOP, {:.1} GFLOP/s",
        total_secs * 1e3,
        total_flop / 1e6,
        total_flop / total_secs / 1e9
    );
}
