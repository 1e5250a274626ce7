//! Forward values of every layer against hand calculation and the seed documents,
//! Keras kinds and names, and clear errors (never panics) on bad input.

mod common;

use backend_cpu::Cpu;
use common::{assert_close, t};
use nn::Params;
use nn::{
    ActivationLayer, AvgPool2d, Conv2d, Dense, Dropout, Embedding, Flatten, Init, Lstm, LstmState,
    MaxPool2d, Mode, Module, Padding, RepeatVector, Reshape, Seeds, Sequential, TimeDistributed,
    UpSampling2d,
};

/// The 6x6 image of SEEDS.md section 4, NHWC.
#[rustfmt::skip]
const SEED_IMAGE: [f32; 36] = [
    1., 0., 0., 0., 0., 1.,
    0., 1., 0., 0., 1., 0.,
    0., 0., 1., 1., 0., 0.,
    1., 0., 0., 0., 1., 0.,
    0., 1., 0., 0., 1., 0.,
    0., 0., 1., 0., 1., 0.,
];

/// The diagonal filter of SEEDS.md section 4, HWIO.
const SEED_FILTER: [f32; 9] = [1., -1., -1., -1., 1., -1., -1., -1., 1.];

fn seed_conv(use_bias: bool) -> Conv2d<Cpu> {
    let mut seeds = Seeds::new(0);
    let conv = Conv2d::with_init(&Cpu, 1, 1, (3, 3), Init::Zeros, use_bias, &mut seeds).unwrap();
    conv.kernel.set(t(&SEED_FILTER, &[3, 3, 1, 1]));
    conv
}

#[test]
fn conv2d_reproduces_the_seed_example() {
    let conv = seed_conv(false);
    let y = conv
        .forward(&t(&SEED_IMAGE, &[1, 6, 6, 1]), Mode::Eval)
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
    let pooled = MaxPool2d::new((2, 2)).forward(&y, Mode::Eval).unwrap();
    assert_eq!(pooled.dims(), &[1, 2, 2, 1]);
    assert_eq!(pooled.to_vec().unwrap(), [3., 0., 3., 1.]);
}

#[test]
fn conv2d_adds_bias_then_activation() {
    let conv = seed_conv(true).activation(nn::Activation::Relu);
    conv.bias.as_ref().unwrap().set(t(&[0.5], &[1]));
    let y = conv
        .forward(&t(&SEED_IMAGE, &[1, 6, 6, 1]), Mode::Eval)
        .unwrap();
    // relu(seed output + 0.5)
    #[rustfmt::skip]
    let expected = [
        3.5, 0., 0., 0.,
        0., 1.5, 0.5, 0.,
        0., 0., 0.5, 1.5,
        3.5, 0., 0., 0.,
    ];
    assert_eq!(y.to_vec().unwrap(), expected);
    assert_eq!(conv.params().len(), 2);
    assert_eq!(seed_conv(false).params().len(), 1);
}

#[test]
fn conv2d_shapes_and_errors() {
    let mut seeds = Seeds::new(1);
    let conv = Conv2d::new(&Cpu, 1, 4, (3, 3), &mut seeds).unwrap();
    // Keras defaults: stride 1, VALID.
    assert_eq!(conv.stride, (1, 1));
    assert_eq!(conv.padding, Padding::Valid);
    assert_eq!(conv.filters(), 4);
    let x = t(&vec![0.0; 28 * 28], &[1, 28, 28, 1]);
    assert_eq!(
        conv.forward(&x, Mode::Eval).unwrap().dims(),
        &[1, 26, 26, 4]
    );
    // SAME with stride 2: ceil(28 / 2) = 14.
    let strided = Conv2d::new(&Cpu, 1, 4, (3, 3), &mut seeds)
        .unwrap()
        .stride((2, 2))
        .padding(Padding::Same);
    assert_eq!(
        strided.forward(&x, Mode::Eval).unwrap().dims(),
        &[1, 14, 14, 4]
    );
    // Wrong channel count, wrong rank, too small an input: errors naming the op.
    let rgb = t(&vec![0.0; 2 * 5 * 5 * 3], &[2, 5, 5, 3]);
    let err = conv.forward(&rgb, Mode::Eval).unwrap_err().to_string();
    assert!(
        err.contains("conv2d") && err.contains("[2, 5, 5, 3]"),
        "{err}"
    );
    assert!(conv.forward(&t(&[0.0; 4], &[2, 2]), Mode::Eval).is_err());
    assert!(
        conv.forward(&t(&[0.0; 4], &[1, 2, 2, 1]), Mode::Eval)
            .is_err()
    );
    assert!(Conv2d::new(&Cpu, 1, 0, (3, 3), &mut seeds).is_err());
    assert!(Conv2d::new(&Cpu, 1, 2, (0, 3), &mut seeds).is_err());
    // A zero stride is refused at run time, not a panic.
    let zero = Conv2d::new(&Cpu, 1, 2, (3, 3), &mut seeds)
        .unwrap()
        .stride((0, 1));
    assert!(zero.forward(&x, Mode::Eval).is_err());
}

