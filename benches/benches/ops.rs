//! Op benchmarks on the CPU backend and on wgpu, under the same names
//! (`<group>/<backend>/<case>`), so `cargo xtask bench` pairs them: matmul (squares
//! and the models' own shapes), conv2d forward and both backwards at the seed models'
//! shapes, max/avg pooling forward and backward, the fused LSTM cell and a whole LSTM
//! time step (GEMMs, cell, backward), softmax
//! cross-entropy, the Adam update, nearest upsampling.
//!
//! Throughput is FLOP (matmul, conv: 2 per multiply-add) or bytes moved (the others:
//! every input read and output written once). GPU timings end with
//! `Wgpu::synchronize` (the device has finished), and criterion's warm-up runs past
//! the pipeline compiles.
//!
//! `BENCH_QUICK=1` (set by `cargo xtask bench --quick`) keeps the square matmuls to
//! 256..1024 and leaves out the convolutions of over 5 GFLOP on wgpu; `BENCH_LARGE=1` adds n = 4096; `BENCH_MATMUL_SIZES=1024,2048` picks them.
//! The wgpu rows are skipped (with a note) when no adapter exists; on a software
//! driver such as lavapipe they measure correctness-grade speed only.

use backend_cpu::Cpu;
use backend_wgpu::Wgpu;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nn::{Adam, Optimizer};
use std::hint::black_box;
use tensor::backend::ops::*;
use tensor::{Conv2dGeom, Distribution, MatmulDims, Padding, Pool2dGeom, Tensor};
use train::{Loss, SparseCategoricalCrossEntropy};

