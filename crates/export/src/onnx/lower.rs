//! The ONNX nodes of each `nn` layer.

use super::graph::{Attr, Dim, Elem, Graph, Layout, Value};
use nn::{
    Activation, ActivationLayer, AvgPool2d, BatchNorm, Conv2d, Dense, Dropout, Embedding, Flatten,
    Lstm, MaxPool2d, Module, Padding, Param, RepeatVector, Reshape, Sequential, TimeDistributed,
    UpSampling2d,
};
use std::any::{Any, TypeId, type_name};
use tensor::{Backend, Error};

/// What the exporter knows of one layer's place in the model: its name and the shapes
/// (batch dimension included, in the project's layout) of its input and output, found
/// by running the model once on a probe input.
#[derive(Clone, Copy, Debug)]
pub struct LayerIo<'a> {
    pub name: &'a str,
    pub input: &'a [usize],
    pub output: &'a [usize],
}

/// A layer of one's own that the exporter can write: the ONNX nodes computing its
/// forward pass (in eval mode) from `x`, which arrives in the project's layout (NHWC
/// for images, as the layer's `forward` sees it). Register the type with
/// [`Exporter::with_layer`].
pub trait ToOnnx {
    fn to_onnx(&self, g: &mut Graph, x: Value, io: &LayerIo) -> nn::Result<Value>;
}

type Lower = fn(&dyn Any, &mut Graph, Value, &LayerIo) -> nn::Result<Value>;

/// Walks a model and writes its ONNX nodes: the `nn` layers it knows, plus the custom
/// layers registered with [`Exporter::with_layer`] (Keras' `custom_objects`).
#[derive(Clone, Default)]
pub struct Exporter {
    custom: Vec<(TypeId, Lower)>,
}

fn tensor_error(reason: String) -> nn::Error {
    Error::argument("ONNX export", reason).into()
}

/// The error for a layer without an ONNX mapping.
pub fn unsupported(io: &LayerIo, kind: &str, why: &str) -> nn::Error {
    tensor_error(format!(
        "layer {} ({kind}) has no ONNX mapping{why}; a layer of one's own implements \
         export::onnx::ToOnnx and is registered with Exporter::with_layer",
        io.name
    ))
}

/// A parameter's shape and values.
pub fn param_data<B: Backend>(p: &Param<B>) -> nn::Result<(Vec<usize>, Vec<f32>)> {
    let v = p.value();
    Ok((v.dims().to_vec(), v.to_vec()?))
}

/// `x` with NCHW axes (a 4-D value in the project's NHWC gets a `Transpose`).
pub fn channels_first(g: &mut Graph, x: Value) -> Value {
    if x.rank != 4 || x.layout == Layout::ChannelsFirst {
        return x;
    }
    let name = g.node(
        "Transpose",
        &format!("{}.nchw", x.name),
        &[&x.name],
        &[("perm", Attr::Ints(vec![0, 3, 1, 2]))],
    );
    Value {
        name,
        rank: 4,
        layout: Layout::ChannelsFirst,
    }
}

/// `x` in the project's layout (an NCHW value gets a `Transpose` back to NHWC).
pub fn ours(g: &mut Graph, x: Value) -> Value {
    if x.layout == Layout::Ours {
        return x;
    }
    let name = g.node(
        "Transpose",
        &format!("{}.nhwc", x.name),
        &[&x.name],
        &[("perm", Attr::Ints(vec![0, 2, 3, 1]))],
    );
    Value::new(name, x.rank)
}

/// `op(x)` keeping `x`'s rank and layout.
fn unary(g: &mut Graph, op: &str, hint: &str, x: &Value, attrs: &[(&str, Attr)]) -> Value {
    Value {
        name: g.node(op, hint, &[&x.name], attrs),
        ..x.clone()
    }
}