#[test]
fn pooling_by_hand() {
    let x = t(
        &(1..=16).map(|v| v as f32).collect::<Vec<_>>(),
        &[1, 4, 4, 1],
    );
    let max = MaxPool2d::new((2, 2));
    assert_eq!(
        max.stride,
        (2, 2),
        "Keras: stride defaults to the pool size"
    );
    assert_eq!(
        max.forward(&x, Mode::Eval).unwrap().to_vec().unwrap(),
        [6., 8., 14., 16.]
    );
    // (1+2+5+6)/4, (3+4+7+8)/4, (9+10+13+14)/4, (11+12+15+16)/4
    let avg = AvgPool2d::new((2, 2));
    assert_eq!(avg.stride, (2, 2));
    assert_eq!(
        avg.forward(&x, Mode::Eval).unwrap().to_vec().unwrap(),
        [3.5, 5.5, 11.5, 13.5]
    );
    // SAME on 3x3 = [[1,2,3],[4,5,6],[7,8,9]] with 2x2 windows: the pad goes bottom/right
    // and is not counted: (1+2+4+5)/4, (3+6)/2, (7+8)/2, 9/1.
    let x3 = t(
        &(1..=9).map(|v| v as f32).collect::<Vec<_>>(),
        &[1, 3, 3, 1],
    );
    let avg_same = AvgPool2d::new((2, 2)).padding(Padding::Same);
    assert_eq!(
        avg_same.forward(&x3, Mode::Eval).unwrap().to_vec().unwrap(),
        [3., 4.5, 7.5, 9.]
    );
    let max_same = MaxPool2d::new((2, 2)).padding(Padding::Same);
    assert_eq!(
        max_same.forward(&x3, Mode::Eval).unwrap().to_vec().unwrap(),
        [5., 6., 8., 9.]
    );
    // Overlapping windows, stride 1: 3x3 VALID windows of the 4x4 input.
    let overlap = MaxPool2d::new((3, 3)).stride((1, 1));
    assert_eq!(
        overlap.forward(&x, Mode::Eval).unwrap().to_vec().unwrap(),
        [11., 12., 15., 16.]
    );
    // Floor of 13 / 2 = 6, as cifar10_cnn's second pool.
    let odd = t(&vec![0.0; 13 * 13], &[1, 13, 13, 1]);
    assert_eq!(max.forward(&odd, Mode::Eval).unwrap().dims(), &[1, 6, 6, 1]);
    assert!(max.forward(&t(&[1.0; 4], &[2, 2]), Mode::Eval).is_err());
    assert!(MaxPool2d::new((0, 2)).forward(&x, Mode::Eval).is_err());
}

