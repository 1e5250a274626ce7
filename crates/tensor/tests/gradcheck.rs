//! Finite-difference gradient checks of every differentiable op on the CPU backend.
//!
//! Each check builds `loss = sum(f(inputs) * w)` with fixed random weights `w`,
//! takes the analytic gradient from `backward()`, and compares it with central
//! differences `(L(x + h) - L(x - h)) / 2h`, where `L` is accumulated in f64 on the
//! host. With f32 forward passes and h = 1e-2 the truncation error is O(h^2) ~ 1e-4
//! (relative) and the rounding error ~ 1e-7 |L| / h ~ 1e-5 |L|, so a tolerance of
//! 1e-2 relative plus 2e-3 absolute separates a correct rule from a wrong one (a
//! wrong rule is off by O(1)). Inputs stay at least 0.05 away from kinks (relu,
//! max, abs) so that the differences do not straddle one.

use backend_cpu::Cpu;
use tensor::{Padding, Result, Tensor, no_grad};

const H: f64 = 1e-2;

/// Deterministic pseudo-random values in [-1, 1) that stay 0.05 away from 0.
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = ((state >> 40) as f64) / (1u64 << 24) as f64; // [0, 1)
            let v = 0.05 + 0.95 * u; // [0.05, 1)
            if (state >> 20) & 1 == 0 {
                v as f32
            } else {
                -v as f32
            }
        })
        .collect()
}

/// Values at least 0.05 apart (a shuffled grid), so that no perturbation of size H
/// changes which element wins a max.
fn distinct(n: usize, seed: u64) -> Vec<f32> {
    let keys = values(n, seed);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| keys[a].total_cmp(&keys[b]));
    let mut out = vec![0.0; n];
    for (rank, &i) in order.iter().enumerate() {
        out[i] = (rank as f32 - n as f32 / 2.0) * 0.05 + 0.025;
    }
    out
}

fn positive(n: usize, seed: u64) -> Vec<f32> {
    values(n, seed).into_iter().map(|v| v.abs() + 0.5).collect()
}

type Inputs = Vec<(Vec<f32>, Vec<usize>)>;

fn check(name: &str, inputs: Inputs, f: impl Fn(&[Tensor<Cpu>]) -> Result<Tensor<Cpu>>) {
    let leaves: Vec<Tensor<Cpu>> = inputs
        .iter()
        .map(|(d, s)| {
            Tensor::from_vec(&Cpu, d.clone(), s.clone())
                .unwrap()
                .requires_grad()
        })
        .collect();
    let out = f(&leaves).unwrap();
    let w = values(out.numel(), 99);
    let wt = Tensor::from_vec(&Cpu, w.clone(), out.shape().clone()).unwrap();
    let loss = out.mul(&wt).unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();

    let host_loss = |xs: &[Vec<f32>]| -> f64 {
        no_grad(|| {
            let ts: Vec<Tensor<Cpu>> = xs
                .iter()
                .zip(&inputs)
                .map(|(d, (_, s))| Tensor::from_vec(&Cpu, d.clone(), s.clone()).unwrap())
                .collect();
            let o = f(&ts).unwrap().to_vec().unwrap();
            o.iter().zip(&w).map(|(&a, &b)| a as f64 * b as f64).sum()
        })
    };
    let mut current: Vec<Vec<f32>> = inputs.iter().map(|(d, _)| d.clone()).collect();
    for (i, leaf) in leaves.iter().enumerate() {
        let analytic = grads
            .get(leaf)
            .unwrap_or_else(|| panic!("{name}: no gradient for input {i}"))
            .to_vec()
            .unwrap();
        assert_eq!(analytic.len(), current[i].len(), "{name}: gradient size");
        for j in 0..current[i].len() {
            let orig = current[i][j];
            current[i][j] = (orig as f64 + H) as f32;
            let plus = host_loss(&current);
            current[i][j] = (orig as f64 - H) as f32;
            let minus = host_loss(&current);
            current[i][j] = orig;
            let numeric = (plus - minus) / (2.0 * H);
            let a = analytic[j] as f64;
            assert!(
                (a - numeric).abs() <= 2e-3 + 1e-2 * numeric.abs(),
                "{name}: input {i} element {j}: analytic {a} vs numeric {numeric}"
            );
        }
    }
}

fn one(d: Vec<f32>, s: &[usize]) -> Inputs {
    vec![(d, s.to_vec())]
}

