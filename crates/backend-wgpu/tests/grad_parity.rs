//! Gradient parity: the same computation through `tensor`'s autograd on the CPU
//! reference and on the GPU; outputs and every input gradient must agree.
//!
//! Each case computes `loss = sum(f(inputs) * w)` with fixed weights `w`, so that
//! every output element gets a distinct upstream gradient. Tolerance as in the
//! op parity suite (`common::RTOL`): both sides are f32 but sum in different orders.

mod common;

use backend_cpu::Cpu;
use backend_wgpu::Wgpu;
use common::*;
use tensor::backend::ops::*;
use tensor::{AdamStep, Padding, Result, Tensor, adam_step};

type Inputs = Vec<(Vec<f32>, Vec<usize>)>;

/// Output and gradients (one per input) of `sum(f(inputs) * w)` on backend `b`.
fn run<B: Backend>(
    b: &B,
    inputs: &Inputs,
    f: impl Fn(&[Tensor<B>]) -> Result<Tensor<B>>,
) -> (Vec<f32>, Vec<Vec<f32>>) {
    let leaves: Vec<Tensor<B>> = inputs
        .iter()
        .map(|(d, s)| {
            Tensor::from_vec(b, d.clone(), s.clone())
                .unwrap()
                .requires_grad()
        })
        .collect();
    let out = f(&leaves).unwrap();
    let w = data(out.numel(), 999, -1.0, 1.0);
    let wt = Tensor::from_vec(b, w, out.shape().clone()).unwrap();
    let loss = out.mul(&wt).unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    let g = leaves
        .iter()
        .map(|leaf| {
            grads
                .get(leaf)
                .map(|t| t.to_vec().unwrap())
                .unwrap_or_else(|| vec![0.0; leaf.numel()])
        })
        .collect();
    (out.to_vec().unwrap(), g)
}

/// Runs `$body` (a closure body over the leaf tensors `$t`) on both backends and
/// compares the outputs and all gradients (skips without a GPU).
macro_rules! grad_parity {
    ($name:expr, $inputs:expr, |$t:ident| $body:expr) => {{
        if let Some(gpu) = gpu() {
            let inputs: Inputs = $inputs;
            let (want_out, want_grads) = run(&Cpu, &inputs, |$t: &[Tensor<Cpu>]| $body);
            let (got_out, got_grads) = run(gpu, &inputs, |$t: &[Tensor<Wgpu>]| $body);
            assert_close(&format!("{} output", $name), &got_out, &want_out);
            for (i, (g, w)) in got_grads.iter().zip(&want_grads).enumerate() {
                assert_close(&format!("{} gradient of input {i}", $name), g, w);
            }
        }
    }};
}

fn one(d: Vec<f32>, s: &[usize]) -> Inputs {
    vec![(d, s.to_vec())]
}

fn input(n: usize, seed: u64, dims: &[usize]) -> (Vec<f32>, Vec<usize>) {
    (data(n, seed, -1.0, 1.0), dims.to_vec())
}

#[test]
fn unary_and_activation_gradients() {
    let x = || one(data(3 * 37, 1, -3.0, 3.0), &[3, 37]);
    let pos = || one(data(3 * 37, 2, 0.2, 3.0), &[3, 37]);
    grad_parity!("neg", x(), |t| t[0].neg());
    grad_parity!("abs", x(), |t| t[0].abs());
    grad_parity!("exp", x(), |t| t[0].exp());
    grad_parity!("log", pos(), |t| t[0].log());
    grad_parity!("sqrt", pos(), |t| t[0].sqrt());
    grad_parity!("recip", pos(), |t| t[0].recip());
    grad_parity!("square", x(), |t| t[0].square());
    grad_parity!("powf", pos(), |t| t[0].powf(1.7));
    grad_parity!("clamp", x(), |t| t[0].clamp(-0.5, 0.5));
    grad_parity!("relu", x(), |t| t[0].relu());
    grad_parity!("leaky_relu", x(), |t| t[0].leaky_relu(0.2));
    grad_parity!("sigmoid", x(), |t| t[0].sigmoid());
    grad_parity!("tanh", x(), |t| t[0].tanh());
    grad_parity!("softmax", x(), |t| t[0].softmax(-1));
    grad_parity!("log_softmax", x(), |t| t[0].log_softmax(-1));
    grad_parity!("softmax axis 0", x(), |t| t[0].softmax(0));
}