#[test]
fn upsampling_repeats_rows_and_columns() {
    let x = t(&[1., 2., 3., 4.], &[1, 2, 2, 1]);
    let y = UpSampling2d::new((2, 2)).forward(&x, Mode::Eval).unwrap();
    assert_eq!(y.dims(), &[1, 4, 4, 1]);
    #[rustfmt::skip]
    let expected = [
        1., 1., 2., 2.,
        1., 1., 2., 2.,
        3., 3., 4., 4.,
        3., 3., 4., 4.,
    ];
    assert_eq!(y.to_vec().unwrap(), expected);
    // Two channels, factors (1, 3): each pixel's channel pair repeated 3 times across.
    let x = t(&[1., 10., 2., 20.], &[1, 1, 2, 2]);
    let y = UpSampling2d::new((1, 3)).forward(&x, Mode::Eval).unwrap();
    assert_eq!(y.dims(), &[1, 1, 6, 2]);
    assert_eq!(
        y.to_vec().unwrap(),
        [1., 10., 1., 10., 1., 10., 2., 20., 2., 20., 2., 20.]
    );
    assert!(UpSampling2d::new((0, 2)).forward(&x, Mode::Eval).is_err());
}

#[test]
fn flatten_and_reshape() {
    let data: Vec<f32> = (0..24).map(|v| v as f32).collect();
    let x = t(&data, &[2, 3, 2, 2]);
    let flat = Flatten.forward(&x, Mode::Eval).unwrap();
    assert_eq!(flat.dims(), &[2, 12]);
    assert_eq!(flat.to_vec().unwrap(), data, "row-major order is kept");
    let back = Reshape::new(&[3, 2, 2]).forward(&flat, Mode::Eval).unwrap();
    assert_eq!(back.dims(), &[2, 3, 2, 2]);
    assert_eq!(back.to_vec().unwrap(), data);
    let err = Reshape::new(&[5, 2])
        .forward(&flat, Mode::Eval)
        .unwrap_err()
        .to_string();
    assert!(err.contains("Reshape") && err.contains("12"), "{err}");
    assert!(Flatten.forward(&t(&[1.0], &[]), Mode::Eval).is_err());
}

#[test]
fn repeat_vector_copies_each_sample() {
    let x = t(&[1., 2., 3., 4.], &[2, 2]);
    let y = RepeatVector::new(3).forward(&x, Mode::Eval).unwrap();
    assert_eq!(y.dims(), &[2, 3, 2]);
    assert_eq!(
        y.to_vec().unwrap(),
        [1., 2., 1., 2., 1., 2., 3., 4., 3., 4., 3., 4.]
    );
    assert!(
        RepeatVector::new(3)
            .forward(&t(&[1.0; 8], &[2, 2, 2]), Mode::Eval)
            .is_err()
    );
}

#[test]
fn time_distributed_applies_the_layer_at_every_step() {
    let mut seeds = Seeds::new(2);
    let dense = Dense::new(&Cpu, 3, 2, &mut seeds).unwrap();
    dense.kernel.set(t(&[1., 2., 3., 4., 5., 6.], &[3, 2]));
    dense.bias.as_ref().unwrap().set(t(&[0.5, -0.5], &[2]));
    let td = TimeDistributed::new(dense);
    let x = t(&[1., 2., 3., 0., 1., 0.], &[1, 2, 3]);
    let y = td.forward(&x, Mode::Eval).unwrap();
    assert_eq!(y.dims(), &[1, 2, 2]);
    // step 0: [1,2,3] K = [1+6+15, 2+8+18] = [22, 28], + b = [22.5, 27.5]
    // step 1: [0,1,0] K = [3, 4], + b = [3.5, 3.5]
    assert_eq!(y.to_vec().unwrap(), [22.5, 27.5, 3.5, 3.5]);
    assert_eq!(Module::<Cpu>::kind(&td), "TimeDistributed");
    assert_eq!(td.params().len(), 2);
    assert!(td.forward(&t(&[1., 2., 3.], &[1, 3]), Mode::Eval).is_err());
}