/// Waits until the backend has finished the work queued so far.
trait Finish {
    fn finish(&self);
}
impl Finish for Cpu {
    fn finish(&self) {}
}
impl Finish for Wgpu {
    fn finish(&self) {
        self.synchronize().unwrap();
    }
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

fn random<B: Backend>(be: &B, n: usize, seed: u64) -> B::Storage {
    be.random(
        n,
        Distribution::Uniform {
            low: -1.0,
            high: 1.0,
        },
        seed,
    )
    .unwrap()
}

fn square_sizes() -> Vec<usize> {
    if let Ok(s) = std::env::var("BENCH_MATMUL_SIZES") {
        return s.split(',').filter_map(|v| v.trim().parse().ok()).collect();
    }
    let mut sizes = vec![256, 512, 1024];
    if !benches::quick() {
        sizes.push(2048);
    }
    if env_flag("BENCH_LARGE") {
        sizes.push(4096);
    }
    sizes
}

fn matmuls<B: Backend + Finish>(c: &mut Criterion, be: &B, label: &str) {
    let mut group = c.benchmark_group("matmul");
    group.sample_size(10);
    let mut shapes: Vec<(usize, usize, usize)> =
        square_sizes().iter().map(|&n| (n, n, n)).collect();
    // mnist_cnn's dense layer, the LSTM gate GEMM of addition_rnn / text_lstm (batch
    // 128, x and h joined: 12 + 128 in, 4 x 128 out), the GAN generator's last layer.
    shapes.extend([(50, 6272, 1024), (128, 140, 512), (32, 1024, 784)]);
    for (m, k, n) in shapes {
        let a = random(be, m * k, 1);
        let b = random(be, k * n, 2);
        group.throughput(Throughput::Elements((2 * m * k * n) as u64));
        group.bench_function(BenchmarkId::new(label, format!("{m}x{k}x{n}")), |bench| {
            bench.iter(|| {
                let y = be.matmul(&a, &b, MatmulDims::plain(m, k, n)).unwrap();
                be.finish();
                black_box(y)
            })
        });
    }
    group.finish();
}

/// A convolution of the seed models: `[n, h, w, c]` by `k x k x c x o`.
struct ConvCase {
    name: &'static str,
    n: usize,
    hw: usize,
    c: usize,
    o: usize,
    k: usize,
    stride: usize,
    padding: Padding,
}

const CONVS: [ConvCase; 11] = [
    ConvCase {
        name: "mnist_cnn_conv1_50x28x28x1_k3x64",
        n: 50,
        hw: 28,
        c: 1,
        o: 64,
        k: 3,
        stride: 1,
        padding: Padding::Same,
    },
    ConvCase {
        name: "mnist_cnn_conv2_50x14x14x64_k3x128",
        n: 50,
        hw: 14,
        c: 64,
        o: 128,
        k: 3,
        stride: 1,
        padding: Padding::Same,
    },
    // The 3x3 SAME convolution of the issue that set the CPU targets (#15).
    ConvCase {
        name: "conv_50x28x28x64_k3x128",
        n: 50,
        hw: 28,
        c: 64,
        o: 128,
        k: 3,
        stride: 1,
        padding: Padding::Same,
    },
    ConvCase {
        name: "cifar10_conv1_32x32x32x3_k3x32",
        n: 32,
        hw: 32,
        c: 3,
        o: 32,
        k: 3,
        stride: 1,
        padding: Padding::Same,
    },
    ConvCase {
        name: "cifar10_conv2_32x32x32x32_k3x32_valid",
        n: 32,
        hw: 32,
        c: 32,
        o: 32,
        k: 3,
        stride: 1,
        padding: Padding::Valid,
    },
    ConvCase {
        name: "cifar10_conv3_32x16x16x32_k3x64",
        n: 32,
        hw: 16,
        c: 32,
        o: 64,
        k: 3,
        stride: 1,
        padding: Padding::Same,
    },
    ConvCase {
        name: "cifar10_conv4_32x15x15x64_k3x64_valid",
        n: 32,
        hw: 15,
        c: 64,
        o: 64,
        k: 3,
        stride: 1,
        padding: Padding::Valid,
    },
    ConvCase {
        name: "acgan_d_conv3_64x14x14x64_k3x128_s2",
        n: 64,
        hw: 14,
        c: 64,
        o: 128,
        k: 3,
        stride: 2,
        padding: Padding::Same,
    },
    ConvCase {
        name: "acgan_g_conv2_32x28x28x256_k5x128",
        n: 32,
        hw: 28,
        c: 256,
        o: 128,
        k: 5,
        stride: 1,
        padding: Padding::Same,
    },
    // transfer_cnn's two convolutions at its batch of 128.
    ConvCase {
        name: "transfer_cnn_conv1_128x28x28x1_k3x32_valid",
        n: 128,
        hw: 28,
        c: 1,
        o: 32,
        k: 3,
        stride: 1,
        padding: Padding::Valid,
    },
    ConvCase {
        name: "transfer_cnn_conv2_128x26x26x32_k3x32_valid",
        n: 128,
        hw: 26,
        c: 32,
        o: 32,
        k: 3,
        stride: 1,
        padding: Padding::Valid,
    },
];

fn convs<B: Backend + Finish>(c: &mut Criterion, be: &B, label: &str) {
    let mut group = c.benchmark_group("conv2d");
    group.sample_size(10);
    for case in &CONVS {
        let g = Conv2dGeom::for_input(
            [case.n, case.hw, case.hw, case.c],
            (case.k, case.k, case.o),
            (case.stride, case.stride),
            case.padding,
        )
        .unwrap();
        let out = g.out_h;
        let x = random(be, g.n * g.h * g.w * g.c, 3);
        let w = random(be, g.kh * g.kw * g.c * g.o, 4);
        let dy = random(be, g.n * out * out * g.o, 5);
        let flop = (2 * g.n * out * out * g.kh * g.kw * g.c * g.o) as u64;
        if label == "wgpu" && flop > 5_000_000_000 && benches::quick() {
            let id = format!("conv2d/{label}/{}", case.name);
            benches::note_skipped(&id, "--quick: over 5 GFLOP a call");
            continue;
        }
        group.throughput(Throughput::Elements(flop));
        group.bench_function(
            BenchmarkId::new(label, format!("{}/forward", case.name)),
            |b| {
                b.iter(|| {
                    let y = be.conv2d(&x, &w, &g).unwrap();
                    be.finish();
                    black_box(y)
                })
            },
        );
        group.bench_function(
            BenchmarkId::new(label, format!("{}/backward_input", case.name)),
            |b| {
                b.iter(|| {
                    let y = be.conv2d_backward_input(&dy, &w, &g).unwrap();
                    be.finish();
                    black_box(y)
                })
            },
        );
        group.bench_function(
            BenchmarkId::new(label, format!("{}/backward_filter", case.name)),
            |b| {
                b.iter(|| {
                    let y = be.conv2d_backward_filter(&x, &dy, &g).unwrap();
                    be.finish();
                    black_box(y)
                })
            },
        );
    }
    group.finish();
}

fn pools<B: Backend + Finish>(c: &mut Criterion, be: &B, label: &str) {
    // mnist_cnn's first pool: 2x2 stride 2 SAME over 50x28x28x64.
    let g = Pool2dGeom {
        n: 50,
        h: 28,
        w: 28,
        c: 64,
        kh: 2,
        kw: 2,
        stride_h: 2,
        stride_w: 2,
        pad_top: 0,
        pad_left: 0,
        out_h: 14,
        out_w: 14,
    };
    let n_in = g.n * g.h * g.w * g.c;
    let n_out = g.n * g.out_h * g.out_w * g.c;
    let x = random(be, n_in, 6);
    let dy = random(be, n_out, 7);
    let (_, argmax) = be.max_pool2d(&x, &g).unwrap();
    let case = "50x28x28x64_2x2";
    let mut group = c.benchmark_group("pool2d");
    group.sample_size(20);
    group.throughput(Throughput::Bytes((4 * (n_in + n_out)) as u64));
    group.bench_function(
        BenchmarkId::new(label, format!("max/{case}/forward")),
        |b| {
            b.iter(|| {
                let y = be.max_pool2d(&x, &g).unwrap();
                be.finish();
                black_box(y)
            })
        },
    );
    group.bench_function(
        BenchmarkId::new(label, format!("avg/{case}/forward")),
        |b| {
            b.iter(|| {
                let y = be.avg_pool2d(&x, &g).unwrap();
                be.finish();
                black_box(y)
            })
        },
    );
    group.bench_function(
        BenchmarkId::new(label, format!("max/{case}/backward")),
        |b| {
            b.iter(|| {
                let y = be.max_pool2d_backward(&dy, &argmax, &g).unwrap();
                be.finish();
                black_box(y)
            })
        },
    );
    group.bench_function(
        BenchmarkId::new(label, format!("avg/{case}/backward")),
        |b| {
            b.iter(|| {
                let y = be.avg_pool2d_backward(&dy, &g).unwrap();
                be.finish();
                black_box(y)
            })
        },
    );
    // The ACGAN generator's upsampling: 2x over 32x14x14x256 (as a layer alone).
    let dims = [32, 14, 14, 256];
    let small: usize = dims.iter().product();
    let u = random(be, small, 8);
    let du = random(be, small * 4, 9);
    group.throughput(Throughput::Bytes((4 * 5 * small) as u64));
    group.bench_function(
        BenchmarkId::new(label, "upsample_nearest/32x14x14x256_2x/forward"),
        |b| {
            b.iter(|| {
                let y = be.upsample_nearest2d(&u, dims, 2, 2).unwrap();
                be.finish();
                black_box(y)
            })
        },
    );
    group.bench_function(
        BenchmarkId::new(label, "upsample_nearest/32x14x14x256_2x/backward"),
        |b| {
            b.iter(|| {
                let y = be.upsample_nearest2d_backward(&du, dims, 2, 2).unwrap();
                be.finish();
                black_box(y)
            })
        },
    );
    group.finish();
}

fn lstm_and_losses<B: Backend + Finish>(c: &mut Criterion, be: &B, label: &str) {
    let (n, hidden) = (128, 128);
    let gates = random(be, n * 4 * hidden, 10);
    let c_prev = random(be, n * hidden, 11);
    let d_c = random(be, n * hidden, 12);
    let d_h = random(be, n * hidden, 13);
    let mut group = c.benchmark_group("lstm_cell");
    group.sample_size(30);
    // Forward reads the gates and c, writes c and h; backward reads those and two
    // gradients, writes the gates' and c's gradients.
    group.throughput(Throughput::Bytes((4 * n * hidden * (4 + 1 + 2)) as u64));
    group.bench_function(BenchmarkId::new(label, "batch128_hidden128/forward"), |b| {
        b.iter(|| {
            let y = be.lstm_gates(&gates, &c_prev, n, hidden, 1.0).unwrap();
            be.finish();
            black_box(y)
        })
    });
    group.throughput(Throughput::Bytes(
        (4 * n * hidden * (4 + 1 + 2 + 4 + 1)) as u64,
    ));
    group.bench_function(
        BenchmarkId::new(label, "batch128_hidden128/backward"),
        |b| {
            b.iter(|| {
                let y = be
                    .lstm_gates_backward(&gates, &c_prev, &d_c, &d_h, n, hidden, 1.0)
                    .unwrap();
                be.finish();
                black_box(y)
            })
        },
    );
    group.finish();

    // One whole LSTM time step through autograd, as `nn::Lstm` runs it: the gate GEMMs
    // for x (batch 128, 12 inputs) and h (128 units), the bias, the fused cell, and the
    // backward to x, h, c and the three weights for given gradients of the new h and c
    // (seeded through a weighted sum, which adds two elementwise products).
    let (d, u) = (12usize, 128usize);
    let input = |shape: &[usize], seed: u64| {
        Tensor::uniform(be, shape.to_vec(), -1.0, 1.0, seed)
            .unwrap()
            .requires_grad()
    };
    let (x, h, c_in) = (input(&[n, d], 30), input(&[n, u], 31), input(&[n, u], 32));
    let (kernel, recurrent, bias) = (
        input(&[d, 4 * u], 33),
        input(&[u, 4 * u], 34),
        input(&[4 * u], 35),
    );
    let dh = Tensor::uniform(be, [n, u], -1.0, 1.0, 36).unwrap();
    let dc = Tensor::uniform(be, [n, u], -1.0, 1.0, 37).unwrap();
    let mut group = c.benchmark_group("lstm_step");
    group.sample_size(30);
    group.throughput(Throughput::Elements((3 * 2 * n * (d + u) * 4 * u) as u64));
    group.bench_function(
        BenchmarkId::new(label, "batch128_in12_hidden128/forward_backward"),
        |b| {
            b.iter(|| {
                let gates = x
                    .matmul(&kernel)
                    .and_then(|g| g.add(&h.matmul(&recurrent)?))
                    .and_then(|g| g.add(&bias))
                    .unwrap();
                let (c_t, h_t) = Tensor::lstm_cell(&gates, &c_in, 0.0).unwrap();
                let loss = h_t
                    .mul(&dh)
                    .and_then(|a| a.sum_all())
                    .and_then(|a| a.add(&c_t.mul(&dc)?.sum_all()?))
                    .unwrap();
                let grads = loss.backward().unwrap();
                be.finish();
                black_box(grads)
            })
        },
    );
    group.finish();

    // Softmax cross-entropy, forward and backward: addition_rnn's 512 answer characters
    // of 12 classes, text_lstm's batch of 128 over a vocabulary of 80.
    let mut group = c.benchmark_group("softmax_cross_entropy");
    group.sample_size(30);
    for (rows, classes) in [(512usize, 12usize), (128, 80)] {
        let logits = Tensor::uniform(be, [rows, classes], -3.0, 3.0, 14)
            .unwrap()
            .requires_grad();
        let labels: Vec<usize> = (0..rows).map(|i| (i * 7) % classes).collect();
        group.throughput(Throughput::Bytes((4 * 2 * rows * classes) as u64));
        group.bench_function(
            BenchmarkId::new(label, format!("{rows}x{classes}/forward_backward")),
            |b| {
                b.iter(|| {
                    let loss = SparseCategoricalCrossEntropy
                        .loss(&logits, &labels)
                        .unwrap();
                    let grads = loss.backward().unwrap();
                    be.finish();
                    black_box(grads)
                })
            },
        );
    }
    group.finish();

    // One Adam update of 1M parameters (in 4 tensors, as a model holds them).
    let mut group = c.benchmark_group("adam");
    group.sample_size(20);
    let params: Vec<(String, nn::Param<B>)> = (0..4)
        .map(|i| {
            let t = Tensor::uniform(be, [512, 512], -1.0, 1.0, 20 + i).unwrap();
            (format!("p{i}"), nn::Param::new(t))
        })
        .collect();
    let loss = params
        .iter()
        .map(|(_, p)| p.value().square().unwrap().sum_all().unwrap())
        .reduce(|a, b| a.add(&b).unwrap())
        .unwrap();
    let grads = loss.backward().unwrap();
    let mut opt = Adam::new(1e-3);
    // Param, gradient, two moments read; param and moments written.
    group.throughput(Throughput::Bytes((4 * 7 * (1 << 20)) as u64));
    group.bench_function(BenchmarkId::new(label, "1M_params"), |b| {
        b.iter(|| {
            opt.step(&params, &grads).unwrap();
            be.finish();
        })
    });
    group.finish();
}

fn all<B: Backend + Finish>(c: &mut Criterion, be: &B, label: &str) {
    matmuls(c, be, label);
    convs(c, be, label);
    pools(c, be, label);
    lstm_and_losses(c, be, label);
}

fn benches(c: &mut Criterion) {
    backend_cpu::join_thread_pool();
    all(c, &Cpu, "cpu");
    match Wgpu::new() {
        Ok(g) => {
            eprintln!("wgpu adapter: {}", g.name());
            all(c, &g, "wgpu");
        }
        Err(e) => eprintln!("wgpu benchmarks skipped: {e}"),
    }
}

criterion_group!(ops, benches);
criterion_main!(ops);