/// An activation function (`Softmax` over the last axis of the project's layout).
pub fn activation(g: &mut Graph, x: Value, act: Activation, hint: &str) -> Value {
    match act {
        Activation::Linear => x,
        Activation::Relu => unary(g, "Relu", hint, &x, &[]),
        Activation::LeakyRelu(a) => unary(g, "LeakyRelu", hint, &x, &[("alpha", Attr::Float(a))]),
        Activation::Sigmoid => unary(g, "Sigmoid", hint, &x, &[]),
        Activation::Tanh => unary(g, "Tanh", hint, &x, &[]),
        Activation::Softmax => {
            let x = ours(g, x);
            unary(g, "Softmax", hint, &x, &[("axis", Attr::Int(-1))])
        }
    }
}

/// ONNX `pads` (`[top, left, bottom, right]`) for a window of `k` at `stride` over an
/// NHWC input, from TensorFlow's padding rules (SAME puts the odd cell at the end).
fn pads(
    io: &LayerIo,
    k: (usize, usize),
    stride: (usize, usize),
    padding: Padding,
) -> nn::Result<Vec<i64>> {
    let [_, h, w, _] = io.input else {
        return Err(tensor_error(format!(
            "layer {} needs a 4-D input, got {:?}",
            io.name, io.input
        )));
    };
    let side = |size: usize, k: usize, s: usize| -> nn::Result<(i64, i64)> {
        let (out, before) = padding.output_and_pad(size, k, s).ok_or_else(|| {
            tensor_error(format!(
                "layer {}: no output for input {:?}",
                io.name, io.input
            ))
        })?;
        let after = ((out - 1) * s + k).saturating_sub(size + before);
        Ok((before as i64, after as i64))
    };
    let (top, bottom) = side(*h, k.0, stride.0)?;
    let (left, right) = side(*w, k.1, stride.1)?;
    Ok(vec![top, left, bottom, right])
}

/// Keras' kernel `[in, out]` as it is; ONNX `Gemm`/`MatMul` take the same order.
fn dense<B: Backend>(g: &mut Graph, d: &Dense<B>, x: Value, io: &LayerIo) -> nn::Result<Value> {
    let x = ours(g, x);
    let (kdims, kernel) = param_data(&d.kernel)?;
    let w = g.weight(&format!("{}.kernel", io.name), &kdims, &kernel);
    let bias = match &d.bias {
        Some(b) => {
            let (bdims, bias) = param_data(b)?;
            Some(g.weight(&format!("{}.bias", io.name), &bdims, &bias))
        }
        None => None,
    };
    let name = if x.rank == 2 {
        let mut inputs = vec![x.name.as_str(), w.as_str()];
        if let Some(b) = &bias {
            inputs.push(b);
        }
        g.node("Gemm", io.name, &inputs, &[])
    } else {
        let y = g.node("MatMul", io.name, &[&x.name, &w], &[]);
        match &bias {
            Some(b) => g.node("Add", &format!("{}.add", io.name), &[&y, b], &[]),
            None => y,
        }
    };
    let y = Value::new(name, x.rank);
    Ok(activation(g, y, d.activation, &format!("{}.act", io.name)))
}

/// The kernel HWIO becomes ONNX's OIHW.
fn conv2d<B: Backend>(g: &mut Graph, c: &Conv2d<B>, x: Value, io: &LayerIo) -> nn::Result<Value> {
    let (kdims, kernel) = param_data(&c.kernel)?;
    let [kh, kw, ci, co] = kdims[..] else {
        return Err(tensor_error(format!(
            "layer {}: kernel shape {kdims:?}",
            io.name
        )));
    };
    let oihw = crate::layout::hwio_to_oihw(&kernel, [kh, kw, ci, co]);
    let pads = pads(io, (kh, kw), c.stride, c.padding)?;
    let x = channels_first(g, x);
    let w = g.weight(&format!("{}.kernel", io.name), &[co, ci, kh, kw], &oihw);
    let mut inputs = vec![x.name.clone(), w];
    if let Some(b) = &c.bias {
        let (bdims, bias) = param_data(b)?;
        inputs.push(g.weight(&format!("{}.bias", io.name), &bdims, &bias));
    }
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let name = g.node(
        "Conv",
        io.name,
        &inputs,
        &[
            ("kernel_shape", Attr::Ints(vec![kh as i64, kw as i64])),
            (
                "strides",
                Attr::Ints(vec![c.stride.0 as i64, c.stride.1 as i64]),
            ),
            ("pads", Attr::Ints(pads)),
            ("dilations", Attr::Ints(vec![1, 1])),
            ("group", Attr::Int(1)),
        ],
    );
    let y = Value {
        name,
        rank: 4,
        layout: Layout::ChannelsFirst,
    };
    Ok(activation(g, y, c.activation, &format!("{}.act", io.name)))
}

