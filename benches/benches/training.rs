//! Whole training steps: one GAN iteration (batch 32: D on real, D on fake, G),
//! on the CPU backend and on wgpu.

use backend_cpu::Cpu;
use backend_wgpu::Wgpu;
use criterion::{Criterion, criterion_group, criterion_main};
use models::gan::{Gan, GanConfig, PIXELS};
use tensor::{Backend, Tensor};

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

fn benches(c: &mut Criterion) {
    gan_step(c, Cpu, "cpu");
    match Wgpu::new() {
        Ok(g) => gan_step(c, g, "wgpu"),
        Err(e) => eprintln!("wgpu benchmark skipped: {e}"),
    }
}

criterion_group!(training, benches);
criterion_main!(training);
