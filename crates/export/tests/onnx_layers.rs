//! Every layer the ONNX exporter knows, run in tract (an independent ONNX runtime) on
//! odd shapes and compared with the project's own forward pass in eval mode.

#[path = "common/tract.rs"]
mod tract;

use backend_cpu::Cpu;
use export::onnx::{Exporter, LayerIo, ToOnnx, sequential_graph};
use nn::{
    Activation, ActivationLayer, AvgPool2d, BatchNorm, Conv2d, Dense, Dropout, Embedding, Flatten,
    Lstm, MaxPool2d, Mode, Module, Padding, RepeatVector, Reshape, Seeds, Sequential,
    TimeDistributed, UpSampling2d,
};
use tensor::Tensor;
use tract::{Input, assert_close, run, values};

/// Exports `model` for inputs of `sample` shape, runs a batch of `batch` in tract and
/// in the project, and compares.
fn check(model: &Sequential<Cpu>, sample: &[usize], batch: usize, exporter: &Exporter) {
    let be = Cpu;
    let graph = sequential_graph(exporter, model, &be, sample, "test").expect("export");
    let mut shape = vec![batch];
    shape.extend_from_slice(sample);
    let n: usize = shape.iter().product();
    let x = values(n, 7);
    let ours = model
        .forward(
            &Tensor::from_vec(&be, x.clone(), shape.clone()).unwrap(),
            Mode::Eval,
        )
        .unwrap();
    let out = run(&graph.encode(), vec![Input::F32(shape, x)]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, ours.dims(), "output shape");
    assert_close("output", &out[0].1, &ours.to_vec().unwrap(), 1e-4);
}

/// Moving statistics that are not the initial 0 and 1, so inference form is checked.
fn shake(bn: BatchNorm<Cpu>, seed: u64) -> BatchNorm<Cpu> {
    let be = Cpu;
    let c = bn.gamma.numel();
    let set = |p: &nn::Param<Cpu>, v: Vec<f32>| p.set(Tensor::from_vec(&be, v, [c]).unwrap());
    set(
        &bn.gamma,
        values(c, seed).iter().map(|v| 1.0 + 0.5 * v).collect(),
    );
    set(&bn.beta, values(c, seed + 1));
    set(&bn.moving_mean, values(c, seed + 2));
    set(
        &bn.moving_variance,
        values(c, seed + 3).iter().map(|v| 0.6 + 0.5 * v).collect(),
    );
    bn
}

#[test]
fn dense_and_activations() {
    let be = Cpu;
    let mut s = Seeds::new(1);
    let model = Sequential::new()
        .add(
            Dense::new(&be, 7, 5, &mut s)
                .unwrap()
                .activation(Activation::Relu),
        )
        .add(
            Dense::new(&be, 5, 6, &mut s)
                .unwrap()
                .activation(Activation::LeakyRelu(0.2)),
        )
        .add(ActivationLayer(Activation::Tanh))
        .add(
            Dense::new(&be, 6, 4, &mut s)
                .unwrap()
                .activation(Activation::Sigmoid),
        )
        .add(Dropout::new(0.5, &mut s).unwrap())
        .add(
            Dense::new(&be, 4, 3, &mut s)
                .unwrap()
                .activation(Activation::Softmax),
        );
    check(&model, &[7], 3, &Exporter::new());
}

#[test]
fn convolutions_same_valid_strided_on_odd_sizes() {
    let be = Cpu;
    let mut s = Seeds::new(2);
    let model = Sequential::new()
        .add(
            Conv2d::new(&be, 3, 4, (3, 3), &mut s)
                .unwrap()
                .padding(Padding::Same)
                .activation(Activation::Relu),
        )
        .add(
            Conv2d::new(&be, 4, 5, (3, 2), &mut s)
                .unwrap()
                .stride((2, 2))
                .padding(Padding::Same),
        )
        .add(
            Conv2d::new(&be, 5, 3, (2, 3), &mut s)
                .unwrap()
                .padding(Padding::Valid)
                .activation(Activation::Tanh),
        )
        .add(
            Conv2d::new(&be, 3, 2, (2, 2), &mut s)
                .unwrap()
                .padding(Padding::Same),
        );
    check(&model, &[9, 7, 3], 2, &Exporter::new());
}

#[test]
fn pools_same_and_valid_on_odd_sizes() {
    let be = Cpu;
    let mut s = Seeds::new(3);
    let model = Sequential::new()
        .add(Conv2d::new(&be, 2, 3, (1, 1), &mut s).unwrap())
        .add(MaxPool2d::new((2, 2)).padding(Padding::Same))
        .add(AvgPool2d::new((2, 2)).padding(Padding::Same))
        .add(MaxPool2d::new((2, 2)).stride((1, 1)))
        .add(AvgPool2d::new((3, 2)).stride((1, 1)).padding(Padding::Same));
    check(&model, &[11, 9, 2], 2, &Exporter::new());
}

#[test]
fn batch_norm_on_images_and_vectors_softmax_on_images() {
    let be = Cpu;
    let mut s = Seeds::new(4);
    let images = Sequential::new()
        .add(
            Conv2d::new(&be, 3, 5, (3, 3), &mut s)
                .unwrap()
                .padding(Padding::Same),
        )
        .add(shake(BatchNorm::new(&be, 5).unwrap(), 10))
        .add(ActivationLayer(Activation::Softmax));
    check(&images, &[5, 6, 3], 3, &Exporter::new());
    let vectors = Sequential::new()
        .add(Dense::new(&be, 6, 5, &mut s).unwrap())
        .add(shake(BatchNorm::new(&be, 5).unwrap().momentum(0.8), 20));
    check(&vectors, &[6], 4, &Exporter::new());
    let sequences = Sequential::new().add(shake(BatchNorm::new(&be, 3).unwrap(), 30));
    check(&sequences, &[4, 3], 2, &Exporter::new());
}

