//! `summary()` of the seed models (SEEDS.md section 8): output shapes as Keras prints
//! them, and parameter counts from Keras' formulas:
//! Conv2D `kh * kw * c * o + o`, Dense `in * out + out`, LSTM `4 * (u * (in + u) + u)`.

use backend_cpu::Cpu;
use nn::Params;
use nn::{
    ActivationLayer, Conv2d, Dense, Dropout, Flatten, Lstm, MaxPool2d, Module, Padding,
    RepeatVector, Reshape, Seeds, Sequential, TimeDistributed, UpSampling2d, format_shape,
};

fn conv(c: usize, o: usize, k: usize, seeds: &mut Seeds) -> Conv2d<Cpu> {
    Conv2d::new(&Cpu, c, o, (k, k), seeds).unwrap()
}

fn dropout(rate: f32, seeds: &mut Seeds) -> Dropout {
    Dropout::new(rate, seeds).unwrap()
}

/// Per layer: Keras' printed output shape and the parameter count.
fn rows(model: &Sequential<Cpu>, input: &[usize]) -> Vec<(String, usize)> {
    let mut with_batch = vec![1];
    with_batch.extend_from_slice(input);
    let shapes = model.output_shapes(&Cpu, &with_batch).unwrap();
    model
        .layers()
        .iter()
        .zip(shapes)
        .map(|((_, l), s)| {
            (
                format_shape(&s),
                l.params().iter().map(|(_, p)| p.numel()).sum(),
            )
        })
        .collect()
}

fn expect(model: &Sequential<Cpu>, input: &[usize], want: &[(&str, usize)]) {
    let got = rows(model, input);
    let want: Vec<(String, usize)> = want.iter().map(|(s, n)| (s.to_string(), *n)).collect();
    assert_eq!(got, want);
    let total: usize = want.iter().map(|r| r.1).sum();
    let summary = model.summary(&Cpu, input).unwrap();
    assert!(
        summary.contains(&format!("Total params: {total}\n")),
        "{summary}"
    );
    // Every layer has a row: "name (Kind)   (None, ...)   count".
    for ((name, layer), (shape, count)) in model.layers().iter().zip(&want) {
        let label = format!("{name} ({})", layer.kind());
        let line = summary
            .lines()
            .find(|l| l.starts_with(&format!("{label} ")))
            .unwrap_or_else(|| panic!("no row for {label} in\n{summary}"));
        let cells: Vec<&str> = line[label.len()..]
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(cells, [shape.as_str(), &count.to_string()], "row {line:?}");
    }
}

fn cifar10_cnn() -> Sequential<Cpu> {
    let s = &mut Seeds::new(1);
    Sequential::new()
        .add(conv(3, 32, 3, s).padding(Padding::Same))
        .add(ActivationLayer::relu())
        .add(conv(32, 32, 3, s))
        .add(ActivationLayer::relu())
        .add(MaxPool2d::new((2, 2)))
        .add(dropout(0.25, s))
        .add(conv(32, 64, 3, s).padding(Padding::Same))
        .add(ActivationLayer::relu())
        .add(conv(64, 64, 3, s))
        .add(ActivationLayer::relu())
        .add(MaxPool2d::new((2, 2)))
        .add(dropout(0.25, s))
        .add(Flatten)
        .add(Dense::new(&Cpu, 2304, 512, s).unwrap())
        .add(ActivationLayer::relu())
        .add(dropout(0.5, s))
        .add(Dense::new(&Cpu, 512, 10, s).unwrap())
        .add(ActivationLayer::softmax())
}

#[test]
fn cifar10_cnn_summary() {
    let model = cifar10_cnn();
    expect(
        &model,
        &[32, 32, 3],
        &[
            ("(None, 32, 32, 32)", 3 * 3 * 3 * 32 + 32),
            ("(None, 32, 32, 32)", 0),
            ("(None, 30, 30, 32)", 3 * 3 * 32 * 32 + 32),
            ("(None, 30, 30, 32)", 0),
            ("(None, 15, 15, 32)", 0),
            ("(None, 15, 15, 32)", 0),
            ("(None, 15, 15, 64)", 3 * 3 * 32 * 64 + 64),
            ("(None, 15, 15, 64)", 0),
            ("(None, 13, 13, 64)", 3 * 3 * 64 * 64 + 64),
            ("(None, 13, 13, 64)", 0),
            ("(None, 6, 6, 64)", 0),
            ("(None, 6, 6, 64)", 0),
            ("(None, 2304)", 0),
            ("(None, 512)", 2304 * 512 + 512),
            ("(None, 512)", 0),
            ("(None, 512)", 0),
            ("(None, 10)", 512 * 10 + 10),
            ("(None, 10)", 0),
        ],
    );
    // The total Keras prints for this model.
    assert_eq!(model.param_counts(), (1_250_858, 0));
}

