//! The sequence models: one `addition_rnn` training step (batch 128: the encoder LSTM
//! over 7 steps and the decoder LSTM over 4, forward and backward through time, and
//! Adam; `train::train_step`, as `fit` takes it) on the CPU backend and on wgpu, and
//! the parts of that step timed alone at the same sizes, so that the step's time can
//! be divided among them (`addition_rnn_parts`).
//!
//! Per training step at the defaults (batch 128, 128 units, questions of 7 characters,
//! answers of 4), `nn::Lstm` runs:
//! - the input projections: one GEMM per layer over all its steps, `[896, 12] @ [12, 512]`
//!   (encoder) and `[512, 128] @ [128, 512]` (decoder), each with two GEMMs backward;
//! - the recurrent GEMMs `[128, 128] @ [128, 512]`: 6 + 3 forward (the first step's zero
//!   state is skipped) and 2 x 9 backward;
//! - the fused cell: 7 + 4 steps forward and backward, each forward also joining `c` and
//!   `h` into one `[128, 256]` tensor and slicing them apart again (autograd nodes have
//!   one output);
//! - the slicing of each step's gates from the time-major projection (a strided copy,
//!   joined back by one concat backward), the permute to time-major, and the stacking of
//!   the decoder's 4 outputs (a concat, sliced backward).
//!
//! The wgpu rows are skipped when no adapter exists; on a software driver (lavapipe)
//! they measure correctness-grade speed only.

use backend_cpu::Cpu;
use backend_wgpu::Wgpu;
use criterion::{Criterion, criterion_group, criterion_main};
use models::addition_rnn::{self, AdditionArgs};
use nn::{Adam, Mode, Module, Optimizer, Params};
use std::hint::black_box;
use tensor::backend::ops::*;
use tensor::{MatmulDims, Tensor, no_grad};
use train::{Loss, SparseCategoricalCrossEntropy};

const BATCH: usize = 128;
const UNITS: usize = 128;
const QUESTION: usize = 7;
const ANSWER: usize = 4;
const CHARS: usize = 12;

/// Waits for the device: reads one element of `t` back (a GPU backend finishes the
/// work queued before it).
fn sync<B: Backend>(t: &Tensor<B>) -> f32 {
    t.reshape([t.numel()])
        .unwrap()
        .narrow(0, 0, 1)
        .unwrap()
        .to_vec()
        .unwrap()[0]
}

/// A random batch of one-hot questions and answer labels.
fn batch<B: Backend>(be: &B) -> (Tensor<B>, Vec<usize>) {
    let mut x = vec![0.0f32; BATCH * QUESTION * CHARS];
    let mut seeds = nn::Seeds::new(7);
    for row in x.chunks_exact_mut(CHARS) {
        row[(seeds.next() % CHARS as u64) as usize] = 1.0;
    }
    let labels = (0..BATCH * ANSWER)
        .map(|_| (seeds.next() % CHARS as u64) as usize)
        .collect();
    (
        Tensor::from_vec(be, x, [BATCH, QUESTION, CHARS]).unwrap(),
        labels,
    )
}

