//! Op benchmarks, CPU vs wgpu: matmul (square and the GAN's shapes) and conv2d.
//!
//! The wgpu rows are skipped (with a note) when no adapter exists. On a software
//! driver such as lavapipe they measure correctness-grade speed only.

use backend_cpu::Cpu;
use backend_wgpu::Wgpu;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tensor::backend::ops::*;
use tensor::{Padding, Tensor};

fn gpu() -> Option<Wgpu> {
    match Wgpu::new() {
        Ok(g) => Some(g),
        Err(e) => {
            eprintln!("wgpu benchmarks skipped: {e}");
            None
        }
    }
}

fn matmul_case<B: Backend>(c: &mut Criterion, be: &B, label: &str, m: usize, k: usize, n: usize) {
    let a = Tensor::uniform(be, [m, k], -1.0, 1.0, 1).unwrap();
    let b = Tensor::uniform(be, [k, n], -1.0, 1.0, 2).unwrap();
    let mut group = c.benchmark_group(format!("matmul/{label}"));
    group.throughput(Throughput::Elements((2 * m * k * n) as u64));
    group.sample_size(10);
    group.bench_function(
        BenchmarkId::from_parameter(format!("{m}x{k}x{n}")),
        |bench| {
            bench.iter(|| {
                let c = a.matmul(&b).unwrap();
                // Reading one element forces a GPU backend to finish the work.
                black_box(c.narrow(0, 0, 1).unwrap().to_vec().unwrap());
            })
        },
    );
    group.finish();
}

fn conv_case<B: Backend>(c: &mut Criterion, be: &B, label: &str) {
    // The second conv of the MNIST CNN: 14x14x32 -> 14x14x64, 3x3 SAME, batch 32.
    let x = Tensor::uniform(be, [32, 14, 14, 32], -1.0, 1.0, 3).unwrap();
    let w = Tensor::uniform(be, [3, 3, 32, 64], -0.1, 0.1, 4).unwrap();
    let mut group = c.benchmark_group(format!("conv2d/{label}"));
    group.throughput(Throughput::Elements(
        (2 * 32 * 14 * 14 * 9 * 32 * 64) as u64,
    ));
    group.sample_size(10);
    group.bench_function("32x14x14x32_k3x3x64_same", |bench| {
        bench.iter(|| {
            let y = x.conv2d(&w, (1, 1), Padding::Same).unwrap();
            black_box(y.narrow(0, 0, 1).unwrap().to_vec().unwrap());
        })
    });
    group.finish();
}

fn sizes() -> Vec<usize> {
    // BENCH_MATMUL_SIZES=1024,2048,4096 on a real GPU.
    std::env::var("BENCH_MATMUL_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![256, 512, 1024])
}

fn benches(c: &mut Criterion) {
    for n in sizes() {
        matmul_case(c, &Cpu, "cpu", n, n, n);
    }
    // The GAN's largest layer, forward: [32, 1024] @ [1024, 784].
    matmul_case(c, &Cpu, "cpu", 32, 1024, 784);
    conv_case(c, &Cpu, "cpu");
    if let Some(g) = gpu() {
        eprintln!("wgpu adapter: {}", g.name());
        for n in sizes() {
            matmul_case(c, &g, "wgpu", n, n, n);
        }
        matmul_case(c, &g, "wgpu", 32, 1024, 784);
        conv_case(c, &g, "wgpu");
    }
}

criterion_group!(ops, benches);
criterion_main!(ops);