fn acgan_discriminator() -> Sequential<Cpu> {
    let s = &mut Seeds::new(2);
    let mut d = Sequential::new();
    for (c, o, stride) in [(1, 32, 2), (32, 64, 1), (64, 128, 2), (128, 256, 1)] {
        d = d
            .add(
                conv(c, o, 3, s)
                    .padding(Padding::Same)
                    .stride((stride, stride)),
            )
            .add(ActivationLayer::leaky_relu(0.2))
            .add(dropout(0.3, s));
    }
    d.add(Flatten)
}

#[test]
fn mnist_acgan_discriminator_summary() {
    let d = acgan_discriminator();
    let mut want = Vec::new();
    for (shape, params) in [
        ("(None, 14, 14, 32)", 3 * 3 * 32 + 32),
        ("(None, 14, 14, 64)", 3 * 3 * 32 * 64 + 64),
        ("(None, 7, 7, 128)", 3 * 3 * 64 * 128 + 128),
        ("(None, 7, 7, 256)", 3 * 3 * 128 * 256 + 256),
    ] {
        want.extend([(shape, params), (shape, 0), (shape, 0)]);
    }
    want.push(("(None, 12544)", 0));
    expect(&d, &[28, 28, 1], &want);
    // The two heads on the 12544 features: real/fake and the digit.
    let s = &mut Seeds::new(3);
    let fake = Sequential::new().add(Dense::new(&Cpu, 12544, 1, s).unwrap());
    let aux = Sequential::new().add(Dense::new(&Cpu, 12544, 10, s).unwrap());
    expect(&fake, &[12544], &[("(None, 1)", 12544 + 1)]);
    expect(&aux, &[12544], &[("(None, 10)", 12544 * 10 + 10)]);
}

#[test]
fn mnist_acgan_generator_summary() {
    let s = &mut Seeds::new(4);
    let relu = nn::Activation::Relu;
    let g = Sequential::new()
        .add(Dense::new(&Cpu, 100, 1024, s).unwrap().activation(relu))
        .add(
            Dense::new(&Cpu, 1024, 128 * 7 * 7, s)
                .unwrap()
                .activation(relu),
        )
        .add(Reshape::new(&[7, 7, 128]))
        .add(UpSampling2d::new((2, 2)))
        .add(conv(128, 256, 5, s).padding(Padding::Same).activation(relu))
        .add(UpSampling2d::new((2, 2)))
        .add(conv(256, 128, 5, s).padding(Padding::Same).activation(relu))
        // The Keras original ends with a 2x2 kernel; SAME pads it on the bottom/right.
        .add(
            conv(128, 1, 2, s)
                .padding(Padding::Same)
                .activation(nn::Activation::Tanh),
        );
    expect(
        &g,
        &[100],
        &[
            ("(None, 1024)", 100 * 1024 + 1024),
            ("(None, 6272)", 1024 * 6272 + 6272),
            ("(None, 7, 7, 128)", 0),
            ("(None, 14, 14, 128)", 0),
            ("(None, 14, 14, 256)", 5 * 5 * 128 * 256 + 256),
            ("(None, 28, 28, 256)", 0),
            ("(None, 28, 28, 128)", 5 * 5 * 256 * 128 + 128),
            ("(None, 28, 28, 1)", 2 * 2 * 128 + 1),
        ],
    );
}

#[test]
fn addition_rnn_summary() {
    let s = &mut Seeds::new(5);
    let model = Sequential::new()
        .add(Lstm::new(&Cpu, 12, 128, s).unwrap())
        .add(RepeatVector::new(4))
        .add(Lstm::new(&Cpu, 128, 128, s).unwrap().return_sequences(true))
        .add(TimeDistributed::new(Dense::new(&Cpu, 128, 12, s).unwrap()))
        .add(ActivationLayer::softmax());
    expect(
        &model,
        &[7, 12],
        &[
            ("(None, 128)", 4 * (128 * (12 + 128) + 128)),
            ("(None, 4, 128)", 0),
            ("(None, 4, 128)", 4 * (128 * (128 + 128) + 128)),
            ("(None, 4, 12)", 128 * 12 + 12),
            ("(None, 4, 12)", 0),
        ],
    );
}

