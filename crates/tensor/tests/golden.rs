//! Golden values from the seed documents and from hand calculation.

use backend_cpu::Cpu;
use tensor::{Padding, Tensor};

fn t(data: &[f32], shape: &[usize]) -> Tensor<Cpu> {
    Tensor::from_slice(&Cpu, data, shape.to_vec()).unwrap()
}

/// The 6x6 image of SEEDS.md section 4.
fn seed_image() -> Tensor<Cpu> {
    #[rustfmt::skip]
    let img = [
        1., 0., 0., 0., 0., 1.,
        0., 1., 0., 0., 1., 0.,
        0., 0., 1., 1., 0., 0.,
        1., 0., 0., 0., 1., 0.,
        0., 1., 0., 0., 1., 0.,
        0., 0., 1., 0., 1., 0.,
    ];
    t(&img, &[1, 6, 6, 1])
}

/// The 3x3 filter that picks out top-left to bottom-right diagonals (HWIO).
fn seed_filter() -> Tensor<Cpu> {
    t(&[1., -1., -1., -1., 1., -1., -1., -1., 1.], &[3, 3, 1, 1])
}

#[test]
fn seed_conv_valid_output() {
    let y = seed_image()
        .conv2d(&seed_filter(), (1, 1), Padding::Valid)
        .unwrap();
    assert_eq!(y.dims(), &[1, 4, 4, 1]);
    #[rustfmt::skip]
    let expected = [
        3., -1., -3., -1.,
        -3., 1., 0., -3.,
        -3., -3., 0., 1.,
        3., -2., -2., -1.,
    ];
    assert_eq!(y.to_vec().unwrap(), expected);
    // The article's two sums: top-left window 3, window at row 1, column 1 = 1.
    assert_eq!(y.to_vec().unwrap()[0], 3.0);
    assert_eq!(y.to_vec().unwrap()[4 + 1], 1.0);
}

#[test]
fn seed_max_pool_of_conv() {
    let y = seed_image()
        .conv2d(&seed_filter(), (1, 1), Padding::Valid)
        .unwrap();
    let p = y.max_pool2d((2, 2), (2, 2), Padding::Valid).unwrap();
    assert_eq!(p.dims(), &[1, 2, 2, 1]);
    assert_eq!(p.to_vec().unwrap(), [3., 0., 3., 1.]);
}

#[test]
fn seed_conv_same_keeps_size() {
    let y = seed_image()
        .conv2d(&seed_filter(), (1, 1), Padding::Same)
        .unwrap();
    assert_eq!(y.dims(), &[1, 6, 6, 1]);
    let v = y.to_vec().unwrap();
    // Interior windows equal the VALID result shifted by the one-pixel pad.
    assert_eq!(v[6 + 1], 3.0);
    assert_eq!(v[2 * 6 + 2], 1.0);
    // Top-left corner: only the 2x2 in-image part of the window counts:
    // img[0][0]*1 + img[0][1]*-1 + img[1][0]*-1 + img[1][1]*1 = 1 - 0 - 0 + 1 = 2.
    assert_eq!(v[0], 2.0);
}