#[test]
fn unary_ops() {
    let x = || one(values(12, 1), &[3, 4]);
    check("neg", x(), |t| t[0].neg());
    check("abs", x(), |t| t[0].abs());
    check("exp", x(), |t| t[0].exp());
    check("log", one(positive(12, 2), &[3, 4]), |t| t[0].log());
    check("sqrt", one(positive(12, 3), &[3, 4]), |t| t[0].sqrt());
    check("recip", one(positive(12, 4), &[3, 4]), |t| t[0].recip());
    check("square", x(), |t| t[0].square());
    check("powf", one(positive(12, 5), &[3, 4]), |t| t[0].powf(2.5));
    check("add_scalar", x(), |t| t[0].add_scalar(3.0));
    check("mul_scalar", x(), |t| t[0].mul_scalar(-1.5));
    check("clamp", x(), |t| t[0].clamp(-0.5, 0.5));
    check("relu", x(), |t| t[0].relu());
    check("leaky_relu", x(), |t| t[0].leaky_relu(0.2));
    check("sigmoid", x(), |t| t[0].sigmoid());
    check("tanh", x(), |t| t[0].tanh());
    check("softplus", x(), |t| t[0].softplus());
}

#[test]
fn broadcasting_binary_ops() {
    let pairs: Vec<(&[usize], &[usize])> = vec![
        (&[2, 3], &[2, 3]),
        (&[2, 3], &[3]),
        (&[4, 1, 3], &[5, 1]),
        (&[1], &[2, 2]),
        (&[2, 1, 3], &[2, 4, 1]),
    ];
    for (sa, sb) in pairs {
        let na: usize = sa.iter().product();
        let nb: usize = sb.iter().product();
        let inputs = || vec![(values(na, 7), sa.to_vec()), (values(nb, 8), sb.to_vec())];
        let pos = || {
            vec![
                (positive(na, 7), sa.to_vec()),
                (positive(nb, 8), sb.to_vec()),
            ]
        };
        check("add", inputs(), |t| t[0].add(&t[1]));
        check("sub", inputs(), |t| t[0].sub(&t[1]));
        check("mul", inputs(), |t| t[0].mul(&t[1]));
        check("div", pos(), |t| t[0].div(&t[1]));
        check("pow", pos(), |t| t[0].pow(&t[1]));
        // Offsets keep a and b apart so no element sits on the max/min kink.
        check("maximum", inputs(), |t| {
            t[0].maximum(&t[1].add_scalar(0.013)?)
        });
        check("minimum", inputs(), |t| {
            t[0].minimum(&t[1].add_scalar(0.013)?)
        });
        // The one-pass activation gradients, as ops of their own (values() keeps b
        // away from ReluGrad's kink at 0).
        check("relu_grad", inputs(), |t| {
            t[0].binary(&t[1], tensor::BinaryOp::ReluGrad)
        });
        check("tanh_grad", inputs(), |t| {
            t[0].binary(&t[1], tensor::BinaryOp::TanhGrad)
        });
        check("sigmoid_grad", inputs(), |t| {
            t[0].binary(&t[1], tensor::BinaryOp::SigmoidGrad)
        });
    }
}

#[test]
fn reductions() {
    let x = || one(values(24, 11), &[2, 3, 4]);
    check("sum axis", x(), |t| t[0].sum(&[1], false));
    check("sum axes keepdim", x(), |t| t[0].sum(&[0, 2], true));
    check("sum_all", x(), |t| t[0].sum_all());
    check("mean", x(), |t| t[0].mean(&[-1], false));
    check("mean_all", x(), |t| t[0].mean_all());
    let d = || one(distinct(24, 11), &[2, 3, 4]);
    check("max", d(), |t| t[0].max(&[2], false));
    check("min", d(), |t| t[0].min(&[0, 1], true));
    check("var", x(), |t| t[0].var(&[1], false));
}