fn pool(
    g: &mut Graph,
    op: &str,
    size: (usize, usize),
    stride: (usize, usize),
    padding: Padding,
    x: Value,
    io: &LayerIo,
) -> nn::Result<Value> {
    let pads = pads(io, size, stride, padding)?;
    let x = channels_first(g, x);
    let mut attrs = vec![
        (
            "kernel_shape",
            Attr::Ints(vec![size.0 as i64, size.1 as i64]),
        ),
        (
            "strides",
            Attr::Ints(vec![stride.0 as i64, stride.1 as i64]),
        ),
        ("pads", Attr::Ints(pads)),
    ];
    if op == "AveragePool" {
        // TensorFlow's SAME average leaves the padded cells out of the count.
        attrs.push(("count_include_pad", Attr::Int(0)));
    }
    Ok(unary(g, op, io.name, &x, &attrs))
}

/// Inference form: the moving statistics.
fn batch_norm<B: Backend>(
    g: &mut Graph,
    bn: &BatchNorm<B>,
    x: Value,
    io: &LayerIo,
) -> nn::Result<Value> {
    let (dims, gamma) = param_data(&bn.gamma)?;
    let (_, beta) = param_data(&bn.beta)?;
    let (_, mean) = param_data(&bn.moving_mean)?;
    let (_, var) = param_data(&bn.moving_variance)?;
    if x.rank == 4 || x.rank == 2 {
        let x = channels_first(g, x);
        let n = io.name;
        let inputs = [
            x.name.clone(),
            g.weight(&format!("{n}.gamma"), &dims, &gamma),
            g.weight(&format!("{n}.beta"), &dims, &beta),
            g.weight(&format!("{n}.moving_mean"), &dims, &mean),
            g.weight(&format!("{n}.moving_variance"), &dims, &var),
        ];
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let name = g.node(
            "BatchNormalization",
            n,
            &inputs,
            &[("epsilon", Attr::Float(bn.epsilon))],
        );
        return Ok(Value { name, ..x });
    }
    // Other ranks normalise the last axis, which ONNX's op (channels at axis 1) does not:
    // the same arithmetic as two broadcast ops.
    let x = ours(g, x);
    let scale: Vec<f32> = gamma
        .iter()
        .zip(&var)
        .map(|(g, v)| g / (v + bn.epsilon).sqrt())
        .collect();
    let shift: Vec<f32> = beta
        .iter()
        .zip(&mean)
        .zip(&scale)
        .map(|((b, m), s)| b - m * s)
        .collect();
    let s = g.weight(&format!("{}.scale", io.name), &dims, &scale);
    let t = g.weight(&format!("{}.shift", io.name), &dims, &shift);
    let y = g.node("Mul", &format!("{}.mul", io.name), &[&x.name, &s], &[]);
    let y = g.node("Add", io.name, &[&y, &t], &[]);
    Ok(Value::new(y, x.rank))
}

/// The gate blocks of the project's LSTM are i, j (the candidate), f, o; ONNX's are
/// i, o, f, c. Returns the project's block for each ONNX block.
const ONNX_GATES: [usize; 4] = [0, 3, 2, 1];

/// `[rows, 4 units]` (the project's columns) to ONNX's `[4 units, rows]` in i, o, f, c.
fn lstm_matrix(m: &[f32], rows: usize, units: usize) -> Vec<f32> {
    crate::layout::gate_blocks(m, rows, units, ONNX_GATES)
}

