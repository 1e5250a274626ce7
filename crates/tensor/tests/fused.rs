//! `conv2d_bias_act` and `matmul_bias_act` against the three ops each fuses (conv2d
//! or matmul, add, activation; each checked by finite differences in gradcheck.rs):
//! the same bits forward and backward, on shapes that take each CPU conv path
//! (register-tiled, canvas, im2col, pointwise) and each GEMM size class, and their
//! refusals.

use backend_cpu::Cpu;
use tensor::{Padding, Tensor, UnaryOp};

fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn leaf(n: usize, shape: &[usize], seed: u64) -> Tensor<Cpu> {
    Tensor::from_vec(&Cpu, values(n, seed), shape.to_vec())
        .unwrap()
        .requires_grad()
}

fn bits(t: &Tensor<Cpu>) -> Vec<u32> {
    t.to_vec().unwrap().iter().map(|v| v.to_bits()).collect()
}

#[test]
fn fused_conv_equals_conv_add_activation_bit_for_bit() {
    // (input, filter, stride, padding): the register-tiled kernel on AVX-512 CPUs and
    // the canvas path elsewhere (stride 1, >= 8 channels each way, SAME and VALID),
    // im2col (3 input channels; stride 2), and a pointwise conv.
    type Case = ([usize; 4], [usize; 4], (usize, usize), Padding);
    let cases: [Case; 5] = [
        ([2, 9, 7, 8], [3, 3, 8, 16], (1, 1), Padding::Same),
        ([3, 8, 8, 16], [3, 3, 16, 8], (1, 1), Padding::Valid),
        ([2, 9, 9, 3], [3, 3, 3, 5], (1, 1), Padding::Same),
        ([2, 9, 7, 4], [3, 3, 4, 6], (2, 2), Padding::Same),
        ([2, 5, 5, 4], [1, 1, 4, 7], (1, 1), Padding::Valid),
    ];
    for (xs, ws, stride, padding) in cases {
        for act in ACTS {
            let x = leaf(xs.iter().product(), &xs, 1);
            let w = leaf(ws.iter().product(), &ws, 2);
            let b = leaf(ws[3], &[ws[3]], 3);
            let fused = x.conv2d_bias_act(&w, &b, stride, padding, act).unwrap();
            let pre = x.conv2d(&w, stride, padding).unwrap().add(&b).unwrap();
            let plain = match act {
                Some(op) => pre.unary(op).unwrap(),
                None => pre,
            };
            let what = format!("{xs:?} {ws:?} {stride:?} {padding:?} {act:?}");
            assert_eq!(fused.dims(), plain.dims(), "{what}");
            assert_eq!(bits(&fused), bits(&plain), "forward, {what}");
            assert_same_gradients(&fused, &plain, [&x, &w, &b], &what);
        }
    }
}

const ACTS: [Option<UnaryOp>; 6] = [
    None,
    Some(UnaryOp::Relu),
    Some(UnaryOp::LeakyRelu(0.2)),
    Some(UnaryOp::LeakyRelu(0.0)),
    Some(UnaryOp::Tanh),
    Some(UnaryOp::Sigmoid),
];

/// The gradients of `x`, `w` and the bias through `fused` and through `plain`, under
/// the same weighted sum, are the same bits.
fn assert_same_gradients(
    fused: &Tensor<Cpu>,
    plain: &Tensor<Cpu>,
    leaves: [&Tensor<Cpu>; 3],
    what: &str,
) {
    let weights = Tensor::from_vec(&Cpu, values(fused.numel(), 4), fused.dims().to_vec()).unwrap();
    let grads = |y: &Tensor<Cpu>| {
        y.mul(&weights)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap()
    };
    let (gf, gp) = (grads(fused), grads(plain));
    for (name, t) in ["x", "w", "bias"].into_iter().zip(leaves) {
        let (a, e) = (gf.get(t).unwrap(), gp.get(t).unwrap());
        assert_eq!(bits(a), bits(e), "gradient of {name}, {what}");
    }
}

#[test]
fn fused_dense_equals_matmul_add_activation_bit_for_bit() {
    // (input, weights): a tiny product, a GAN layer (batch 32, large enough to
    // thread the GEMM and the epilogue), a rank-3 input folded into rows, odd sizes.
    let cases: [(&[usize], [usize; 2]); 4] = [
        (&[3, 5], [5, 7]),
        (&[32, 256], [256, 512]),
        (&[2, 3, 9], [9, 17]),
        (&[65, 33], [33, 1]),
    ];
    for (xs, ws) in cases {
        for act in ACTS {
            let x = leaf(xs.iter().product(), xs, 5);
            let w = leaf(ws[0] * ws[1], &ws, 6);
            let b = leaf(ws[1], &[ws[1]], 7);
            let fused = x.matmul_bias_act(&w, &b, act).unwrap();
            let pre = x.matmul(&w).unwrap().add(&b).unwrap();
            let plain = match act {
                Some(op) => pre.unary(op).unwrap(),
                None => pre,
            };
            let what = format!("{xs:?} {ws:?} {act:?}");
            assert_eq!(fused.dims(), plain.dims(), "{what}");
            assert_eq!(bits(&fused), bits(&plain), "forward, {what}");
            assert_same_gradients(&fused, &plain, [&x, &w, &b], &what);
        }
    }
}

#[test]
fn fused_dense_refuses_wrong_shapes_and_an_activation_it_cannot_fuse() {
    let x = leaf(2 * 3, &[2, 3], 1);
    let w = leaf(3 * 4, &[3, 4], 2);
    let b = leaf(4, &[4], 3);
    let err = |r: tensor::Result<Tensor<Cpu>>| r.unwrap_err().to_string();
    let e = err(x.matmul_bias_act(&w, &leaf(5, &[5], 3), None));
    assert!(e.contains("matmul_bias_act") && e.contains("[4]"), "{e}");
    let e = err(x.matmul_bias_act(&leaf(8, &[2, 4], 2), &b, None));
    assert!(e.contains("matmul_bias_act") && e.contains("[k, n]"), "{e}");
    let e = err(leaf(3, &[3], 1).matmul_bias_act(&w, &b, None));
    assert!(e.contains("matmul_bias_act"), "{e}");
    for op in [UnaryOp::Exp, UnaryOp::LeakyRelu(-0.5), UnaryOp::Softplus] {
        let e = err(x.matmul_bias_act(&w, &b, Some(op)));
        assert!(e.contains("cannot be fused"), "{op:?}: {e}");
    }
}

#[test]
fn fused_conv_refuses_a_wrong_bias_and_an_activation_it_cannot_fuse() {
    let x = leaf(2 * 5 * 5 * 3, &[2, 5, 5, 3], 1);
    let w = leaf(3 * 3 * 3 * 4, &[3, 3, 3, 4], 2);
    let same = (1, 1);
    let wrong = leaf(5, &[5], 3);
    let err = x
        .conv2d_bias_act(&w, &wrong, same, Padding::Same, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("conv2d_bias_act") && err.contains("[4]"),
        "{err}"
    );
    let b = leaf(4, &[4], 3);
    for op in [UnaryOp::Exp, UnaryOp::LeakyRelu(-0.5), UnaryOp::Softplus] {
        let err = x
            .conv2d_bias_act(&w, &b, same, Padding::Same, Some(op))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot be fused"), "{op:?}: {err}");
    }
}
