//! Finite-difference gradient checks of every layer, with respect to its input and
//! to each of its parameters (see `common::gradcheck` for the tolerance argument).

mod common;

use backend_cpu::Cpu;
use common::{check_layer, check_params, distinct, gradcheck, t, values};
use nn::Params;
use nn::{
    Activation, ActivationLayer, AvgPool2d, BatchNorm, Conv2d, Dense, Dropout, Embedding, Flatten,
    Lstm, LstmState, MaxPool2d, Mode, Module, Padding, RepeatVector, Reshape, Seeds, Sequential,
    TimeDistributed, UpSampling2d,
};
use tensor::Tensor;

#[test]
fn dense() {
    let mut seeds = Seeds::new(1);
    let layer = Dense::new(&Cpu, 4, 3, &mut seeds).unwrap();
    // A non-zero bias so that its gradient is not trivially checked at 0.
    layer.bias.as_ref().unwrap().set(t(&values(3, 5), &[3]));
    check_layer("dense", &layer, values(8, 2), &[2, 4], Mode::Train);
    let tanh = Dense::new(&Cpu, 4, 3, &mut seeds)
        .unwrap()
        .activation(Activation::Tanh);
    check_layer("dense tanh", &tanh, values(8, 3), &[2, 4], Mode::Train);
    // Rank-3 input: the kernel applies to the last axis.
    check_layer(
        "dense rank 3",
        &layer,
        values(12, 4),
        &[1, 3, 4],
        Mode::Train,
    );
}

#[test]
fn conv2d() {
    let mut seeds = Seeds::new(2);
    let valid = Conv2d::new(&Cpu, 2, 3, (3, 3), &mut seeds).unwrap();
    valid.bias.as_ref().unwrap().set(t(&values(3, 6), &[3]));
    check_layer(
        "conv2d valid",
        &valid,
        values(2 * 5 * 5 * 2, 7),
        &[2, 5, 5, 2],
        Mode::Train,
    );

    let same = Conv2d::new(&Cpu, 2, 2, (3, 3), &mut seeds)
        .unwrap()
        .stride((2, 2))
        .padding(Padding::Same)
        .activation(Activation::Tanh);
    check_layer(
        "conv2d same stride 2",
        &same,
        values(6 * 5 * 2, 8),
        &[1, 6, 5, 2],
        Mode::Train,
    );

    // An even kernel with SAME padding puts the extra pad at the bottom/right.
    let even = Conv2d::with_init(
        &Cpu,
        1,
        2,
        (2, 2),
        nn::Init::GlorotUniform,
        false,
        &mut seeds,
    )
    .unwrap()
    .padding(Padding::Same);
    assert_eq!(even.params().len(), 1, "no bias");
    check_layer(
        "conv2d even kernel",
        &even,
        values(16, 9),
        &[1, 4, 4, 1],
        Mode::Train,
    );
}

#[test]
fn pooling() {
    // Distinct inputs: no near-ties, so the winners do not change under perturbation.
    check_layer(
        "max pool 2x2",
        &MaxPool2d::new((2, 2)),
        distinct(2 * 4 * 4 * 2, 1),
        &[2, 4, 4, 2],
        Mode::Train,
    );
    let overlapping = MaxPool2d::new((3, 3)).stride((1, 1)).padding(Padding::Same);
    check_layer(
        "max pool overlapping same",
        &overlapping,
        distinct(5 * 5, 2),
        &[1, 5, 5, 1],
        Mode::Train,
    );
    check_layer(
        "avg pool 2x2",
        &AvgPool2d::new((2, 2)),
        values(2 * 5 * 4 * 2, 3),
        &[2, 5, 4, 2],
        Mode::Train,
    );
    let avg_same = AvgPool2d::new((3, 3)).stride((2, 2)).padding(Padding::Same);
    check_layer(
        "avg pool same",
        &avg_same,
        values(5 * 5 * 2, 4),
        &[1, 5, 5, 2],
        Mode::Train,
    );
}