#[test]
fn layout_ops() {
    let x = || one(values(24, 12), &[2, 3, 4]);
    check("reshape", x(), |t| t[0].reshape([4, 6]));
    check("permute", x(), |t| t[0].permute(&[2, 0, 1]));
    check("transpose", x(), |t| t[0].transpose(0, -1));
    check("broadcast_to", one(values(3, 13), &[3, 1]), |t| {
        t[0].broadcast_to([2, 3, 4])
    });
    check("slice", x(), |t| t[0].slice(&[(1, 2), (0, 2), (1, 4)]));
    check("narrow", x(), |t| t[0].narrow(-1, 1, 3));
    check("chunk", x(), |t| {
        let parts = t[0].chunk(2, 2)?;
        parts[0].mul(&parts[1])
    });
    check(
        "concat",
        vec![(values(6, 14), vec![2, 3]), (values(4, 15), vec![2, 2])],
        |t| Tensor::concat(&[t[0].clone(), t[1].clone()], 1),
    );
    // Pieces whose gradients the engine joins: disjoint with a gap, overlapping,
    // mixed with a dense use of the same tensor, and on two different axes.
    check("narrow pieces with a gap", x(), |t| {
        let a = t[0].narrow(-1, 0, 1)?;
        let b = t[0].narrow(-1, 2, 4)?.sum(&[-1], true)?;
        a.mul(&b)
    });
    check("overlapping narrows", x(), |t| {
        let a = t[0].narrow(-1, 0, 3)?;
        let b = t[0].narrow(-1, 1, 4)?;
        a.mul(&b)
    });
    check("narrow plus dense use", x(), |t| {
        let a = t[0].narrow(1, 1, 2)?;
        t[0].tanh()?.sum(&[1], true)?.mul(&a)
    });
    check("narrows on two axes", x(), |t| {
        let a = t[0].narrow(1, 0, 1)?.sum(&[-1], true)?;
        let b = t[0].narrow(-1, 3, 4)?.sum(&[1], true)?;
        a.mul(&b)
    });
    check(
        "many time steps",
        one(values(2 * 9 * 2, 16), &[2, 9, 2]),
        |t| {
            let steps = t[0].chunk(9, 1)?;
            let mut h = steps[0].tanh()?;
            for s in &steps[1..] {
                h = h.mul(s)?.add(s)?.tanh()?;
            }
            Ok(h)
        },
    );
    check("flatten+unsqueeze+squeeze", x(), |t| {
        t[0].flatten()?.unsqueeze(1)?.squeeze(1)
    });
}

#[test]
fn matmul_with_batch_dims() {
    let cases: Vec<(&[usize], &[usize])> = vec![
        (&[3, 4], &[4, 5]),
        (&[2, 3, 4], &[2, 4, 5]),
        (&[2, 3, 4], &[4, 5]),
        (&[3, 4], &[2, 4, 5]),
        (&[2, 1, 3, 4], &[3, 4, 2]),
        (&[1, 1], &[1, 1]),
    ];
    for (sa, sb) in cases {
        let na: usize = sa.iter().product();
        let nb: usize = sb.iter().product();
        check(
            "matmul",
            vec![(values(na, 21), sa.to_vec()), (values(nb, 22), sb.to_vec())],
            |t| t[0].matmul(&t[1]),
        );
    }
}

#[test]
fn softmax_and_log_softmax() {
    let x = || one(values(15, 31), &[3, 5]);
    check("softmax", x(), |t| t[0].softmax(-1));
    check("log_softmax", x(), |t| t[0].log_softmax(-1));
    check("softmax axis 0", x(), |t| t[0].softmax(0));
    check("log_softmax 3d", one(values(24, 32), &[2, 3, 4]), |t| {
        t[0].log_softmax(1)
    });
}

#[test]
fn conv2d_strides_and_padding() {
    // (input [n, h, w, c], filter [kh, kw, c, o], stride, padding)
    type Case = ([usize; 4], [usize; 4], (usize, usize), Padding);
    let cases: Vec<Case> = vec![
        ([1, 5, 5, 1], [3, 3, 1, 1], (1, 1), Padding::Valid),
        ([2, 5, 4, 2], [3, 3, 2, 3], (1, 1), Padding::Same),
        ([1, 7, 5, 2], [3, 3, 2, 2], (2, 2), Padding::Same),
        ([2, 6, 6, 1], [2, 2, 1, 2], (2, 2), Padding::Same),
        ([1, 5, 7, 3], [3, 2, 3, 2], (2, 1), Padding::Valid),
    ];
    for (xs, ws, stride, padding) in cases {
        check(
            "conv2d",
            vec![
                (values(xs.iter().product(), 41), xs.to_vec()),
                (values(ws.iter().product(), 42), ws.to_vec()),
            ],
            |t| t[0].conv2d(&t[1], stride, padding),
        );
    }
}

