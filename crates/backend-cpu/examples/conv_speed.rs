//! Rough convolution throughput of the CPU backend on the example models' layers.
//!
//! `cargo run -p backend-cpu --release --example conv_speed`
//!
//! A quick check while tuning `src/conv.rs`, not a benchmark suite.

use backend_cpu::Cpu;
use tensor::Conv2dGeom;
use tensor::backend::ops::*;

#[path = "timing/mod.rs"]
mod timing;
use timing::median_secs as time;

fn same(n: usize, hw: usize, c: usize, k: usize, o: usize) -> Conv2dGeom {
    let total = k - 1;
    Conv2dGeom {
        n,
        h: hw,
        w: hw,
        c,
        kh: k,
        kw: k,
        o,
        stride_h: 1,
        stride_w: 1,
        pad_top: total / 2,
        pad_left: total / 2,
        out_h: hw,
        out_w: hw,
    }
}

fn valid(n: usize, hw: usize, c: usize, k: usize, o: usize) -> Conv2dGeom {
    Conv2dGeom {
        pad_top: 0,
        pad_left: 0,
        out_h: hw - k + 1,
        out_w: hw - k + 1,
        ..same(n, hw, c, k, o)
    }
}

fn main() {
    let layers = [
        (
            "mnist conv1 28x28x1 -> 32, 3x3 valid",
            valid(32, 28, 1, 3, 32),
        ),
        (
            "mnist conv2 26x26x32 -> 64, 3x3 valid",
            valid(32, 26, 32, 3, 64),
        ),
        (
            "cifar conv 32x32x32 -> 32, 3x3 same",
            same(32, 32, 32, 3, 32),
        ),
        (
            "cifar conv 16x16x64 -> 64, 3x3 same",
            same(32, 16, 64, 3, 64),
        ),
        (
            "autoencoder 28x28x16 -> 8, 3x3 same",
            same(32, 28, 16, 3, 8),
        ),
    ];
    for (name, g) in layers {
        let x = Cpu.from_vec(vec![0.5; g.n * g.h * g.w * g.c]).unwrap();
        let w = Cpu.from_vec(vec![0.25; g.kh * g.kw * g.c * g.o]).unwrap();
        let dy = Cpu
            .from_vec(vec![1.0; g.n * g.out_h * g.out_w * g.o])
            .unwrap();
        let flops = 2.0 * (g.n * g.out_h * g.out_w * g.kh * g.kw * g.c * g.o) as f64;
        let fwd = time(|| {
            Cpu.conv2d(&x, &w, &g).unwrap();
        });
        let bwd_in = time(|| {
            Cpu.conv2d_backward_input(&dy, &w, &g).unwrap();
        });
        let bwd_w = time(|| {
            Cpu.conv2d_backward_filter(&x, &dy, &g).unwrap();
        });
        println!(
            "{name:<40} fwd {:>6.2} ms ({:>5.1} GFLOP/s)  bwd_in {:>6.2} ms ({:>5.1})  bwd_w {:>6.2} ms ({:>5.1})",
            fwd * 1e3,
            flops / fwd / 1e9,
            bwd_in * 1e3,
            flops / bwd_in / 1e9,
            bwd_w * 1e3,
            flops / bwd_w / 1e9,
        );
    }
}