#[test]
fn shape_layers() {
    check_layer(
        "upsampling",
        &UpSampling2d::new((2, 3)),
        values(2 * 2 * 2 * 2, 1),
        &[2, 2, 2, 2],
        Mode::Train,
    );
    check_layer(
        "flatten",
        &Flatten,
        values(2 * 3 * 2, 2),
        &[2, 3, 2],
        Mode::Train,
    );
    check_layer(
        "reshape",
        &Reshape::new(&[2, 3]),
        values(12, 3),
        &[2, 6],
        Mode::Train,
    );
    check_layer(
        "repeat vector",
        &RepeatVector::new(3),
        values(8, 4),
        &[2, 4],
        Mode::Train,
    );
}

#[test]
fn activations() {
    let x = || values(12, 11);
    for (name, layer) in [
        ("linear", ActivationLayer::linear()),
        ("relu", ActivationLayer::relu()),
        ("leaky relu", ActivationLayer::leaky_relu(0.2)),
        ("sigmoid", ActivationLayer::sigmoid()),
        ("tanh", ActivationLayer::tanh()),
        ("softmax", ActivationLayer::softmax()),
    ] {
        check_layer(name, &layer, x(), &[3, 4], Mode::Train);
    }
}

#[test]
fn dropout_with_a_fixed_mask() {
    let mut seeds = Seeds::new(3);
    let dropout = Dropout::new(0.4, &mut seeds).unwrap();
    // Rewinding the call counter replays the same mask for every evaluation.
    gradcheck("dropout", &[], &[(values(40, 1), vec![4, 10])], |x| {
        dropout.set_calls(0);
        dropout.forward(&x[0], Mode::Train)
    });
    gradcheck("dropout eval", &[], &[(values(40, 2), vec![4, 10])], |x| {
        dropout.forward(&x[0], Mode::Eval)
    });
}

#[test]
fn batch_norm() {
    let bn = BatchNorm::new(&Cpu, 3).unwrap();
    bn.gamma.set(t(&[0.5, -1.5, 2.0], &[3]));
    bn.beta.set(t(&[0.1, 0.2, -0.3], &[3]));
    check_layer(
        "batch norm train",
        &bn,
        values(4 * 3, 1),
        &[4, 3],
        Mode::Train,
    );
    check_layer(
        "batch norm train nhwc",
        &bn,
        values(2 * 2 * 2 * 3, 2),
        &[2, 2, 2, 3],
        Mode::Train,
    );
    bn.moving_mean.set(t(&[0.3, -0.2, 0.1], &[3]));
    bn.moving_variance.set(t(&[0.5, 2.0, 1.5], &[3]));
    check_layer(
        "batch norm eval",
        &bn,
        values(4 * 3, 3),
        &[4, 3],
        Mode::Eval,
    );
}

#[test]
fn embedding() {
    let mut seeds = Seeds::new(4);
    let emb = Embedding::new(&Cpu, 5, 3, &mut seeds).unwrap();
    // Repeated ids: their gradients add up in one row.
    let ids = t(&[0., 2., 2., 4., 1., 2.], &[2, 3]);
    check_params("embedding", &emb, &ids, Mode::Train);
}