#[test]
fn same_padding_sizes_follow_tensorflow() {
    // TF: out = ceil(in / stride); total pad = max((out - 1) * stride + k - in, 0),
    // the smaller half on top/left.
    assert_eq!(Padding::Same.output_and_pad(7, 3, 2), Some((4, 1)));
    assert_eq!(Padding::Same.output_and_pad(6, 3, 2), Some((3, 0)));
    assert_eq!(Padding::Same.output_and_pad(5, 2, 2), Some((3, 0)));
    assert_eq!(Padding::Same.output_and_pad(28, 2, 2), Some((14, 0)));
    assert_eq!(Padding::Same.output_and_pad(7, 2, 2), Some((4, 0)));
    assert_eq!(Padding::Same.output_and_pad(1, 3, 1), Some((1, 1)));
    assert_eq!(Padding::Valid.output_and_pad(32, 3, 1), Some((30, 0)));
    assert_eq!(Padding::Valid.output_and_pad(30, 2, 2), Some((15, 0)));
    assert_eq!(Padding::Valid.output_and_pad(13, 2, 2), Some((6, 0)));
    assert_eq!(Padding::Valid.output_and_pad(2, 3, 1), None);

    let x = Tensor::<Cpu>::zeros(&Cpu, [2, 7, 5, 3]).unwrap();
    let w = Tensor::<Cpu>::zeros(&Cpu, [3, 3, 3, 4]).unwrap();
    let y = x.conv2d(&w, (2, 2), Padding::Same).unwrap();
    assert_eq!(y.dims(), &[2, 4, 3, 4]);
    let p = x.max_pool2d((2, 2), (2, 2), Padding::Same).unwrap();
    assert_eq!(p.dims(), &[2, 4, 3, 3]);
}

#[test]
fn same_padding_puts_the_extra_pad_bottom_right() {
    // 1x4 row [1, 2, 3, 4], kernel 1x2 of ones, stride 2, SAME: out = 2, total pad
    // = (2-1)*2 + 2 - 4 = 0. With input 1x3 [1, 2, 3]: out 2, total pad 1, all on
    // the right: windows [1, 2] and [3, pad] -> [3, 3].
    let x = t(&[1., 2., 3.], &[1, 1, 3, 1]);
    let w = t(&[1., 1.], &[1, 2, 1, 1]);
    let y = x.conv2d(&w, (1, 2), Padding::Same).unwrap();
    assert_eq!(y.to_vec().unwrap(), [3., 3.]);
    // Kernel 3 on 1x3, stride 1: total pad 2, one each side: [0+1+2, 1+2+3, 2+3+0].
    let w3 = t(&[1., 1., 1.], &[1, 3, 1, 1]);
    let y = x.conv2d(&w3, (1, 1), Padding::Same).unwrap();
    assert_eq!(y.to_vec().unwrap(), [3., 6., 5.]);
    // Kernel 4 on 1x3, stride 1: total pad 3, 1 left and 2 right:
    // windows [p,1,2,3], [1,2,3,p], [2,3,p,p].
    let w4 = t(&[1., 10., 100., 1000.], &[1, 4, 1, 1]);
    let y = x.conv2d(&w4, (1, 1), Padding::Same).unwrap();
    assert_eq!(y.to_vec().unwrap(), [3210., 321., 32.]);
}

#[test]
fn avg_pool_same_excludes_padding() {
    // 3x3 input 1..9, 2x2 window, stride 2, SAME: out 2x2, pad 1 at bottom/right.
    let x = t(&[1., 2., 3., 4., 5., 6., 7., 8., 9.], &[1, 3, 3, 1]);
    let y = x.avg_pool2d((2, 2), (2, 2), Padding::Same).unwrap();
    // (1+2+4+5)/4 = 3, (3+6)/2 = 4.5, (7+8)/2 = 7.5, 9/1 = 9.
    assert_eq!(y.to_vec().unwrap(), [3., 4.5, 7.5, 9.]);
}

#[test]
fn lstm_gate_step_matches_hand_computation() {
    // n = 2, hidden = 2: gates are [i0 i1 j0 j1 f0 f1 o0 o1] per row.
    let gates = t(
        &[
            0.5, -1.0, -0.3, 0.8, 0.2, -0.4, 1.0, 0.1, //
            -0.7, 0.3, 0.9, -0.2, -1.5, 0.6, 0.0, -0.8,
        ],
        &[2, 8],
    );
    let c_prev = t(&[0.4, -0.6, 1.2, 0.0], &[2, 2]);
    let (c, h) = Tensor::lstm_cell(&gates, &c_prev, 1.0).unwrap();
    // c = c_prev * sigmoid(f + 1) + sigmoid(i) * tanh(j); h = tanh(c) * sigmoid(o),
    // worked out with a calculator to 6 decimals.
    let c_expected = [0.126080, -0.208807, 0.690725, -0.113381];
    let h_expected = [0.091686, -0.108053, 0.299224, -0.035001];
    for (got, want) in c.to_vec().unwrap().iter().zip(c_expected) {
        assert!((got - want).abs() < 2e-6, "c {got} vs {want}");
    }
    for (got, want) in h.to_vec().unwrap().iter().zip(h_expected) {
        assert!((got - want).abs() < 2e-6, "h {got} vs {want}");
    }
}