#[test]
fn mnist_transfer_cnn_summary_and_freezing() {
    let s = &mut Seeds::new(6);
    let model = Sequential::new()
        // Feature layers.
        .add(conv(1, 32, 3, s))
        .add(ActivationLayer::relu())
        .add(conv(32, 32, 3, s))
        .add(ActivationLayer::relu())
        .add(MaxPool2d::new((2, 2)))
        .add(dropout(0.25, s))
        .add(Flatten)
        // Classification layers.
        .add(Dense::new(&Cpu, 4608, 128, s).unwrap())
        .add(ActivationLayer::relu())
        .add(dropout(0.5, s))
        .add(Dense::new(&Cpu, 128, 5, s).unwrap())
        .add(ActivationLayer::softmax());
    let features = 3 * 3 * 32 + 32 + 3 * 3 * 32 * 32 + 32;
    let head = 4608 * 128 + 128 + 128 * 5 + 5;
    expect(
        &model,
        &[28, 28, 1],
        &[
            ("(None, 26, 26, 32)", 3 * 3 * 32 + 32),
            ("(None, 26, 26, 32)", 0),
            ("(None, 24, 24, 32)", 3 * 3 * 32 * 32 + 32),
            ("(None, 24, 24, 32)", 0),
            ("(None, 12, 12, 32)", 0),
            ("(None, 12, 12, 32)", 0),
            ("(None, 4608)", 0),
            ("(None, 128)", 4608 * 128 + 128),
            ("(None, 128)", 0),
            ("(None, 128)", 0),
            ("(None, 5)", 128 * 5 + 5),
            ("(None, 5)", 0),
        ],
    );
    for (_, layer) in &model.layers()[..7] {
        layer.set_trainable(false);
    }
    assert_eq!(model.param_counts(), (head, features));
    let summary = model.summary(&Cpu, &[28, 28, 1]).unwrap();
    assert!(
        summary.contains(&format!("Trainable params: {head}\n")),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("Non-trainable params: {features}\n")),
        "{summary}"
    );
    // Keras' numbers for this example: 590,597 trainable and 9,568 frozen.
    assert_eq!((head, features), (590_597, 9_568));
}

/// `forward_to` gives every layer's output up to the one asked for: the same values as
/// running the layers one by one by hand, the last of a full run equal to `forward`;
/// an index past the end is an error naming the layer count.
#[test]
fn forward_to_returns_each_layers_output() {
    let mut seeds = Seeds::new(4);
    let model = Sequential::new()
        .add(conv(1, 3, 3, &mut seeds).padding(Padding::Same))
        .add(MaxPool2d::new((2, 2)))
        .add(Flatten)
        .add(Dense::new(&Cpu, 3 * 3 * 3, 2, &mut seeds).unwrap());
    let x = tensor::Tensor::from_vec(
        &Cpu,
        (0..36).map(|v| v as f32 / 36.0).collect(),
        [1, 6, 6, 1],
    )
    .unwrap();
    let outs = model.forward_to(&x, nn::Mode::Eval, 3).unwrap();
    let dims: Vec<&[usize]> = outs.iter().map(|t| t.dims()).collect();
    assert_eq!(
        dims,
        vec![&[1, 6, 6, 3][..], &[1, 3, 3, 3], &[1, 27], &[1, 2]]
    );
    let mut y = x.clone();
    for ((_, layer), out) in model.layers().iter().zip(&outs) {
        y = layer.forward(&y, nn::Mode::Eval).unwrap();
        assert_eq!(y.to_vec().unwrap(), out.to_vec().unwrap());
    }
    let full = model.forward(&x, nn::Mode::Eval).unwrap();
    assert_eq!(full.to_vec().unwrap(), outs[3].to_vec().unwrap());
    assert_eq!(model.forward_to(&x, nn::Mode::Eval, 1).unwrap().len(), 2);
    let err = model
        .forward_to(&x, nn::Mode::Eval, 4)
        .unwrap_err()
        .to_string();
    assert!(err.contains("past the 4 layers"), "{err}");
}
