//! Time of one fused Adam step over the GAN's largest layer (803,600 parameters).
//!
//! `cargo run -p backend-cpu --release --example adam_speed` (prefix
//! `RAYON_NUM_THREADS=1` for one thread). A quick check, not a benchmark suite.

use backend_cpu::Cpu;
use tensor::AdamStep;
use tensor::backend::ops::*;

#[path = "timing/mod.rs"]
mod timing;
use timing::median_secs;

fn main() {
    backend_cpu::join_thread_pool();
    let n = 1024 * 784 + 784;
    let mut p = Cpu.from_vec(vec![0.1; n]).unwrap();
    let g = Cpu.from_vec(vec![0.01; n]).unwrap();
    let mut m = Cpu.from_vec(vec![0.0; n]).unwrap();
    let mut v = Cpu.from_vec(vec![0.0; n]).unwrap();
    let step = AdamStep {
        lr_t: 1e-4,
        beta1: 0.5,
        beta2: 0.999,
        epsilon: 1e-7,
    };
    let secs = median_secs(|| {
        Cpu.adam_step(&mut p, &g, &mut m, &mut v, n, step).unwrap();
    });
    println!("adam step over {n} parameters: median {:.1} us", secs * 1e6);
}