#[test]
fn broadcasting_binary_gradients() {
    let pairs: Vec<(&[usize], &[usize])> = vec![
        (&[5, 7], &[5, 7]),
        (&[5, 7], &[7]),
        (&[4, 1, 3], &[5, 1]),
        (&[1], &[3, 2]),
        (&[2, 1, 65], &[2, 3, 1]),
    ];
    for (sa, sb) in pairs {
        let (na, nb) = (sa.iter().product(), sb.iter().product());
        let xs = || vec![input(na, 3, sa), input(nb, 4, sb)];
        let pos = || {
            vec![
                (data(na, 5, 0.5, 2.0), sa.to_vec()),
                (data(nb, 6, 0.5, 2.0), sb.to_vec()),
            ]
        };
        grad_parity!(format!("add {sa:?} {sb:?}"), xs(), |t| t[0].add(&t[1]));
        grad_parity!(format!("sub {sa:?} {sb:?}"), xs(), |t| t[0].sub(&t[1]));
        grad_parity!(format!("mul {sa:?} {sb:?}"), xs(), |t| t[0].mul(&t[1]));
        grad_parity!(format!("div {sa:?} {sb:?}"), pos(), |t| t[0].div(&t[1]));
        grad_parity!(format!("pow {sa:?} {sb:?}"), pos(), |t| t[0].pow(&t[1]));
        grad_parity!(format!("maximum {sa:?} {sb:?}"), xs(), |t| {
            t[0].maximum(&t[1].add_scalar(0.013)?)
        });
    }
}

#[test]
fn reduction_and_layout_gradients() {
    let x = || one(data(4 * 5 * 6, 7, -1.0, 1.0), &[4, 5, 6]);
    grad_parity!("sum axis", x(), |t| t[0].sum(&[1], false));
    grad_parity!("sum axes keepdim", x(), |t| t[0].sum(&[0, 2], true));
    grad_parity!("mean", x(), |t| t[0].mean(&[-1], false));
    grad_parity!("var", x(), |t| t[0].var(&[1], false));
    grad_parity!("max", x(), |t| t[0].max(&[2], false));
    grad_parity!("min", x(), |t| t[0].min(&[0, 1], true));
    grad_parity!("permute", x(), |t| t[0].permute(&[2, 0, 1]));
    grad_parity!("transpose", x(), |t| t[0].transpose(0, -1));
    grad_parity!("slice", x(), |t| t[0].slice(&[(1, 3), (0, 5), (2, 5)]));
    grad_parity!("narrow pieces", x(), |t| {
        let a = t[0].narrow(-1, 0, 2)?;
        let b = t[0].narrow(-1, 3, 5)?;
        a.mul(&b)
    });
    grad_parity!("broadcast_to", one(data(5, 8, -1.0, 1.0), &[5, 1]), |t| {
        t[0].broadcast_to([3, 5, 4])
    });
    grad_parity!(
        "concat",
        vec![input(4 * 3, 9, &[4, 3]), input(4 * 5, 10, &[4, 5])],
        |t| Tensor::concat(&[t[0].clone(), t[1].clone()], 1)
    );
    grad_parity!("reshape", x(), |t| t[0].reshape([20, 6]));
}

#[test]
fn matmul_gradients() {
    let cases: Vec<(&[usize], &[usize])> = vec![
        (&[3, 4], &[4, 5]),
        (&[65, 33], &[33, 17]),
        (&[2, 3, 4], &[2, 4, 5]),
        (&[2, 3, 4], &[4, 5]),
        (&[3, 4], &[2, 4, 5]),
        (&[1, 1], &[1, 1]),
    ];
    for (sa, sb) in cases {
        let (na, nb) = (sa.iter().product(), sb.iter().product());
        grad_parity!(
            format!("matmul {sa:?} {sb:?}"),
            vec![input(na, 11, sa), input(nb, 12, sb)],
            |t| t[0].matmul(&t[1])
        );
    }
}

#[test]
fn conv_pool_upsample_gradients() {
    type Case = ([usize; 4], [usize; 4], (usize, usize), Padding);
    let cases: Vec<Case> = vec![
        ([2, 5, 7, 3], [3, 3, 3, 4], (1, 1), Padding::Same),
        ([2, 7, 9, 2], [3, 3, 2, 5], (2, 2), Padding::Same),
        ([1, 6, 5, 1], [5, 5, 1, 2], (1, 1), Padding::Valid),
        ([1, 9, 6, 3], [2, 3, 3, 2], (2, 1), Padding::Valid),
    ];
    for (xs, ws, stride, padding) in cases {
        grad_parity!(
            format!("conv2d {xs:?} {ws:?} {stride:?} {padding:?}"),
            vec![
                input(xs.iter().product(), 13, &xs),
                input(ws.iter().product(), 14, &ws),
            ],
            |t| t[0].conv2d(&t[1], stride, padding)
        );
    }
    let x = || one(data(2 * 7 * 6 * 3, 15, -1.0, 1.0), &[2, 7, 6, 3]);
    for (k, s, p) in [
        ((2, 2), (2, 2), Padding::Valid),
        ((2, 2), (2, 2), Padding::Same),
        ((3, 3), (1, 1), Padding::Same),
        ((3, 3), (2, 2), Padding::Same),
    ] {
        grad_parity!(format!("max_pool2d {k:?} {s:?} {p:?}"), x(), |t| {
            t[0].max_pool2d(k, s, p)
        });
        grad_parity!(format!("avg_pool2d {k:?} {s:?} {p:?}"), x(), |t| {
            t[0].avg_pool2d(k, s, p)
        });
    }
    grad_parity!("upsample", x(), |t| t[0].upsample_nearest2d(2, 3));
}