/// ONNX's `LSTM` on `[time, batch, features]`; the run-time forget bias is folded into
/// the input bias (`Wb`), the recurrent bias (`Rb`) is zero.
fn lstm<B: Backend>(g: &mut Graph, l: &Lstm<B>, x: Value, io: &LayerIo) -> nn::Result<Value> {
    let x = ours(g, x);
    let units = l.units();
    let (kdims, kernel) = param_data(&l.kernel)?;
    let (_, recurrent) = param_data(&l.recurrent_kernel)?;
    let (_, bias) = param_data(&l.bias)?;
    let features = kdims[0];
    let mut b = vec![0.0; 8 * units];
    for (onnx, &ours) in ONNX_GATES.iter().enumerate() {
        for k in 0..units {
            let forget = if ours == 2 { l.forget_bias } else { 0.0 };
            b[onnx * units + k] = bias[ours * units + k] + forget;
        }
    }
    let n = io.name;
    let w = g.weight(
        &format!("{n}.W"),
        &[1, 4 * units, features],
        &lstm_matrix(&kernel, features, units),
    );
    let r = g.weight(
        &format!("{n}.R"),
        &[1, 4 * units, units],
        &lstm_matrix(&recurrent, units, units),
    );
    let b = g.weight(&format!("{n}.B"), &[1, 8 * units], &b);
    let tnf = g.node(
        "Transpose",
        &format!("{n}.time_major"),
        &[&x.name],
        &[("perm", Attr::Ints(vec![1, 0, 2]))],
    );
    let outs = g.node_n(
        "LSTM",
        n,
        &[&tnf, &w, &r, &b],
        2,
        &[
            ("hidden_size", Attr::Int(units as i64)),
            ("direction", Attr::Str("forward".into())),
        ],
    );
    if l.return_sequences {
        // Y: [time, 1, batch, units] -> [batch, time, units].
        let axes = g.ints(&format!("{n}.axes"), &[1]);
        let y = g.node("Squeeze", &format!("{n}.squeeze"), &[&outs[0], &axes], &[]);
        let y = g.node(
            "Transpose",
            &format!("{n}.batch_major"),
            &[&y],
            &[("perm", Attr::Ints(vec![1, 0, 2]))],
        );
        Ok(Value::new(y, 3))
    } else {
        // Y_h: [1, batch, units] -> [batch, units].
        let axes = g.ints(&format!("{n}.axes"), &[0]);
        let y = g.node("Squeeze", &format!("{n}.last"), &[&outs[1], &axes], &[]);
        Ok(Value::new(y, 2))
    }
}

impl Exporter {
    /// An exporter for the `nn` layers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a layer type of one's own (its [`ToOnnx`] impl writes its nodes).
    pub fn with_layer<T: ToOnnx + Any>(mut self) -> Self {
        fn lower<T: ToOnnx + Any>(
            any: &dyn Any,
            g: &mut Graph,
            x: Value,
            io: &LayerIo,
        ) -> nn::Result<Value> {
            match any.downcast_ref::<T>() {
                Some(layer) => layer.to_onnx(g, x, io),
                None => Err(tensor_error(format!(
                    "layer {} is not a {}",
                    io.name,
                    type_name::<T>()
                ))),
            }
        }
        self.custom.push((TypeId::of::<T>(), lower::<T>));
        self
    }

    /// The nodes of a [`Sequential`] applied to `x`, whose shape (batch included, in
    /// the project's layout) is `input`; returns the last layer's output.
    pub fn sequential<B: Backend>(
        &self,
        g: &mut Graph,
        model: &Sequential<B>,
        backend: &B,
        x: Value,
        input: &[usize],
    ) -> nn::Result<Value> {
        let shapes = model.output_shapes(backend, input)?;
        let mut x = x;
        let mut prev = input.to_vec();
        for ((name, layer), shape) in model.layers().iter().zip(&shapes) {
            let io = LayerIo {
                name,
                input: &prev,
                output: shape,
            };
            x = self.layer(g, &**layer, backend, x, &io)?;
            prev = shape.clone();
        }
        Ok(x)
    }