#[test]
fn softmax_is_stable_and_normalised() {
    let x = t(&[1000., 1001., 1002., -5., 0., 5.], &[2, 3]);
    let y = x.softmax(-1).unwrap().to_vec().unwrap();
    // softmax([0, 1, 2]) = e^k / (1 + e + e^2) = 0.090031, 0.244728, 0.665241
    let e = [0.090031, 0.244728, 0.665241];
    for k in 0..3 {
        assert!((y[k] - e[k]).abs() < 1e-6);
    }
    let ls = x.log_softmax(-1).unwrap().to_vec().unwrap();
    // log_softmax([-5, 0, 5])[0] = -10 - ln(1 + e^-5 + e^-10) = -10.006760
    assert!((ls[3] + 10.00676).abs() < 1e-5);
    assert!(ls.iter().all(|v| v.is_finite()));
}

#[test]
fn shape_errors_name_the_op_and_shapes() {
    let a = Tensor::<Cpu>::zeros(&Cpu, [2, 3]).unwrap();
    let b = Tensor::<Cpu>::zeros(&Cpu, [4, 5]).unwrap();
    let err = a.matmul(&b).unwrap_err().to_string();
    assert!(
        err.contains("matmul") && err.contains("[2, 3]") && err.contains("[4, 5]"),
        "{err}"
    );
    let err = a.add(&b).unwrap_err().to_string();
    assert!(err.contains("add") && err.contains("[2, 3]"), "{err}");
    let err = a.reshape([7]).unwrap_err().to_string();
    assert!(err.contains("reshape"), "{err}");
    let img = Tensor::<Cpu>::zeros(&Cpu, [1, 2, 2, 1]).unwrap();
    let w = Tensor::<Cpu>::zeros(&Cpu, [3, 3, 1, 1]).unwrap();
    let err = img
        .conv2d(&w, (1, 1), Padding::Valid)
        .unwrap_err()
        .to_string();
    assert!(err.contains("conv2d"), "{err}");
    assert!(a.index_select(0, &[5]).is_err());
    assert!(a.dropout(1.0, 0, true).is_err());
    assert!(Tensor::<Cpu>::from_vec(&Cpu, vec![1.0; 5], [2, 3]).is_err());
}

#[test]
fn no_grad_detach_and_frozen_leaves() {
    let w = t(&[2.0, 3.0], &[2]).requires_grad();
    let frozen = t(&[5.0, 7.0], &[2]).with_requires_grad(false);
    let y = w.mul(&frozen).unwrap().sum_all().unwrap();
    let g = y.backward().unwrap();
    assert_eq!(g.get(&w).unwrap().to_vec().unwrap(), [5.0, 7.0]);
    assert!(g.get(&frozen).is_none());

    let z = tensor::no_grad(|| w.mul(&w).unwrap());
    assert!(!z.is_tracked());
    let d = w.mul(&w).unwrap().detach();
    assert!(!d.is_tracked());
    // Gradient through a detached branch is zero: y = w * detach(w) -> dy/dw = w.
    let y = w.mul(&w.detach()).unwrap().sum_all().unwrap();
    let g = y.backward().unwrap();
    assert_eq!(g.get(&w).unwrap().to_vec().unwrap(), [2.0, 3.0]);
    assert!(t(&[1.0], &[1]).backward().is_err());
}