#[test]
fn lstm() {
    let mut seeds = Seeds::new(5);
    let last = Lstm::new(&Cpu, 3, 2, &mut seeds).unwrap();
    last.bias.set(t(&values(8, 21), &[8]));
    check_layer(
        "lstm last",
        &last,
        values(2 * 4 * 3, 1),
        &[2, 4, 3],
        Mode::Train,
    );
    let seq = Lstm::new(&Cpu, 3, 2, &mut seeds)
        .unwrap()
        .return_sequences(true);
    check_layer(
        "lstm sequences",
        &seq,
        values(2 * 3 * 3, 2),
        &[2, 3, 3],
        Mode::Train,
    );
    // One step from a zero state never reads the recurrent kernel: it gets no gradient.
    let without_recurrent: Vec<_> = seq
        .params()
        .into_iter()
        .filter(|(n, _)| n != "recurrent_kernel")
        .collect();
    gradcheck(
        "lstm one step",
        &without_recurrent,
        &[(values(2 * 3, 3), vec![2, 1, 3])],
        |x| seq.forward(&x[0], Mode::Train),
    );

    // Gradients reach the initial state, through both the output and the final cell.
    let inputs = [
        (values(2 * 3 * 3, 4), vec![2, 3, 3]),
        (values(4, 5), vec![2, 2]),
        (values(4, 6), vec![2, 2]),
    ];
    gradcheck("lstm initial state", &seq.params(), &inputs, |x| {
        let init = LstmState {
            h: x[1].clone(),
            c: x[2].clone(),
        };
        let (out, state) = seq.forward_with_state(&x[0], Some(&init), Mode::Train)?;
        Tensor::concat(&[out.flatten()?, state.c, state.h], 1)
    });
}

#[test]
fn time_distributed() {
    let mut seeds = Seeds::new(6);
    let td = TimeDistributed::new(Dense::new(&Cpu, 3, 2, &mut seeds).unwrap());
    td.inner.bias.as_ref().unwrap().set(t(&[0.3, -0.4], &[2]));
    check_layer(
        "time distributed dense",
        &td,
        values(2 * 4 * 3, 1),
        &[2, 4, 3],
        Mode::Train,
    );
}

#[test]
fn sequential_stack() {
    let mut seeds = Seeds::new(7);
    let model = Sequential::new()
        .add(
            Conv2d::new(&Cpu, 1, 2, (3, 3), &mut seeds)
                .unwrap()
                .padding(Padding::Same)
                .activation(Activation::Tanh),
        )
        .add(AvgPool2d::new((2, 2)))
        .add(Flatten)
        .add(Dense::new(&Cpu, 2 * 2 * 2, 3, &mut seeds).unwrap())
        .add(ActivationLayer::softmax());
    check_layer(
        "sequential",
        &model,
        values(2 * 4 * 4, 1),
        &[2, 4, 4, 1],
        Mode::Train,
    );
}

/// The check itself can fail: `x * detach(x)` has analytic gradient `x` but true
/// derivative `2x`.
#[test]
#[should_panic(expected = "analytic")]
fn gradcheck_detects_a_wrong_gradient() {
    gradcheck("wrong", &[], &[(values(6, 1), vec![2, 3])], |x| {
        x[0].mul(&x[0].detach())
    });
}

/// And a parameter whose gradient is wrong is caught too.
#[test]
#[should_panic(expected = "parameter kernel")]
fn gradcheck_detects_a_wrong_parameter_gradient() {
    let mut seeds = Seeds::new(8);
    let layer = Dense::with_init(&Cpu, 3, 2, nn::Init::GlorotUniform, false, &mut seeds).unwrap();
    gradcheck(
        "wrong param",
        &layer.params(),
        &[(values(6, 2), vec![2, 3])],
        |x| {
            let k = layer.kernel.value();
            x[0].matmul(&k.mul(&k.detach())?)
        },
    );
}

/// UpSampling2D followed by a 5x5 SAME convolution runs as one phase-decomposed
/// convolution inside `Sequential`; its gradients by finite differences.
#[test]
fn upsampling_then_conv_fused() {
    let mut seeds = Seeds::new(8);
    let conv = Conv2d::new(&Cpu, 2, 3, (5, 5), &mut seeds)
        .unwrap()
        .padding(Padding::Same)
        .activation(Activation::Tanh);
    conv.bias.as_ref().unwrap().set(t(&values(3, 4), &[3]));
    let model = Sequential::new().add(UpSampling2d::new((2, 2))).add(conv);
    check_layer(
        "upsampling + conv",
        &model,
        values(2 * 3 * 2 * 2, 5),
        &[2, 3, 2, 2],
        Mode::Train,
    );
}
