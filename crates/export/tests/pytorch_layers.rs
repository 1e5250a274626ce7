//! The PyTorch layout worked by hand on tiny layers: the transposes, the NCHW flatten
//! order, the LSTM's gate order and folded forget bias, and the refusal of a layer
//! with weights but no mapping.

use backend_cpu::Cpu;
use export::pytorch::{self, Entry, StateDict};
use nn::{Dense, Flatten, Lstm, Mode, Module, Param, Seeds, Sequential};
use tensor::Tensor;

fn f32s(dict: &StateDict, name: &str) -> (Vec<usize>, Vec<f32>) {
    match dict.get(name) {
        Some(Entry::F32 { shape, data }) => (shape.clone(), data.clone()),
        other => panic!("{name}: {other:?}"),
    }
}

fn set(p: &Param<Cpu>, v: Vec<f32>, shape: &[usize]) {
    p.set(Tensor::from_vec(&Cpu, v, shape.to_vec()).unwrap());
}

#[test]
fn dense_after_flatten_takes_pytorch_nchw_order() {
    // An image of 1 x 2 pixels x 2 channels. Flattened here (NHWC) the features are
    // p0c0, p0c1, p1c0, p1c1; torch.flatten of NCHW gives c0p0, c0p1, c1p0, c1p1.
    let mut s = Seeds::new(1);
    let dense = Dense::new(&Cpu, 4, 2, &mut s).unwrap();
    // kernel [in 4, out 2]: row r = (10 r, 10 r + 1).
    set(
        &dense.kernel,
        vec![0., 1., 10., 11., 20., 21., 30., 31.],
        &[4, 2],
    );
    let model = Sequential::new().add(Flatten).add(dense);
    let mut dict = StateDict::new();
    pytorch::sequential(&mut dict, "", &model, &Cpu, &[1, 2, 2]).unwrap();
    let (shape, w) = f32s(&dict, "dense.weight");
    assert_eq!(shape, vec![2, 4]);
    // weight[o][torch j] = kernel[here row of j][o]; torch j -> here row: 0->0, 1->2, 2->1, 3->3.
    assert_eq!(w, vec![0., 20., 10., 30., 1., 21., 11., 31.]);
    assert_eq!(f32s(&dict, "dense.bias").0, vec![2]);
}

#[test]
fn lstm_gates_reordered_to_ifgo_with_the_forget_bias_folded() {
    let mut s = Seeds::new(2);
    let lstm = Lstm::new(&Cpu, 1, 1, &mut s).unwrap();
    // One feature, one unit: kernel [1, 4] = blocks i, j, f, o here.
    set(&lstm.kernel, vec![1., 2., 3., 4.], &[1, 4]);
    set(&lstm.recurrent_kernel, vec![5., 6., 7., 8.], &[1, 4]);
    set(&lstm.bias, vec![0.1, 0.2, 0.3, 0.4], &[4]);
    let model = Sequential::new().add(lstm);
    let mut dict = StateDict::new();
    pytorch::sequential(&mut dict, "", &model, &Cpu, &[3, 1]).unwrap();
    // PyTorch's blocks: i, f, g (= j here), o.
    assert_eq!(
        f32s(&dict, "lstm.weight_ih_l0"),
        (vec![4, 1], vec![1., 3., 2., 4.])
    );
    assert_eq!(
        f32s(&dict, "lstm.weight_hh_l0"),
        (vec![4, 1], vec![5., 7., 6., 8.])
    );
    // forget_bias 1 joins f's bias.
    assert_eq!(f32s(&dict, "lstm.bias_ih_l0").1, vec![0.1, 1.3, 0.2, 0.4]);
    assert_eq!(f32s(&dict, "lstm.bias_hh_l0").1, vec![0.0; 4]);
}

/// A custom layer with a weight and no PyTorch mapping.
struct Scale(Param<Cpu>);
impl nn::Params<Cpu> for Scale {
    fn params(&self) -> Vec<nn::NamedParam<Cpu>> {
        vec![("scale".into(), self.0.clone())]
    }
}
impl Module<Cpu> for Scale {
    fn forward(&self, x: &Tensor<Cpu>, _mode: Mode) -> tensor::Result<Tensor<Cpu>> {
        x.mul(&self.0.value())
    }
    fn kind(&self) -> String {
        "Scale".into()
    }
}

#[test]
fn a_layer_with_weights_and_no_mapping_is_named() {
    let layer = Scale(Param::new(Tensor::ones(&Cpu, [3]).unwrap()));
    let model = Sequential::new().add(layer);
    let err = pytorch::sequential(&mut StateDict::new(), "", &model, &Cpu, &[3])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("scale") && err.contains("Scale") && err.contains("no PyTorch mapping"),
        "{err}"
    );
}