#[test]
fn conv2d_with_bias_and_activation_fused() {
    use tensor::UnaryOp;
    type Case = ([usize; 4], [usize; 4], (usize, usize), Padding);
    let cases: Vec<Case> = vec![
        ([2, 5, 4, 2], [3, 3, 2, 3], (1, 1), Padding::Same),
        ([1, 7, 5, 2], [3, 3, 2, 2], (2, 2), Padding::Same),
        ([1, 5, 7, 3], [1, 1, 3, 2], (1, 1), Padding::Valid),
    ];
    // Smooth activations only: a ReLU's kink may sit within H of a pre-activation
    // (the fused ReLU and leaky ReLU are compared with the unfused ops instead, in
    // tests/fused.rs).
    for act in [None, Some(UnaryOp::Tanh), Some(UnaryOp::Sigmoid)] {
        for &(xs, ws, stride, padding) in &cases {
            let o = ws[3];
            check(
                &format!("conv2d_bias_act {act:?}"),
                vec![
                    (values(xs.iter().product(), 43), xs.to_vec()),
                    (values(ws.iter().product(), 44), ws.to_vec()),
                    (values(o, 45), vec![o]),
                ],
                |t| t[0].conv2d_bias_act(&t[1], &t[2], stride, padding, act),
            );
        }
    }
}

#[test]
fn dense_with_bias_and_activation_fused() {
    use tensor::UnaryOp;
    // Smooth activations only (see conv2d_with_bias_and_activation_fused).
    for act in [None, Some(UnaryOp::Tanh), Some(UnaryOp::Sigmoid)] {
        for (xs, ws) in [(vec![3, 4], [4, 5]), (vec![2, 2, 3], [3, 2])] {
            check(
                &format!("matmul_bias_act {act:?} {xs:?}"),
                vec![
                    (values(xs.iter().product(), 46), xs.clone()),
                    (values(ws[0] * ws[1], 47), ws.to_vec()),
                    (values(ws[1], 48), vec![ws[1]]),
                ],
                |t| t[0].matmul_bias_act(&t[1], &t[2], act),
            );
        }
    }
}

#[test]
fn pooling_and_upsampling() {
    let x = || one(distinct(2 * 5 * 5 * 2, 51), &[2, 5, 5, 2]);
    check("max_pool valid", x(), |t| {
        t[0].max_pool2d((2, 2), (2, 2), Padding::Valid)
    });
    check("max_pool same", x(), |t| {
        t[0].max_pool2d((2, 2), (2, 2), Padding::Same)
    });
    check("max_pool overlapping", x(), |t| {
        t[0].max_pool2d((3, 3), (1, 1), Padding::Same)
    });
    check("avg_pool valid", x(), |t| {
        t[0].avg_pool2d((2, 2), (2, 2), Padding::Valid)
    });
    check("avg_pool same", x(), |t| {
        t[0].avg_pool2d((3, 3), (2, 2), Padding::Same)
    });
    check("upsample", one(values(12, 52), &[1, 2, 3, 2]), |t| {
        t[0].upsample_nearest2d(2, 3)
    });
}

#[test]
fn bilinear_resize_up_down_and_mixed() {
    let x = || one(values(2 * 3 * 5 * 2, 53), &[2, 3, 5, 2]);
    check("resize up", x(), |t| t[0].resize_bilinear(7, 11));
    check("resize down", x(), |t| t[0].resize_bilinear(2, 3));
    check("resize mixed", x(), |t| t[0].resize_bilinear(5, 2));
    check("resize to 1x1", x(), |t| t[0].resize_bilinear(1, 1));
}

#[test]
fn gather_and_dropout() {
    check("index_select rows", one(values(12, 61), &[4, 3]), |t| {
        t[0].index_select(0, &[2, 0, 2, 3])
    });
    check(
        "index_select middle",
        one(values(24, 62), &[2, 4, 3]),
        |t| t[0].index_select(1, &[1, 1, 3]),
    );
    // Same seed on every evaluation: the mask is fixed, so the op is linear in x.
    check("dropout", one(values(40, 63), &[4, 10]), |t| {
        t[0].dropout(0.3, 1234, true)
    });
}

#[test]
fn lstm_gate_step() {
    for forget_bias in [0.0, 1.0] {
        check(
            "lstm_cell",
            vec![
                (values(2 * 12, 71), vec![2, 12]),
                (values(2 * 3, 72), vec![2, 3]),
            ],
            |t| {
                let (c, h) = Tensor::lstm_cell(&t[0], &t[1], forget_bias)?;
                // Both outputs feed the loss, with different weights.
                c.mul_scalar(0.7)?.add(&h)
            },
        );
    }
}

#[test]
fn composite_graph_reuses_a_tensor() {
    // x is used three times: gradients must accumulate.
    check("reuse", one(values(6, 81), &[2, 3]), |t| {
        let y = t[0].mul(&t[0])?;
        y.add(&t[0].tanh()?)?.sum(&[1], true)?.mul(&t[0])
    });
}