    /// The nodes of one layer.
    pub fn layer<B: Backend>(
        &self,
        g: &mut Graph,
        layer: &dyn Module<B>,
        backend: &B,
        x: Value,
        io: &LayerIo,
    ) -> nn::Result<Value> {
        let any: &dyn Any = layer;
        let id = any.type_id();
        if let Some((_, lower)) = self.custom.iter().find(|(t, _)| *t == id) {
            // A layer of one's own sees its input in the project's layout, as its
            // forward pass does.
            let x = ours(g, x);
            return lower(any, g, x, io);
        }
        if let Some(d) = any.downcast_ref::<Dense<B>>() {
            return dense(g, d, x, io);
        }
        if let Some(c) = any.downcast_ref::<Conv2d<B>>() {
            return conv2d(g, c, x, io);
        }
        if let Some(p) = any.downcast_ref::<MaxPool2d>() {
            return pool(g, "MaxPool", p.pool_size, p.stride, p.padding, x, io);
        }
        if let Some(p) = any.downcast_ref::<AvgPool2d>() {
            return pool(g, "AveragePool", p.pool_size, p.stride, p.padding, x, io);
        }
        if let Some(bn) = any.downcast_ref::<BatchNorm<B>>() {
            return batch_norm(g, bn, x, io);
        }
        if any.is::<Dropout>() {
            // Inference: the identity.
            return Ok(x);
        }
        if let Some(a) = any.downcast_ref::<ActivationLayer>() {
            return Ok(activation(g, x, a.0, io.name));
        }
        if any.is::<Flatten>() {
            let x = ours(g, x);
            let y = g.node("Flatten", io.name, &[&x.name], &[("axis", Attr::Int(1))]);
            return Ok(Value::new(y, 2));
        }
        if let Some(r) = any.downcast_ref::<Reshape>() {
            let x = ours(g, x);
            let mut shape = vec![0i64];
            shape.extend(r.target.iter().map(|&d| d as i64));
            let s = g.ints(&format!("{}.shape", io.name), &shape);
            let y = g.node("Reshape", io.name, &[&x.name, &s], &[]);
            return Ok(Value::new(y, shape.len()));
        }
        if let Some(u) = any.downcast_ref::<UpSampling2d>() {
            // Keras' nearest upsampling repeats rows and columns: source = floor(dest / s).
            let x = channels_first(g, x);
            let scales = g.weight(
                &format!("{}.scales", io.name),
                &[4],
                &[1.0, 1.0, u.size.0 as f32, u.size.1 as f32],
            );
            let name = g.node(
                "Resize",
                io.name,
                &[&x.name, "", &scales],
                &[
                    ("mode", Attr::Str("nearest".into())),
                    (
                        "coordinate_transformation_mode",
                        Attr::Str("asymmetric".into()),
                    ),
                    ("nearest_mode", Attr::Str("floor".into())),
                ],
            );
            return Ok(Value { name, ..x });
        }
        if let Some(r) = any.downcast_ref::<RepeatVector>() {
            let x = ours(g, x);
            let axes = g.ints(&format!("{}.axes", io.name), &[1]);
            let y = g.node(
                "Unsqueeze",
                &format!("{}.unsqueeze", io.name),
                &[&x.name, &axes],
                &[],
            );
            // n copies concatenated: what Expand or Tile would compute, but tract
            // 0.23's optimiser fails on an LSTM whose input it sees as a broadcast
            // (Expand and Tile both are to it).
            let copies: Vec<&str> = (0..r.n).map(|_| y.as_str()).collect();
            let y = g.node("Concat", io.name, &copies, &[("axis", Attr::Int(1))]);
            return Ok(Value::new(y, 3));
        }
        if let Some(l) = any.downcast_ref::<Lstm<B>>() {
            return lstm(g, l, x, io);
        }
        if let Some(e) = any.downcast_ref::<Embedding<B>>() {
            // The project feeds ids as f32; ONNX's Gather takes integers.
            let x = ours(g, x);
            let (dims, table) = param_data(&e.embeddings)?;
            let t = g.weight(&format!("{}.embeddings", io.name), &dims, &table);
            let ids = g.node(
                "Cast",
                &format!("{}.ids", io.name),
                &[&x.name],
                &[("to", Attr::Int(7))],
            );
            let y = g.node("Gather", io.name, &[&t, &ids], &[("axis", Attr::Int(0))]);
            return Ok(Value::new(y, x.rank + 1));
        }
        if let Some(s) = any.downcast_ref::<Sequential<B>>() {
            return self.sequential(g, s, backend, x, io.input);
        }
        if let Some(t) = any.downcast_ref::<TimeDistributed<Dense<B>>>() {
            return self.time_distributed(g, &t.inner, backend, x, io);
        }
        if let Some(t) = any.downcast_ref::<TimeDistributed<Box<dyn Module<B>>>>() {
            return self.time_distributed(g, &*t.inner, backend, x, io);
        }
        if let Some(t) = any.downcast_ref::<TimeDistributed<Sequential<B>>>() {
            return self.time_distributed(g, &t.inner, backend, x, io);
        }
        Err(unsupported(io, &layer.kind(), ""))
    }