#[test]
fn embedding_looks_up_rows() {
    let mut seeds = Seeds::new(3);
    let emb = Embedding::new(&Cpu, 3, 2, &mut seeds).unwrap();
    emb.embeddings.set(t(&[0., 0., 1., 10., 2., 20.], &[3, 2]));
    let y = emb
        .forward(&t(&[2., 0., 1., 1.], &[2, 2]), Mode::Eval)
        .unwrap();
    assert_eq!(y.dims(), &[2, 2, 2]);
    assert_eq!(y.to_vec().unwrap(), [2., 20., 0., 0., 1., 10., 1., 10.]);
    // A single id per sample, as the ACGAN's class label: [n, 1] -> [n, 1, d].
    let y = emb.forward(&t(&[1., 2.], &[2, 1]), Mode::Eval).unwrap();
    assert_eq!(y.dims(), &[2, 1, 2]);
    for bad in [3.0, -1.0, 1.5, f32::NAN, f32::INFINITY, 1e30] {
        let err = emb
            .forward(&t(&[0., bad], &[1, 2]), Mode::Eval)
            .unwrap_err()
            .to_string();
        assert!(err.contains("Embedding"), "{err}");
    }
    assert!(Embedding::new(&Cpu, 0, 2, &mut seeds).is_err());
}

#[test]
fn embedding_init_is_keras_uniform() {
    let mut seeds = Seeds::new(4);
    let emb = Embedding::new(&Cpu, 100, 50, &mut seeds).unwrap();
    let w = emb.embeddings.value().to_vec().unwrap();
    assert!(w.iter().all(|v| (-0.05..=0.05).contains(v)));
    // Uniform(-0.05, 0.05): mean 0 with standard error 0.0289 / sqrt(5000) = 4.1e-4;
    // extremes of 5000 draws reach within 0.0005 of the limits.
    let mean = w.iter().map(|&v| v as f64).sum::<f64>() / w.len() as f64;
    assert!(mean.abs() < 0.002, "mean {mean}");
    let max = w.iter().cloned().fold(f32::MIN, f32::max);
    let min = w.iter().cloned().fold(f32::MAX, f32::min);
    assert!(max > 0.049 && min < -0.049, "range [{min}, {max}]");
}

/// An LSTM with one feature and one unit, weights set by hand.
fn tiny_lstm(return_sequences: bool) -> Lstm<Cpu> {
    let mut seeds = Seeds::new(5);
    let lstm = Lstm::new(&Cpu, 1, 1, &mut seeds)
        .unwrap()
        .return_sequences(return_sequences);
    // Gate order i, j, f, o.
    lstm.kernel.set(t(&[0.5, -0.4, 0.3, 0.8], &[1, 4]));
    lstm.recurrent_kernel
        .set(t(&[0.2, 0.1, -0.3, 0.5], &[1, 4]));
    lstm.bias.set(t(&[0.1, 0.0, -0.1, 0.2], &[4]));
    lstm
}

#[test]
fn lstm_by_hand() {
    // Step 1, x = 1, h = c = 0: gates = x Wx + b = [0.6, -0.4, 0.2, 1.0]
    //   c1 = 0 * sigmoid(0.2 + 1) + sigmoid(0.6) tanh(-0.4) = 0.6456563 * -0.3799490 = -0.2453164
    //   h1 = tanh(c1) sigmoid(1.0) = -0.2405110 * 0.7310586 = -0.1758276
    // Step 2, x = -2: gates = -2 Wx + h1 Wh + b
    //   = [-1 + 0.2 h1 + 0.1, 0.8 + 0.1 h1, -0.6 - 0.3 h1 - 0.1, -1.6 + 0.5 h1 + 0.2]
    //   = [-0.9351655, 0.7824172, -0.6472517, -1.4879138]
    //   c2 = c1 sigmoid(0.3527483) + sigmoid(-0.9351655) tanh(0.7824172)
    //      = -0.2453164 * 0.5872839 + 0.2818779 * 0.6540919 = 0.0403037
    //   h2 = tanh(c2) sigmoid(-1.4879138) = 0.0402819 * 0.1842351 = 0.0074213
    let x = t(&[1.0, -2.0], &[1, 2, 1]);
    let seq = tiny_lstm(true).forward(&x, Mode::Eval).unwrap();
    assert_eq!(seq.dims(), &[1, 2, 1]);
    assert_close(
        "lstm sequence",
        &seq.to_vec().unwrap(),
        &[-0.1758276, 0.0074213],
        1e-6,
    );
    let (last, state) = tiny_lstm(false)
        .forward_with_state(&x, None, Mode::Eval)
        .unwrap();
    assert_eq!(last.dims(), &[1, 1]);
    assert_close("lstm last h", &last.to_vec().unwrap(), &[0.0074213], 1e-6);
    assert_close(
        "lstm final c",
        &state.c.to_vec().unwrap(),
        &[0.0403037],
        1e-6,
    );
    assert_eq!(state.h.to_vec().unwrap(), last.to_vec().unwrap());
}