#[test]
fn state_dict_round_trips_through_safetensors_with_int64_counters() {
    let mut s = Seeds::new(3);
    let model = Sequential::<Cpu>::new()
        .add(Dense::new(&Cpu, 2, 3, &mut s).unwrap())
        .add(nn::BatchNorm::new(&Cpu, 3).unwrap());
    let mut dict = StateDict::new();
    pytorch::sequential(&mut dict, "net", &model, &Cpu, &[2]).unwrap();
    let bytes = dict.to_bytes(Default::default()).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(
        names,
        [
            "net.batch_normalization.bias",
            "net.batch_normalization.num_batches_tracked",
            "net.batch_normalization.running_mean",
            "net.batch_normalization.running_var",
            "net.batch_normalization.weight",
            "net.dense.bias",
            "net.dense.weight"
        ]
    );
    let counter = st
        .tensor("net.batch_normalization.num_batches_tracked")
        .unwrap();
    assert_eq!(counter.dtype(), safetensors::Dtype::I64);
    assert!(counter.shape().is_empty());
}

#[test]
fn dense_before_reshape_to_an_image_gives_pytorch_nchw_rows() {
    // Dense 1 -> 4 then Reshape [1, 2, 2]: here the outputs are p0c0, p0c1, p1c0, p1c1;
    // PyTorch's x.view(-1, 2, 1, 2) reads them as c0p0, c0p1, c1p0, c1p1.
    let mut s = Seeds::new(4);
    let dense = Dense::new(&Cpu, 1, 4, &mut s).unwrap();
    set(&dense.kernel, vec![0., 1., 2., 3.], &[1, 4]);
    set(dense.bias.as_ref().unwrap(), vec![10., 11., 12., 13.], &[4]);
    let model = Sequential::new()
        .add(dense)
        .add(nn::Reshape::new(&[1, 2, 2]));
    let mut dict = StateDict::new();
    pytorch::sequential(&mut dict, "", &model, &Cpu, &[1]).unwrap();
    assert_eq!(
        f32s(&dict, "dense.weight"),
        (vec![4, 1], vec![0., 2., 1., 3.])
    );
    assert_eq!(f32s(&dict, "dense.bias").1, vec![10., 12., 11., 13.]);
}

#[test]
fn weightless_layers_between_flatten_and_dense_keep_the_permutation() {
    // As dense_after_flatten_takes_pytorch_nchw_order, with Dropout and an activation
    // and a BatchNorm on the flattened features in between.
    let mut s = Seeds::new(5);
    let dense = Dense::new(&Cpu, 4, 2, &mut s).unwrap();
    set(
        &dense.kernel,
        vec![0., 1., 10., 11., 20., 21., 30., 31.],
        &[4, 2],
    );
    let bn = nn::BatchNorm::new(&Cpu, 4).unwrap();
    set(&bn.moving_mean, vec![0., 1., 2., 3.], &[4]);
    let model = Sequential::new()
        .add(Flatten)
        .add(nn::Dropout::new(0.5, &mut s).unwrap())
        .add(bn)
        .add(nn::ActivationLayer(nn::Activation::Relu))
        .add(dense);
    let mut dict = StateDict::new();
    pytorch::sequential(&mut dict, "", &model, &Cpu, &[1, 2, 2]).unwrap();
    assert_eq!(
        f32s(&dict, "dense.weight").1,
        vec![0., 20., 10., 30., 1., 21., 11., 31.]
    );
    assert_eq!(
        f32s(&dict, "batch_normalization.running_mean").1,
        vec![0., 2., 1., 3.]
    );
}

#[test]
fn batch_norm_between_dense_and_reshape_is_permuted_like_the_dense() {
    let mut s = Seeds::new(6);
    let dense = Dense::new(&Cpu, 1, 4, &mut s).unwrap();
    set(&dense.kernel, vec![0., 1., 2., 3.], &[1, 4]);
    let bn = nn::BatchNorm::new(&Cpu, 4).unwrap();
    set(&bn.gamma, vec![5., 6., 7., 8.], &[4]);
    let model = Sequential::new()
        .add(dense)
        .add(bn)
        .add(nn::ActivationLayer(nn::Activation::LeakyRelu(0.2)))
        .add(nn::Reshape::new(&[1, 2, 2]));
    let mut dict = StateDict::new();
    pytorch::sequential(&mut dict, "", &model, &Cpu, &[1]).unwrap();
    assert_eq!(f32s(&dict, "dense.weight").1, vec![0., 2., 1., 3.]);
    assert_eq!(
        f32s(&dict, "batch_normalization.weight").1,
        vec![5., 7., 6., 8.]
    );
}

#[test]
fn a_layer_with_weights_reading_flattened_image_features_is_refused() {
    let model = Sequential::new()
        .add(Flatten)
        .add(Scale(Param::new(Tensor::ones(&Cpu, [4]).unwrap())));
    let err = pytorch::sequential(&mut StateDict::new(), "", &model, &Cpu, &[1, 2, 2])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("scale") && err.contains("NHWC-flattened"),
        "{err}"
    );
}