#[test]
fn flatten_reshape_and_upsampling_keep_the_layouts_apart() {
    let be = Cpu;
    let mut s = Seeds::new(5);
    // Dense -> Reshape to an image -> upsample -> conv -> flatten -> dense: the NHWC
    // order of the flatten and the reshape must survive the NCHW convolution.
    let model = Sequential::new()
        .add(Dense::new(&be, 4, 3 * 2 * 5, &mut s).unwrap())
        .add(Reshape::new(&[3, 2, 5]))
        .add(UpSampling2d::new((2, 3)))
        .add(
            Conv2d::new(&be, 5, 4, (3, 3), &mut s)
                .unwrap()
                .padding(Padding::Same),
        )
        .add(UpSampling2d::new((2, 2)))
        .add(Flatten)
        .add(Dense::new(&be, 12 * 12 * 4, 3, &mut s).unwrap());
    check(&model, &[4], 2, &Exporter::new());
}

#[test]
fn lstm_last_state_and_sequences_repeat_vector_time_distributed() {
    let be = Cpu;
    let mut s = Seeds::new(6);
    let lstm = Lstm::new(&be, 5, 7, &mut s).unwrap();
    // A bias that is not zero, so the gate order and the folded forget bias are checked.
    lstm.bias
        .set(Tensor::from_vec(&be, values(28, 40), [28]).unwrap());
    let second = Lstm::new(&be, 7, 6, &mut s).unwrap().return_sequences(true);
    second
        .bias
        .set(Tensor::from_vec(&be, values(24, 41), [24]).unwrap());
    let model = Sequential::new()
        .add(lstm)
        .add(RepeatVector::new(3))
        .add(second)
        .add(TimeDistributed::new(
            Dense::new(&be, 6, 4, &mut s)
                .unwrap()
                .activation(Activation::Softmax),
        ));
    check(&model, &[5, 5], 2, &Exporter::new());
}

#[test]
fn embedding_of_float_ids() {
    let be = Cpu;
    let mut s = Seeds::new(7);
    let model = Sequential::new()
        .add(Embedding::new(&be, 6, 4, &mut s).unwrap())
        .add(Flatten)
        .add(Dense::new(&be, 12, 2, &mut s).unwrap());
    let graph = sequential_graph(&Exporter::new(), &model, &be, &[3], "test").unwrap();
    let ids = vec![0.0, 5.0, 2.0, 3.0, 3.0, 1.0];
    let ours = model
        .forward(
            &Tensor::from_vec(&be, ids.clone(), [2, 3]).unwrap(),
            Mode::Eval,
        )
        .unwrap();
    let out = run(&graph.encode(), vec![Input::F32(vec![2, 3], ids)]);
    assert_eq!(out[0].0, vec![2, 2]);
    assert_close("embedding", &out[0].1, &ours.to_vec().unwrap(), 1e-4);
}

/// A weightless custom layer: `x * [1, 2, 3, 4] + 1` over the last axis (the channels
/// of an NHWC image), so it is only right if it sees the project's layout.
struct ChannelAffine;
impl nn::Params<Cpu> for ChannelAffine {}
impl Module<Cpu> for ChannelAffine {
    fn forward(&self, x: &Tensor<Cpu>, _mode: Mode) -> tensor::Result<Tensor<Cpu>> {
        let scale = Tensor::from_vec(&Cpu, vec![1.0, 2.0, 3.0, 4.0], [4])?;
        x.mul(&scale)?.add_scalar(1.0)
    }
    fn kind(&self) -> String {
        "ChannelAffine".into()
    }
}
impl ToOnnx for ChannelAffine {
    fn to_onnx(
        &self,
        g: &mut export::onnx::Graph,
        x: export::onnx::Value,
        io: &LayerIo,
    ) -> nn::Result<export::onnx::Value> {
        let scale = g.weight("scale", &[4], &[1.0, 2.0, 3.0, 4.0]);
        let one = g.weight("one", &[], &[1.0]);
        let y = g.node("Mul", &format!("{}.mul", io.name), &[&x.name, &scale], &[]);
        let y = g.node("Add", io.name, &[&y, &one], &[]);
        Ok(export::onnx::Value { name: y, ..x })
    }
}

#[test]
fn custom_layers_are_registered_or_named_in_the_error() {
    let be = Cpu;
    let mut s = Seeds::new(8);
    // After a convolution, whose output is NCHW inside the graph: the custom layer must
    // still get its input in NHWC.
    let model = Sequential::new()
        .add(
            Conv2d::new(&be, 3, 4, (3, 3), &mut s)
                .unwrap()
                .padding(Padding::Same),
        )
        .add(ChannelAffine);
    let err = sequential_graph(&Exporter::new(), &model, &be, &[5, 6, 3], "test")
        .expect_err("an unregistered layer is refused")
        .to_string();
    assert!(
        err.contains("channel_affine")
            && err.contains("ChannelAffine")
            && err.contains("no ONNX mapping"),
        "{err}"
    );
    check(
        &model,
        &[5, 6, 3],
        2,
        &Exporter::new().with_layer::<ChannelAffine>(),
    );
}

#[test]
fn dense_on_sequences_is_a_matmul() {
    let be = Cpu;
    let mut s = Seeds::new(9);
    let model = Sequential::new().add(
        Dense::new(&be, 5, 3, &mut s)
            .unwrap()
            .activation(Activation::Softmax),
    );
    let graph = sequential_graph(&Exporter::new(), &model, &be, &[4, 5], "test").unwrap();
    assert!(graph.op_types().contains(&"MatMul".to_string()));
    check(&model, &[4, 5], 2, &Exporter::new());
}
