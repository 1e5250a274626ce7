//! One whole training step (forward, backward, optimizer) of every model binary, on
//! the CPU backend and on wgpu, in one group under the same names
//! (`train_step/<backend>/<model>/batch<N>`), so `cargo xtask bench` pairs them:
//! - gan: one GAN iteration (batch 32: D on real, D on fake, G);
//! - acgan: one ACGAN iteration (batch 32: D on 32 real + 32 generated, G on 64);
//! - toy_gan: one iteration of the 1-D GAN (5 D steps and a G step, batch 256);
//! - label_to_image: one gradient-descent step of the reversed softmax regression
//!   (batch 100, the images uploaded as the binary does);
//! - mnist_cnn, cifar10_cnn, transfer_cnn, antirectifier, text_lstm: one `fit` step
//!   (`train::train_step`) at the model's default batch size and optimizer;
//! - addition_rnn: in `benches/sequence.rs`, with the parts of its step.
//!
//! `BENCH_QUICK=1` (`cargo xtask bench --quick`) leaves out the wgpu steps that take
//! over 1.5 s an iteration (timed once first; on a software driver: the CNNs, the
//! ACGAN, text_lstm).
//! Every step ends by reading the loss back, as the training loops do, so a GPU has
//! finished.

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
    let id = format!("train_step/{label}/{name}/batch{batch}");
    let step = |opt: &mut dyn Optimizer<B>| {
        let (loss, _) = train::train_step(
            &model,
            opt,
            &SparseCategoricalCrossEntropy,
            &params,
            &x,
            &labels,
        )
        .unwrap();
        loss.to_vec().unwrap()
    };
    if benches::skip_if_slow(&id, label, || {
        step(&mut *opt);
    }) {
        return;
    }
    let mut group = c.benchmark_group("train_step");
    group.sample_size(10);
    group.bench_function(format!("{label}/{name}/batch{batch}"), |b| {
        // Reads the loss back, as the training loop does: the device has finished.
        b.iter(|| step(&mut *opt))
    });
    group.finish();
}

/// Every supervised model's step on `be`.
fn supervised_steps<B: Backend>(c: &mut Criterion, be: B, label: &str) {
    use models::{antirectifier, cifar10_cnn, mnist_cnn, text_lstm, transfer_cnn};
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
    // The bundled corpus' vocabulary, windows of 40 one-hot characters.
    let (text, _) = text_lstm::load_text(None).unwrap();
    let vocab = datasets::CharTable::from_corpus(&text).unwrap().len();
    supervised_step(
        c,
        &be,
        label,
        "text_lstm",
        text_lstm::network(&be, vocab, 1).unwrap(),
        Box::new(RmsProp::new(text_lstm::DEFAULT_LR)),
        &[text_lstm::WINDOW, vocab],
        text_lstm::DEFAULT_BATCH,
        vocab,
    );
}

fn gan_step<B: Backend>(c: &mut Criterion, be: B, label: &str) {
    let mut gan = Gan::new(be.clone(), GanConfig::default()).unwrap();
    let real = Tensor::uniform(&be, [32, PIXELS], -1.0, 1.0, 9).unwrap();
    let mut group = c.benchmark_group("train_step");
    group.sample_size(20);
    group.bench_function(format!("{label}/gan/batch32"), |b| {
        b.iter(|| gan.train_step(&real).unwrap())
    });
    group.finish();
}

fn acgan_step<B: Backend>(c: &mut Criterion, be: B, label: &str) {
    let mut acgan = Acgan::new(be.clone(), AcganConfig::default()).unwrap();
    let real = Tensor::uniform(&be, [32, 28, 28, 1], -1.0, 1.0, 9).unwrap();
    let labels: Vec<usize> = (0..32).map(|i| i % 10).collect();
    if benches::skip_if_slow(&format!("train_step/{label}/acgan/batch32"), label, || {
        acgan.train_step(&real, &labels).unwrap();
    }) {
        return;
    }
    let mut group = c.benchmark_group("train_step");
    group.sample_size(10);
    group.bench_function(format!("{label}/acgan/batch32"), |b| {
        b.iter(|| acgan.train_step(&real, &labels).unwrap())
    });
    group.finish();
}

fn toy_gan_step<B: Backend>(c: &mut Criterion, be: B, label: &str) {
    use models::toy_gan::{DEFAULT_BATCH, DEFAULT_LR, ToyGan, ToyGanOptions};
    let mut gan = ToyGan::new(be, &ToyGanOptions::default(), DEFAULT_BATCH, DEFAULT_LR, 1).unwrap();
    let mut group = c.benchmark_group("train_step");
    group.sample_size(20);
    group.bench_function(format!("{label}/toy_gan/batch{DEFAULT_BATCH}"), |b| {
        b.iter(|| gan.train_step().unwrap())
    });
    group.finish();
}

fn label_to_image_step<B: Backend>(c: &mut Criterion, be: B, label: &str) {
    use models::label_to_image::{LabelToImage, PIXELS};
    let mut model = LabelToImage::new(be, 0.5).unwrap();
    let labels: Vec<u8> = (0..100).map(|i| (i % 10) as u8).collect();
    let images: Vec<f32> = (0..100 * PIXELS)
        .map(|i| ((i * 37) % 256) as f32 / 255.0)
        .collect();
    let mut group = c.benchmark_group("train_step");
    group.sample_size(20);
    group.bench_function(format!("{label}/label_to_image/batch100"), |b| {
        b.iter(|| model.train_step(&labels, &images).unwrap())
    });
    group.finish();
}

/// Every model's step on `be`.
fn all<B: Backend>(c: &mut Criterion, be: B, label: &str) {
    gan_step(c, be.clone(), label);
    acgan_step(c, be.clone(), label);
    toy_gan_step(c, be.clone(), label);
    label_to_image_step(c, be.clone(), label);
    supervised_steps(c, be, label);
}

fn benches(c: &mut Criterion) {
    // As the model binaries do: the thread running the steps is one of the pool's.
    backend_cpu::join_thread_pool();
    all(c, Cpu, "cpu");
    match Wgpu::new() {
        Ok(g) => all(c, g, "wgpu"),
        Err(e) => eprintln!("wgpu benchmark skipped: {e}"),
    }
}

criterion_group!(training, benches);
criterion_main!(training);