#[test]
fn lstm_from_an_initial_state() {
    // h0 = 0.5, c0 = -1, x = 1: gates = Wx + 0.5 Wh + b = [0.7, -0.35, 0.05, 1.25]
    //   c = -1 * sigmoid(1.05) + sigmoid(0.7) tanh(-0.35)
    //     = -0.7407749 + 0.6681878 * -0.3363755 = -0.9655369
    //   h = tanh(c) sigmoid(1.25) = -0.7467365 * 0.7772999 = -0.5804381
    let lstm = tiny_lstm(false);
    let init = LstmState {
        h: t(&[0.5], &[1, 1]),
        c: t(&[-1.0], &[1, 1]),
    };
    let (h, state) = lstm
        .forward_with_state(&t(&[1.0], &[1, 1, 1]), Some(&init), Mode::Eval)
        .unwrap();
    assert_close("h", &h.to_vec().unwrap(), &[-0.5804381], 1e-6);
    assert_close("c", &state.c.to_vec().unwrap(), &[-0.9655369], 1e-6);
    // Feeding the state back step by step equals one pass over the sequence.
    let full = tiny_lstm(true);
    let x = t(&[1.0, -2.0], &[1, 2, 1]);
    let whole = full.forward(&x, Mode::Eval).unwrap().to_vec().unwrap();
    let (h1, s1) = full
        .forward_with_state(&t(&[1.0], &[1, 1, 1]), None, Mode::Eval)
        .unwrap();
    let (h2, _) = full
        .forward_with_state(&t(&[-2.0], &[1, 1, 1]), Some(&s1), Mode::Eval)
        .unwrap();
    assert_eq!(whole, [h1.to_vec().unwrap()[0], h2.to_vec().unwrap()[0]]);
    // Mis-shaped state and input are errors.
    let bad = LstmState {
        h: t(&[0.0; 2], &[1, 2]),
        c: t(&[0.0], &[1, 1]),
    };
    assert!(lstm.forward_with_state(&x, Some(&bad), Mode::Eval).is_err());
    assert!(lstm.forward(&t(&[1.0; 4], &[1, 2, 2]), Mode::Eval).is_err());
    assert!(lstm.forward(&t(&[1.0; 2], &[1, 2]), Mode::Eval).is_err());
    assert!(lstm.forward(&t(&[], &[1, 0, 1]), Mode::Eval).is_err());
}

#[test]
fn lstm_init_is_keras() {
    let mut seeds = Seeds::new(6);
    let (features, units) = (12, 16);
    let lstm = Lstm::new(&Cpu, features, units, &mut seeds).unwrap();
    assert_eq!(lstm.forget_bias, 1.0);
    assert!(!lstm.return_sequences);
    let names: Vec<String> = lstm.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["kernel", "recurrent_kernel", "bias"]);
    // Kernel: Glorot uniform with limit sqrt(6 / (12 + 64)) = 0.2809757.
    let k = lstm.kernel.value();
    assert_eq!(k.dims(), &[features, 4 * units]);
    assert!(k.to_vec().unwrap().iter().all(|v| v.abs() <= 0.2809758));
    // Recurrent kernel [16, 64]: orthonormal rows, W W^T = I.
    let r = lstm.recurrent_kernel.value();
    assert_eq!(r.dims(), &[units, 4 * units]);
    let gram = r
        .matmul(&r.transpose(0, 1).unwrap())
        .unwrap()
        .to_vec()
        .unwrap();
    for i in 0..units {
        for j in 0..units {
            let want = if i == j { 1.0 } else { 0.0 };
            assert!(
                (gram[i * units + j] - want).abs() < 1e-5,
                "gram[{i}][{j}] = {}",
                gram[i * units + j]
            );
        }
    }
    assert!(
        lstm.bias
            .value()
            .to_vec()
            .unwrap()
            .iter()
            .all(|&b| b == 0.0)
    );
}

