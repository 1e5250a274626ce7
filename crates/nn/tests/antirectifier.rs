//! A custom layer written as a user would, outside the crate: Keras' Antirectifier
//! example (SEEDS.md section 8), from `crates/models/src/antirectifier/layer.rs`.
//!
//! `x - mean(x, axis=1)`, then L2-normalise along axis 1, then
//! `concat(relu(x), relu(-x))`: the output has twice the features.

mod common;

use backend_cpu::Cpu;
use common::{assert_close, check_layer, t, values};
use nn::Params;
use nn::{ActivationLayer, Dense, Dropout, Mode, Module, Seeds, Sequential, format_shape};

// The layer as the `antirectifier` example binary defines it (one source).
#[path = "../../models/src/antirectifier/layer.rs"]
mod layer;
use layer::Antirectifier;

#[test]
fn forward_by_hand() {
    let x = t(&[1., 2., 4., 7., 5., 5., 5., 5.], &[2, 4]);
    let y = Antirectifier.forward(&x, Mode::Eval).unwrap();
    assert_eq!(y.dims(), &[2, 8]);
    // Row 1: mean 3.5 -> [-2.5, -1.5, 0.5, 3.5]; norm sqrt(6.25 + 2.25 + 0.25 + 12.25) = sqrt(21)
    //   = 4.5825757 -> relu part [0, 0, 0.1091089, 0.7637626], relu(-x) part [0.5455447, 0.3273268, 0, 0]
    // Row 2: constant, centred to zeros; the norm is clamped, so zeros, not NaN.
    assert_close(
        "antirectifier",
        &y.to_vec().unwrap(),
        &[
            0., 0., 0.1091089, 0.7637626, 0.5455447, 0.3273268, 0., 0., //
            0., 0., 0., 0., 0., 0., 0., 0.,
        ],
        1e-6,
    );
    assert!(
        Antirectifier
            .forward(&t(&[1.0; 8], &[2, 2, 2]), Mode::Eval)
            .is_err()
    );
    // The output-shape rule agrees with the forward pass.
    assert_eq!(Antirectifier.output_shape(&[2, 4]).unwrap(), y.dims());
    assert!(Antirectifier.output_shape(&[2, 2, 2]).is_err());
}

#[test]
fn inside_a_sequential_like_the_keras_example() {
    // Dense(256) -> Antirectifier -> Dropout(0.1) -> Dense(256) -> Antirectifier
    // -> Dropout(0.1) -> Dense(10) -> softmax, on 784 pixels.
    let s = &mut Seeds::new(1);
    let model = Sequential::new()
        .add(Dense::new(&Cpu, 784, 256, s).unwrap())
        .add(Antirectifier)
        .add(Dropout::new(0.1, s).unwrap())
        .add(Dense::new(&Cpu, 512, 256, s).unwrap())
        .add(Antirectifier)
        .add(Dropout::new(0.1, s).unwrap())
        .add(Dense::new(&Cpu, 512, 10, s).unwrap())
        .add(ActivationLayer::softmax());
    let shapes: Vec<String> = model
        .output_shapes(&Cpu, &[1, 784])
        .unwrap()
        .iter()
        .map(|d| format_shape(d))
        .collect();
    assert_eq!(
        shapes,
        [
            "(None, 256)",
            "(None, 512)",
            "(None, 512)",
            "(None, 256)",
            "(None, 512)",
            "(None, 512)",
            "(None, 10)",
            "(None, 10)"
        ]
    );
    let summary = model.summary(&Cpu, &[784]).unwrap();
    assert!(
        summary.contains("antirectifier (Antirectifier)"),
        "{summary}"
    );
    assert!(
        summary.contains("antirectifier_1 (Antirectifier)"),
        "{summary}"
    );
    // Dense: 784*256+256, 512*256+256, 512*10+10; the custom layer has none.
    let total = 784 * 256 + 256 + 512 * 256 + 256 + 512 * 10 + 10;
    assert!(
        summary.contains(&format!("Total params: {total}\n")),
        "{summary}"
    );
    // It trains like any layer: the loss falls over a few Adam steps.
    let x = t(&values(4 * 784, 2), &[4, 784]);
    let labels = [3, 1, 4, 1];
    let mut adam = nn::Adam::new(1e-3);
    let mut losses = Vec::new();
    for _ in 0..5 {
        let logits = model.forward(&x, Mode::Eval).unwrap();
        let l = nn::loss::sparse_categorical_cross_entropy(&logits, &labels).unwrap();
        losses.push(l.to_scalar().unwrap());
        nn::Optimizer::step(&mut adam, &model.params(), &l.backward().unwrap()).unwrap();
    }
    assert!(losses[4] < losses[0], "{losses:?}");
}

#[test]
fn gradients_match_finite_differences() {
    // Rows whose entries stay at least 0.175 from their mean: no relu kink within h.
    let x = vec![1., 2., 4., 7., -3., 0.5, 2., -1., 0.3, -0.8, 1.5, 0.9];
    check_layer("antirectifier", &Antirectifier, x, &[3, 4], Mode::Train);

    // Between two Dense layers, with respect to the input and every parameter.
    let s = &mut Seeds::new(3);
    let model = Sequential::new()
        .add(Dense::new(&Cpu, 3, 5, s).unwrap())
        .add(Antirectifier)
        .add(Dense::new(&Cpu, 10, 2, s).unwrap());
    let x = values(2 * 3, 4);
    // Guard the premise: the first layer's outputs are away from their row means.
    let hidden = model.layers()[0]
        .1
        .forward(&t(&x, &[2, 3]), Mode::Eval)
        .unwrap()
        .to_vec()
        .unwrap();
    for row in hidden.chunks(5) {
        let mean = row.iter().sum::<f32>() / 5.0;
        assert!(
            row.iter().all(|v| (v - mean).abs() > 0.05),
            "near a kink: {row:?}"
        );
    }
    check_layer("dense-antirectifier-dense", &model, x, &[2, 3], Mode::Train);

    // A constant row (zero norm after centring) gives finite gradients, not NaN.
    let flat = t(&[0.5; 4], &[1, 4]).requires_grad();
    let out = Antirectifier.forward(&flat, Mode::Train).unwrap();
    let w = t(&values(8, 5), &[1, 8]);
    let grads = out.mul(&w).unwrap().sum_all().unwrap().backward().unwrap();
    let g = grads.get(&flat).unwrap().to_vec().unwrap();
    assert!(g.iter().all(|v| v.is_finite()), "{g:?}");
}