#[test]
fn gather_dropout_and_lstm_gradients() {
    grad_parity!(
        "index_select",
        one(data(10 * 3, 16, -1.0, 1.0), &[10, 3]),
        |t| { t[0].index_select(0, &[2, 0, 2, 9, 2]) }
    );
    grad_parity!(
        "index_select middle",
        one(data(2 * 4 * 3, 17, -1.0, 1.0), &[2, 4, 3]),
        |t| t[0].index_select(1, &[1, 1, 3])
    );
    // The mask comes from the shared counter-based RNG: the same on both backends.
    grad_parity!("dropout", one(data(6 * 50, 18, -1.0, 1.0), &[6, 50]), |t| {
        t[0].dropout(0.3, 1234, true)
    });
    for forget_bias in [0.0, 1.0] {
        grad_parity!(
            format!("lstm_cell chain, forget bias {forget_bias}"),
            vec![input(3 * 20, 19, &[3, 20]), input(3 * 5, 20, &[3, 5]),],
            |t| {
                // Two steps through the same gates: c feeds the next step.
                let steps = t[0].chunk(2, 1)?;
                let gates0 = Tensor::concat(&[steps[0].clone(), steps[0].clone()], 1)?;
                let gates1 = Tensor::concat(&[steps[1].clone(), steps[1].clone()], 1)?;
                let (c1, h1) = Tensor::lstm_cell(&gates0, &t[1], forget_bias)?;
                let (c2, h2) = Tensor::lstm_cell(&gates1, &c1, forget_bias)?;
                c2.mul_scalar(0.7)?.add(&h2)?.add(&h1)
            }
        );
    }
}

#[test]
fn small_networks_gradients() {
    // Dense classifier: matmul + bias + relu + matmul + log_softmax + NLL (one-hot).
    let labels = [3usize, 0, 9, 4, 4, 1, 7];
    grad_parity!(
        "mlp",
        vec![
            input(7 * 20, 21, &[7, 20]),
            input(20 * 33, 22, &[20, 33]),
            input(33, 23, &[33]),
            input(33 * 10, 24, &[33, 10]),
        ],
        |t| {
            let h = t[0].matmul(&t[1])?.add(&t[2])?.relu()?;
            let logp = h.matmul(&t[3])?.log_softmax(-1)?;
            let onehot = Tensor::one_hot(t[0].backend(), &labels, 10)?;
            logp.mul(&onehot)?.sum(&[1], false)?.neg()?.mean_all()
        }
    );
    // Convolutional: conv + relu + max_pool + conv + avg_pool + flatten + dense + softmax.
    grad_parity!(
        "cnn",
        vec![
            input(2 * 9 * 9 * 3, 25, &[2, 9, 9, 3]),
            input(3 * 3 * 3 * 8, 26, &[3, 3, 3, 8]),
            input(8, 27, &[8]),
            input(3 * 3 * 8 * 6, 28, &[3, 3, 8, 6]),
            input(54 * 5, 29, &[54, 5]),
        ],
        |t| {
            let y = t[0]
                .conv2d(&t[1], (1, 1), Padding::Same)?
                .add(&t[2])?
                .relu()?;
            let y = y.max_pool2d((2, 2), (2, 2), Padding::Same)?;
            let y = y.conv2d(&t[3], (2, 2), Padding::Same)?.tanh()?;
            let y = y.avg_pool2d((2, 2), (1, 1), Padding::Same)?;
            y.reshape([2, 54])?.matmul(&t[4])?.softmax(-1)
        }
    );
}

#[test]
fn adam_training_steps_match() {
    // Three Adam steps of a least-squares fit, all on device, on both backends.
    fn train<B: Backend>(b: &B) -> Vec<f32> {
        let x = Tensor::from_vec(b, data(16 * 5, 30, -1.0, 1.0), [16, 5]).unwrap();
        let y = Tensor::from_vec(b, data(16 * 3, 31, -1.0, 1.0), [16, 3]).unwrap();
        let mut w = Tensor::from_vec(b, data(5 * 3, 32, -0.5, 0.5), [5, 3]).unwrap();
        let mut m = Tensor::zeros(b, [5, 3]).unwrap();
        let mut v = Tensor::zeros(b, [5, 3]).unwrap();
        for step in 1..=3 {
            let wg = w.requires_grad();
            let loss = x
                .matmul(&wg)
                .unwrap()
                .sub(&y)
                .unwrap()
                .square()
                .unwrap()
                .mean_all()
                .unwrap();
            let grad = loss.backward().unwrap().get(&wg).unwrap().clone();
            drop(wg);
            let (b1, b2) = (0.9f32, 0.999f32);
            let lr_t = 0.1 * (1.0 - b2.powi(step)).sqrt() / (1.0 - b1.powi(step));
            let hp = AdamStep {
                lr_t,
                beta1: b1,
                beta2: b2,
                epsilon: 1e-7,
            };
            adam_step(&mut w, &grad, &mut m, &mut v, hp).unwrap();
        }
        let mut out = w.to_vec().unwrap();
        out.extend(m.to_vec().unwrap());
        out.extend(v.to_vec().unwrap());
        out
    }
    if let Some(gpu) = gpu() {
        assert_close("adam training", &train(gpu), &train(&Cpu));
    }
}
