//! Losses against hand calculation (mean reduction, Keras clipping), their stability
//! on extreme logits, and finite-difference gradients.

mod common;

use backend_cpu::Cpu;
use common::{gradcheck, t, values};
use nn::loss::{
    EPSILON, binary_cross_entropy, binary_cross_entropy_with_logits, categorical_cross_entropy,
    categorical_cross_entropy_with_logits, mse, sparse_categorical_cross_entropy,
    sparse_categorical_cross_entropy_with_logits,
};
use std::f64::consts::LN_2;
use tensor::Tensor;

fn scalar(x: tensor::Result<Tensor<Cpu>>) -> f64 {
    let x = x.unwrap();
    assert_eq!(x.numel(), 1);
    x.to_scalar().unwrap() as f64
}

fn close(name: &str, got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol, "{name}: got {got}, want {want}");
}

#[test]
fn binary_cross_entropy_from_logits_by_hand() {
    // max(x, 0) - x z + ln(1 + e^-|x|):
    //   x = 0,  z = 1:   0 - 0 + ln 2                = 0.6931472
    //   x = 2,  z = 0:   2 - 0 + ln(1 + e^-2)        = 2.1269280
    //   x = -3, z = 0.5: 0 + 1.5 + ln(1 + e^-3)      = 1.5485874
    //   mean = 4.3686626 / 3 = 1.4562208
    let x = t(&[0.0, 2.0, -3.0], &[3, 1]);
    let z = t(&[1.0, 0.0, 0.5], &[3, 1]);
    close(
        "bce logits",
        scalar(binary_cross_entropy_with_logits(&x, &z)),
        1.4562208,
        1e-6,
    );
    // Extreme logits stay finite: x = 100, z = 0 and x = -100, z = 1 both cost 100.
    let x = t(&[100.0, -100.0], &[2, 1]);
    let z = t(&[0.0, 1.0], &[2, 1]);
    close(
        "bce logits extreme",
        scalar(binary_cross_entropy_with_logits(&x, &z)),
        100.0,
        1e-4,
    );
    // And so do their gradients: d/dx = (sigmoid(x) - z) / n = (1 - 0) / 2 and (0 - 1) / 2.
    let xg = x.requires_grad();
    let g = binary_cross_entropy_with_logits(&xg, &z)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(g.get(&xg).unwrap().to_vec().unwrap(), [0.5, -0.5]);
}

#[test]
fn binary_cross_entropy_from_probabilities_by_hand() {
    // -(z ln p + (1 - z) ln(1 - p)): p = 0.9, z = 1 -> -ln 0.9 = 0.1053605;
    // p = 0.2, z = 0 -> -ln 0.8 = 0.2231436; mean 0.1642520
    let p = t(&[0.9, 0.2], &[2, 1]);
    let z = t(&[1.0, 0.0], &[2, 1]);
    close("bce", scalar(binary_cross_entropy(&p, &z)), 0.1642520, 1e-6);
    // Clipping to [1e-7, 1 - 1e-7] (1 - 1e-7 rounds to 1 - 2^-23 in f32, as in Keras):
    //   p = 0, z = 1 -> -ln(1e-7) = 16.1180957;  p = 1, z = 0 -> -ln(2^-23) = 23 ln 2 = 15.9423852
    //   mean = 16.0302404
    let p = t(&[0.0, 1.0], &[2, 1]);
    let z = t(&[1.0, 0.0], &[2, 1]);
    close(
        "bce clipped",
        scalar(binary_cross_entropy(&p, &z)),
        16.0302404,
        1e-4,
    );
    assert_eq!(EPSILON, 1e-7);
    // Outside the clipping range the gradient is zero (as tf.clip_by_value).
    let pg = p.requires_grad();
    let g = binary_cross_entropy(&pg, &z).unwrap().backward().unwrap();
    assert_eq!(g.get(&pg).unwrap().to_vec().unwrap(), [0.0, 0.0]);
}

#[test]
fn categorical_cross_entropy_from_logits_by_hand() {
    // Row 1: logits [1, 2, 3], one-hot class 2: ln(e + e^2 + e^3) - 3 = 3.4076060 - 3 = 0.4076060
    // Row 2: logits [0, 0, 0], soft target [0.5, 0.5, 0]: ln 3 = 1.0986123
    // mean = 0.7531091
    let x = t(&[1., 2., 3., 0., 0., 0.], &[2, 3]);
    let y = t(&[0., 0., 1., 0.5, 0.5, 0.], &[2, 3]);
    close(
        "cce logits",
        scalar(categorical_cross_entropy_with_logits(&x, &y)),
        0.7531091,
        1e-6,
    );
    // Stable: logit gap 1000 -> loss 1000, not inf.
    let x = t(&[1000., 0.], &[1, 2]);
    let y = t(&[0., 1.], &[1, 2]);
    close(
        "cce extreme",
        scalar(categorical_cross_entropy_with_logits(&x, &y)),
        1000.0,
        1e-3,
    );
}

#[test]
fn categorical_cross_entropy_from_probabilities_by_hand() {
    // -ln 0.5 = ln 2
    let y = t(&[0., 0., 1.], &[1, 3]);
    let p = t(&[0.2, 0.3, 0.5], &[1, 3]);
    close("cce", scalar(categorical_cross_entropy(&p, &y)), LN_2, 1e-6);
    // Rows are renormalised first: [1, 1, 2] / 4 = [0.25, 0.25, 0.5] -> -ln 0.5 again.
    let p = t(&[1., 1., 2.], &[1, 3]);
    close(
        "cce renormalised",
        scalar(categorical_cross_entropy(&p, &y)),
        LN_2,
        1e-6,
    );
    // A zero probability on the true class is clipped: -ln(1e-7) = 16.1180957.
    let p = t(&[0., 1.], &[1, 2]);
    let y = t(&[1., 0.], &[1, 2]);
    close(
        "cce clipped",
        scalar(categorical_cross_entropy(&p, &y)),
        16.1180957,
        1e-4,
    );
}