    /// The inner layer on `[batch * time, ...]`, then the time axis restored.
    fn time_distributed<B: Backend>(
        &self,
        g: &mut Graph,
        inner: &dyn Module<B>,
        backend: &B,
        x: Value,
        io: &LayerIo,
    ) -> nn::Result<Value> {
        let (&[batch, time, ..], &[_, _, ..]) = (io.input, io.output) else {
            return Err(tensor_error(format!(
                "layer {}: TimeDistributed needs [batch, time, ...], got {:?}",
                io.name, io.input
            )));
        };
        let x = ours(g, x);
        let mut folded_in = vec![batch * time];
        folded_in.extend_from_slice(&io.input[2..]);
        let mut folded_out = vec![batch * time];
        folded_out.extend_from_slice(&io.output[2..]);
        let mut shape = vec![-1i64];
        shape.extend(io.input[2..].iter().map(|&d| d as i64));
        let s = g.ints(&format!("{}.fold", io.name), &shape);
        let y = g.node(
            "Reshape",
            &format!("{}.folded", io.name),
            &[&x.name, &s],
            &[],
        );
        let inner_io = LayerIo {
            name: io.name,
            input: &folded_in,
            output: &folded_out,
        };
        let y = self.layer(g, inner, backend, Value::new(y, folded_in.len()), &inner_io)?;
        let y = ours(g, y);
        let mut shape = vec![-1i64, time as i64];
        shape.extend(io.output[2..].iter().map(|&d| d as i64));
        let s = g.ints(&format!("{}.unfold", io.name), &shape);
        let y = g.node(
            "Reshape",
            &format!("{}.unfolded", io.name),
            &[&y.name, &s],
            &[],
        );
        Ok(Value::new(y, io.output.len()))
    }
}

/// The input and output dimensions of a graph whose batch is symbolic: `shape` with its
/// first dimension replaced by [`Dim::Batch`].
pub fn batch_dims(shape: &[usize]) -> Vec<Dim> {
    let mut dims = vec![Dim::Batch];
    dims.extend(shape.iter().skip(1).map(|&d| Dim::Fixed(d)));
    dims
}

/// A whole [`Sequential`] model as an ONNX graph: input `input` of `sample` shape
/// (batch excluded, the project's layout), output `output` in the project's layout.
pub fn sequential_graph<B: Backend>(
    exporter: &Exporter,
    model: &Sequential<B>,
    backend: &B,
    sample: &[usize],
    name: &str,
) -> nn::Result<Graph> {
    let mut input = vec![1];
    input.extend_from_slice(sample);
    let out_shape = model
        .output_shapes(backend, &input)?
        .last()
        .cloned()
        .unwrap_or_else(|| input.clone());
    let mut g = Graph::new(name);
    let x = g.input("input", Elem::F32, &batch_dims(&input));
    let y = exporter.sequential(&mut g, model, backend, x, &input)?;
    let y = ours(&mut g, y);
    g.output(&y, "output", Elem::F32, &batch_dims(&out_shape));
    Ok(g)
}