#[test]
fn activation_layers() {
    let x = t(&[-1.0, 2.0], &[1, 2]);
    let run = |l: ActivationLayer, x: &tensor::Tensor<Cpu>| {
        l.forward(x, Mode::Eval).unwrap().to_vec().unwrap()
    };
    assert_eq!(run(ActivationLayer::linear(), &x), [-1.0, 2.0]);
    assert_eq!(run(ActivationLayer::relu(), &x), [0.0, 2.0]);
    assert_eq!(run(ActivationLayer::leaky_relu(0.2), &x), [-0.2, 2.0]);
    let zero = t(&[0.0], &[1, 1]);
    assert_eq!(run(ActivationLayer::sigmoid(), &zero), [0.5]);
    assert_eq!(run(ActivationLayer::tanh(), &zero), [0.0]);
    // softmax([0, ln 3]) = [1, 3] / 4
    let s = run(ActivationLayer::softmax(), &t(&[0.0, 3f32.ln()], &[1, 2]));
    assert_close("softmax", &s, &[0.25, 0.75], 1e-6);
    let kind = |l: ActivationLayer| Module::<Cpu>::kind(&l);
    assert_eq!(kind(ActivationLayer::relu()), "ReLU");
    assert_eq!(kind(ActivationLayer::leaky_relu(0.3)), "LeakyReLU");
    assert_eq!(kind(ActivationLayer::tanh()), "Activation");
    assert_eq!(kind(nn::Activation::Softmax.into()), "Activation");
}

#[test]
fn dropout_rejects_bad_rates() {
    let mut seeds = Seeds::new(7);
    for rate in [1.0, -0.1, 1.5, f32::NAN] {
        assert!(Dropout::new(rate, &mut seeds).is_err(), "rate {rate}");
    }
    assert_eq!(Dropout::new(0.0, &mut seeds).unwrap().rate(), 0.0);
}

#[test]
fn keras_kinds_and_layer_names() {
    let mut seeds = Seeds::new(8);
    let model: Sequential<Cpu> = Sequential::new()
        .add(Conv2d::new(&Cpu, 1, 2, (3, 3), &mut seeds).unwrap())
        .add(Conv2d::new(&Cpu, 2, 2, (3, 3), &mut seeds).unwrap())
        .add(MaxPool2d::new((2, 2)))
        .add(AvgPool2d::new((1, 1)))
        .add(UpSampling2d::new((2, 2)))
        .add(Flatten)
        .add(Reshape::new(&[4, 2]))
        .add(Lstm::new(&Cpu, 2, 3, &mut seeds).unwrap())
        .add(RepeatVector::new(2))
        .add(TimeDistributed::new(
            Dense::new(&Cpu, 3, 2, &mut seeds).unwrap(),
        ))
        .add(Dropout::new(0.5, &mut seeds).unwrap())
        .add(Flatten)
        .add(Embedding::new(&Cpu, 3, 2, &mut seeds).unwrap());
    let names: Vec<String> = model
        .layers()
        .iter()
        .map(|(n, l)| format!("{n} ({})", l.kind()))
        .collect();
    assert_eq!(
        names,
        [
            "conv2d (Conv2D)",
            "conv2d_1 (Conv2D)",
            "max_pooling2d (MaxPooling2D)",
            "average_pooling2d (AveragePooling2D)",
            "up_sampling2d (UpSampling2D)",
            "flatten (Flatten)",
            "reshape (Reshape)",
            "lstm (LSTM)",
            "repeat_vector (RepeatVector)",
            "time_distributed (TimeDistributed)",
            "dropout (Dropout)",
            "flatten_1 (Flatten)",
            "embedding (Embedding)",
        ]
    );
    let params: Vec<String> = model.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        params,
        [
            "conv2d.kernel",
            "conv2d.bias",
            "conv2d_1.kernel",
            "conv2d_1.bias",
            "lstm.kernel",
            "lstm.recurrent_kernel",
            "lstm.bias",
            "time_distributed.kernel",
            "time_distributed.bias",
            "embedding.embeddings",
        ]
    );
}