/// The whole step, and the forward, forward + backward and Adam update alone.
fn whole<B: Backend>(c: &mut Criterion, be: &B, label: &str) {
    let model = addition_rnn::network(be, &AdditionArgs::default(), 1).unwrap();
    let params = model.trainable_params();
    let mut opt = Adam::new(1e-3);
    let (x, labels) = batch(be);
    let mut group = c.benchmark_group("train_step");
    group.sample_size(20);
    group.bench_function(format!("{label}/addition_rnn/batch{BATCH}"), |b| {
        b.iter(|| {
            let (loss, _) = train::train_step(
                &model,
                &mut opt,
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

    let mut group = c.benchmark_group("addition_rnn_parts");
    group.sample_size(20);
    group.bench_function(format!("{label}/forward_eval"), |b| {
        b.iter(|| no_grad(|| sync(&model.forward(&x, Mode::Eval).unwrap())))
    });
    group.bench_function(format!("{label}/forward_backward"), |b| {
        b.iter(|| {
            let y = model.forward(&x, Mode::Train).unwrap();
            let loss = SparseCategoricalCrossEntropy.loss(&y, &labels).unwrap();
            let grads = loss.backward().unwrap();
            let (_, p) = &params[0];
            sync(p.grad(&grads).unwrap())
        })
    });
    let grads = {
        let y = model.forward(&x, Mode::Train).unwrap();
        SparseCategoricalCrossEntropy
            .loss(&y, &labels)
            .unwrap()
            .backward()
            .unwrap()
    };
    group.bench_function(format!("{label}/adam_update"), |b| {
        b.iter(|| {
            opt.step(&params, &grads).unwrap();
            sync(&params[0].1.value())
        })
    });
    group.finish();
}

/// `a @ b` with the given transposes, as the matmul op and its backward call it.
fn gemm<B: Backend>(be: &B, a: &Tensor<B>, b: &Tensor<B>, dims: MatmulDims) -> Tensor<B> {
    let s = be.matmul(a.storage(), b.storage(), dims).unwrap();
    Tensor::from_storage(be, s, [dims.m, dims.n])
}

/// The recurrent loop's parts, each once, at the step's sizes.
fn parts<B: Backend>(c: &mut Criterion, be: &B, label: &str) {
    let g4 = 4 * UNITS;
    let u =
        |shape: &[usize], seed: u64| Tensor::uniform(be, shape.to_vec(), -1.0, 1.0, seed).unwrap();
    let x_enc = u(&[BATCH * QUESTION, CHARS], 1);
    let x_dec = u(&[BATCH * ANSWER, UNITS], 2);
    let w_enc = u(&[CHARS, g4], 3);
    let w = u(&[UNITS, g4], 4);
    let h = u(&[BATCH, UNITS], 5);
    let c_prev = u(&[BATCH, UNITS], 6);
    let gates = u(&[BATCH, g4], 7);
    let d_gates = u(&[BATCH, g4], 8);
    let projected = u(&[QUESTION, BATCH, g4], 9);
    let step_grads: Vec<Tensor<B>> = (0..QUESTION)
        .map(|t| u(&[1, BATCH, g4], 10 + t as u64))
        .collect();
    let outputs: Vec<Tensor<B>> = (0..ANSWER)
        .map(|t| u(&[BATCH, 1, UNITS], 20 + t as u64))
        .collect();
    let stacked = u(&[BATCH, ANSWER, UNITS], 30);
    let batch_major = u(&[BATCH, QUESTION, g4], 31);

    let mut group = c.benchmark_group("addition_rnn_parts");
    group.sample_size(30);
    // The GEMMs.
    group.bench_function(format!("{label}/input_gemm_encoder_896x12x512"), |b| {
        b.iter(|| sync(&x_enc.matmul(&w_enc).unwrap()))
    });
    group.bench_function(format!("{label}/input_gemm_decoder_512x128x512"), |b| {
        b.iter(|| sync(&x_dec.matmul(&w).unwrap()))
    });
    group.bench_function(format!("{label}/recurrent_gemm_128x128x512"), |b| {
        b.iter(|| sync(&gemm(be, &h, &w, MatmulDims::plain(BATCH, UNITS, g4))))
    });
    group.bench_function(format!("{label}/recurrent_gemm_backward_both"), |b| {
        b.iter(|| {
            // dh = dgates @ W^T and dW = h^T @ dgates.
            let dh = gemm(
                be,
                &d_gates,
                &w,
                MatmulDims {
                    trans_b: true,
                    ..MatmulDims::plain(BATCH, g4, UNITS)
                },
            );
            let dw = gemm(
                be,
                &h,
                &d_gates,
                MatmulDims {
                    trans_a: true,
                    ..MatmulDims::plain(UNITS, BATCH, g4)
                },
            );
            (sync(&dh), sync(&dw))
        })
    });
    // The fused cell: the kernels, and the op as autograd runs it forward.
    group.bench_function(format!("{label}/cell_forward_kernel"), |b| {
        b.iter(|| {
            let (c_t, _) = be
                .lstm_gates(gates.storage(), c_prev.storage(), BATCH, UNITS, 1.0)
                .unwrap();
            sync(&Tensor::from_storage(be, c_t, [BATCH, UNITS]))
        })
    });
    let tracked_gates = gates.requires_grad();
    group.bench_function(format!("{label}/cell_forward_op_tracked"), |b| {
        b.iter(|| {
            let (c_t, h_t) = Tensor::lstm_cell(&tracked_gates, &c_prev, 1.0).unwrap();
            (sync(&c_t), sync(&h_t))
        })
    });
    group.bench_function(format!("{label}/cell_backward_kernel"), |b| {
        b.iter(|| {
            let (dg, _) = be
                .lstm_gates_backward(
                    gates.storage(),
                    c_prev.storage(),
                    c_prev.storage(),
                    h.storage(),
                    BATCH,
                    UNITS,
                    1.0,
                )
                .unwrap();
            sync(&Tensor::from_storage(be, dg, [BATCH, g4]))
        })
    });
    // Slicing and stacking.
    group.bench_function(format!("{label}/permute_to_time_major"), |b| {
        b.iter(|| sync(&batch_major.permute(&[1, 0, 2]).unwrap()))
    });
    group.bench_function(format!("{label}/slice_one_step"), |b| {
        b.iter(|| {
            sync(
                &projected
                    .narrow(0, 3, 4)
                    .unwrap()
                    .reshape([BATCH, g4])
                    .unwrap(),
            )
        })
    });
    group.bench_function(format!("{label}/slices_backward_concat_7"), |b| {
        b.iter(|| sync(&Tensor::concat(&step_grads, 0).unwrap()))
    });
    group.bench_function(format!("{label}/stack_outputs_concat_4"), |b| {
        b.iter(|| sync(&Tensor::concat(&outputs, 1).unwrap()))
    });
    group.bench_function(format!("{label}/stack_backward_slices_4"), |b| {
        b.iter(|| {
            let parts: Vec<f32> = (0..ANSWER)
                .map(|t| sync(&stacked.narrow(1, t, t + 1).unwrap()))
                .collect();
            black_box(parts)
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    // As the model binaries do: the thread running the steps is one of the pool's.
    backend_cpu::join_thread_pool();
    whole(c, &Cpu, "cpu");
    parts(c, &Cpu, "cpu");
    match Wgpu::new() {
        Ok(g) => {
            eprintln!("wgpu adapter: {}", g.name());
            whole(c, &g, "wgpu");
            parts(c, &g, "wgpu");
        }
        Err(e) => eprintln!("wgpu benchmark skipped: {e}"),
    }
}

criterion_group!(sequence, benches);
criterion_main!(sequence);
