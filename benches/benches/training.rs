//! Whole training steps: one GAN iteration (batch 32: D on real, D on fake, G),
//! on the CPU backend and on wgpu; one ACGAN iteration (batch 32: D on 32 real + 32
//! generated, G on 64) on the CPU backend (`acgan_iteration`, slow: ~10 samples); one
//! `fit` step (forward, loss, backward, optimizer: `train::train_step`) of each
//! supervised model at its default batch size, on both backends (`supervised_step`).

use backend_cpu::Cpu;
use backend_wgpu::Wgpu;
use criterion::{Criterion, criterion_group, criterion_main};
use models::acgan::{Acgan, AcganConfig};
use models::gan::{Gan, GanConfig, PIXELS};
use nn::{Adadelta, Adam, Optimizer, Params, RmsProp, Sequential};
use tensor::Tensor;
use tensor::backend::ops::*;
use train::SparseCategoricalCrossEntropy;

/// One `fit` step of `model` on a fixed batch of `batch` random inputs of `input`.
fn supervised_step<B: Backend>(
    c: &mut Criterion,
    be: &B,
    label: &str,
    name: &str,
    model: Sequential<B>,
    mut opt: Box<dyn Optimizer<B>>,
    input: &[usize],
    batch: usize,
    classes: usize,
) {
    let mut shape = vec![batch];
    shape.extend_from_slice(input);
    let x = Tensor::uniform(be, shape, 0.0, 1.0, 3).unwrap();
    let labels: Vec<usize> = (0..batch).map(|i| i % classes).collect();
    let params = model.trainable_params();
    let mut group = c.benchmark_group("supervised_step");
    group.sample_size(10);
    group.bench_function(format!("{name}/{label}/batch{batch}"), |b| {
        b.iter(|| {
            let (loss, _) = train::train_step(
                &model,
                &mut *opt,
                &SparseCategoricalCrossEntropy,
                &params,
                &x,
                &labels,
            )
            .unwrap();
            // Wait for the device, as the training loop does when it reads the loss.
            loss.to_vec().unwrap()
        })
    });
    group.finish();
}

/// Every supervised model's step on `be`.
fn supervised_steps<B: Backend>(c: &mut Criterion, be: B, label: &str) {
    use models::{antirectifier, cifar10_cnn, mnist_cnn, transfer_cnn};
    supervised_step(
        c,
        &be,
        label,
        "mnist_cnn",
        mnist_cnn::network(&be, 1).unwrap(),
        Box::new(Adam::new(1e-4)),
        &[28, 28, 1],
        50,
        10,
    );
    supervised_step(
        c,
        &be,
        label,
        "cifar10_cnn",
        cifar10_cnn::network(&be, 1).unwrap(),
        Box::new(RmsProp::new(1e-4).decay(1e-6)),
        &[32, 32, 3],
        32,
        10,
    );
    supervised_step(
        c,
        &be,
        label,
        "transfer_cnn",
        transfer_cnn::network(&be, 1).unwrap(),
        Box::new(Adadelta::new(1.0)),
        &[28, 28, 1],
        128,
        5,
    );
    supervised_step(
        c,
        &be,
        label,
        "antirectifier",
        antirectifier::network(&be, 1).unwrap(),
        Box::new(RmsProp::new(1e-3)),
        &[784],
        128,
        10,
    );
}

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
    supervised_steps(c, Cpu, "cpu");
    match Wgpu::new() {
        Ok(g) => {
            gan_step(c, g.clone(), "wgpu");
            supervised_steps(c, g, "wgpu");
        }
        Err(e) => eprintln!("wgpu benchmark skipped: {e}"),
    }
}

criterion_group!(training, benches);
criterion_main!(training);