#[test]
fn sparse_categorical_cross_entropy_by_hand() {
    // Same rows as the dense test, labels 2 and 1: (0.4076060 + ln 3) / 2 = 0.7531091.
    let x = t(&[1., 2., 3., 0., 0., 0.], &[2, 3]);
    close(
        "sparse logits",
        scalar(sparse_categorical_cross_entropy_with_logits(&x, &[2, 1])),
        0.7531091,
        1e-6,
    );
    // (-ln 0.5 - ln 0.6) / 2 = (0.6931472 + 0.5108256) / 2 = 0.6019864
    let p = t(&[0.2, 0.3, 0.5, 0.1, 0.6, 0.3], &[2, 3]);
    close(
        "sparse",
        scalar(sparse_categorical_cross_entropy(&p, &[2, 1])),
        0.6019864,
        1e-6,
    );
    // Sequences [n, t, classes] take one label per step (addition_rnn's outputs).
    let seq = t(&[1., 2., 3., 0., 0., 0.], &[1, 2, 3]);
    close(
        "sparse sequence",
        scalar(sparse_categorical_cross_entropy_with_logits(&seq, &[2, 1])),
        0.7531091,
        1e-6,
    );
    // Wrong label count, a label out of range: errors.
    assert!(sparse_categorical_cross_entropy_with_logits(&x, &[2]).is_err());
    assert!(sparse_categorical_cross_entropy_with_logits(&x, &[2, 3]).is_err());
    assert!(sparse_categorical_cross_entropy(&p, &[0, 1, 2]).is_err());
    assert!(sparse_categorical_cross_entropy_with_logits(&t(&[1.0], &[]), &[0]).is_err());
}

#[test]
fn mean_squared_error_by_hand() {
    // ((1-0)^2 + (2-2)^2 + (3-5)^2 + (4-4)^2) / 4 = 5 / 4
    let p = t(&[1., 2., 3., 4.], &[2, 2]);
    let y = t(&[0., 2., 5., 4.], &[2, 2]);
    close("mse", scalar(mse(&p, &y)), 1.25, 1e-7);
}

#[test]
fn mismatched_shapes_are_errors() {
    let a = t(&[0.5; 6], &[2, 3]);
    let b = t(&[0.5; 6], &[3, 2]);
    let err = mse(&a, &b).unwrap_err().to_string();
    assert!(
        err.contains("mse") && err.contains("[2, 3]") && err.contains("[3, 2]"),
        "{err}"
    );
    assert!(binary_cross_entropy(&a, &b).is_err());
    assert!(binary_cross_entropy_with_logits(&a, &b).is_err());
    assert!(categorical_cross_entropy(&a, &b).is_err());
    assert!(categorical_cross_entropy_with_logits(&a, &b).is_err());
}

#[test]
fn probability_and_logit_forms_agree() {
    let x = t(&values(12, 1), &[4, 3]);
    let z = t(&[1., 0., 1., 0., 0., 1., 1., 1., 0., 0., 0., 1.], &[4, 3]);
    let a = scalar(binary_cross_entropy_with_logits(&x, &z));
    let b = scalar(binary_cross_entropy(&x.sigmoid().unwrap(), &z));
    close("bce forms", a, b, 1e-5);
    let y = t(
        &[1., 0., 0., 0., 1., 0., 0., 0., 1., 0.2, 0.3, 0.5],
        &[4, 3],
    );
    let a = scalar(categorical_cross_entropy_with_logits(&x, &y));
    let b = scalar(categorical_cross_entropy(&x.softmax(-1).unwrap(), &y));
    close("cce forms", a, b, 1e-5);
}

#[test]
fn loss_gradients_match_finite_differences() {
    let z = t(&[1., 0., 0.5, 1., 0., 0.], &[2, 3]);
    let y = t(&[0., 0., 1., 0.2, 0.3, 0.5], &[2, 3]);
    let logits = || vec![(values(6, 2), vec![2, 3])];
    // Probabilities well inside (0, 1), away from the clipping bounds.
    let probs = || {
        vec![(
            values(6, 3).iter().map(|v| 0.5 + 0.4 * v).collect(),
            vec![2, 3],
        )]
    };
    gradcheck("bce logits", &[], &logits(), |x| {
        binary_cross_entropy_with_logits(&x[0], &z)
    });
    gradcheck("bce", &[], &probs(), |x| binary_cross_entropy(&x[0], &z));
    gradcheck("cce logits", &[], &logits(), |x| {
        categorical_cross_entropy_with_logits(&x[0], &y)
    });
    gradcheck("cce", &[], &probs(), |x| {
        categorical_cross_entropy(&x[0], &y)
    });
    gradcheck("sparse logits", &[], &logits(), |x| {
        sparse_categorical_cross_entropy_with_logits(&x[0], &[2, 0])
    });
    gradcheck("sparse", &[], &probs(), |x| {
        sparse_categorical_cross_entropy(&x[0], &[1, 2])
    });
    gradcheck("mse", &[], &logits(), |x| mse(&x[0], &y));
}