/// `Sequential` runs UpSampling2D -> stride-1 SAME Conv2D as one phase-decomposed
/// convolution. Checked against the two steps run separately (the upsampling op, then
/// the convolution op): values and the gradients of the input, kernel and bias, on odd
/// sizes, unequal factors and kernel shapes, with and without the rewrite applying.
#[test]
fn upsampling_then_same_conv_matches_the_two_steps() {
    use common::values;
    // (kernel, factors, input h, w, channels in, out, whether the rewrite applies)
    let cases = [
        ((5, 5), (2, 2), 3, 5, 3, 4, true),
        ((3, 3), (2, 2), 4, 3, 2, 3, false),
        ((5, 3), (2, 3), 2, 3, 2, 2, true),
        ((4, 5), (2, 2), 3, 3, 1, 2, true),
        ((7, 7), (3, 2), 2, 2, 2, 1, true),
        ((2, 2), (2, 2), 3, 2, 2, 2, false),
        ((5, 5), (1, 1), 3, 4, 2, 2, false),
    ];
    for (seed, (k, f, h, w, ci, co, fused)) in cases.into_iter().enumerate() {
        let name = format!("kernel {k:?} factors {f:?} input {h}x{w}x{ci}");
        let mut seeds = Seeds::new(seed as u64);
        let model = Sequential::new().add(UpSampling2d::new(f)).add(
            Conv2d::new(&Cpu, ci, co, k, &mut seeds)
                .unwrap()
                .padding(Padding::Same)
                .activation(nn::Activation::Tanh),
        );
        let conv = match model.layers()[1].1.params().as_slice() {
            [(_, kernel), (_, bias)] => (kernel.clone(), bias.clone()),
            _ => panic!("conv params"),
        };
        conv.1.set(t(&values(co, seed as u64 + 9), &[co]));
        let x = t(&values(2 * h * w * ci, seed as u64), &[2, h, w, ci]).requires_grad();
        let probe = t(
            &values(2 * h * f.0 * w * f.1 * co, seed as u64 + 3),
            &[2, h * f.0, w * f.1, co],
        );

        let run = |y: tensor::Tensor<Cpu>| {
            let loss = y.mul(&probe).unwrap().sum_all().unwrap();
            let g = loss.backward().unwrap();
            let param = |p: &nn::Param<Cpu>| p.grad(&g).unwrap().to_vec().unwrap();
            (
                y.to_vec().unwrap(),
                g.get(&x).unwrap().to_vec().unwrap(),
                param(&conv.0),
                param(&conv.1),
            )
        };
        let got = run(model.forward(&x, Mode::Train).unwrap());
        let upsampled = x.upsample_nearest2d(f.0, f.1).unwrap();
        let want = run(model.layers()[1]
            .1
            .forward(&upsampled, Mode::Train)
            .unwrap());

        assert_eq!(
            model.fused_upsampling(),
            if fused { vec![1] } else { vec![] },
            "{name}: rewrite applies"
        );
        let close = |what: &str, a: &[f32], b: &[f32]| {
            let want: Vec<f64> = b.iter().map(|&v| v as f64).collect();
            assert_close(&format!("{name}: {what}"), a, &want, 1e-4);
        };
        close("output", &got.0, &want.0);
        close("input gradient", &got.1, &want.1);
        close("kernel gradient", &got.2, &want.2);
        close("bias gradient", &got.3, &want.3);
    }
}
