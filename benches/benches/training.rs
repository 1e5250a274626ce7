//! Whole training steps: one GAN iteration (batch 32: D on real, D on fake, G),
//! on the CPU backend and on wgpu; one ACGAN iteration (batch 32: D on 32 real + 32
//! generated, G on 64) on the CPU backend (`acgan_iteration`, slow: ~10 samples).

use backend_cpu::Cpu;
use backend_wgpu::Wgpu;
use criterion::{Criterion, criterion_group, criterion_main};
use models::acgan::{Acgan, AcganConfig};
use models::gan::{Gan, GanConfig, PIXELS};
use tensor::Tensor;
use tensor::backend::ops::*;

fn gan_step<B: Backend>(c: &mut Criterion, be: B, label: &str) {
    let mut gan = Gan::new(be.clone(), GanConfig::default()).unwrap();
    let real = Tensor::uniform(&be, [32, PIXELS], -1.0, 1.0, 9).unwrap();
    let mut group = c.benchmark_group("gan_iteration");
    group.sample_size(20);
    group.bench_function(format!("{label}/batch32"), |b| {
        b.iter(|| gan.train_step(&real).unwrap())
    });
    group.finish();
}

fn acgan_step<B: Backend>(c: &mut Criterion, be: B, label: &str) {
    let mut acgan = Acgan::new(be.clone(), AcganConfig::default()).unwrap();
    let real = Tensor::uniform(&be, [32, 28, 28, 1], -1.0, 1.0, 9).unwrap();
    let labels: Vec<usize> = (0..32).map(|i| i % 10).collect();
    let mut group = c.benchmark_group("acgan_iteration");
    group.sample_size(10);
    group.bench_function(format!("{label}/batch32"), |b| {
        b.iter(|| acgan.train_step(&real, &labels).unwrap())
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    // As the model binaries do: the thread running the steps is one of the pool's.
    backend_cpu::join_thread_pool();
    gan_step(c, Cpu, "cpu");
    acgan_step(c, Cpu, "cpu");
    match Wgpu::new() {
        Ok(g) => gan_step(c, g, "wgpu"),
        Err(e) => eprintln!("wgpu benchmark skipped: {e}"),
    }
}

criterion_group!(training, benches);
criterion_main!(training);
