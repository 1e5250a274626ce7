//! Weights in PyTorch's layout: the names, shapes and orders of the equivalent
//! `torch.nn` modules' `state_dict`, written as safetensors
//! (`torch.nn.Module.load_state_dict(safetensors.torch.load_file(path))`).
//!
//! Each layer of a [`Sequential`] becomes an attribute of the PyTorch module named as
//! the layer is here (`conv2d`, `dense_1`, ...), so its entries are `<layer>.<param>`:
//!
//! | here (Keras) | PyTorch module | entries |
//! |---|---|---|
//! | `Dense` kernel `[in, out]`, bias | `nn.Linear(in, out)` | `weight [out, in]` (transposed), `bias [out]` |
//! | `Conv2d` kernel `[kh, kw, in, out]` (HWIO), bias | `nn.Conv2d(in, out, (kh, kw), stride, padding)` | `weight [out, in, kh, kw]`, `bias [out]` |
//! | `BatchNorm` gamma, beta, moving mean and variance | `nn.BatchNorm1d`/`2d(c, eps=epsilon, momentum=1 - momentum)` | `weight`, `bias`, `running_mean`, `running_var`, `num_batches_tracked` (int64, 0: not tracked here) |
//! | `Lstm` kernel `[in, 4h]`, recurrent kernel `[h, 4h]`, bias `[4h]`, blocks i, j, f, o; `forget_bias` added at run time | `nn.LSTM(in, h, batch_first=True)` | `weight_ih_l0 [4h, in]`, `weight_hh_l0 [4h, h]`, `bias_ih_l0 [4h]`, `bias_hh_l0 [4h]`, blocks i, f, g, o; the forget bias folded into `bias_ih_l0`, `bias_hh_l0` zero |
//! | `Embedding` `[n, d]` | `nn.Embedding(n, d)` | `weight [n, d]` |
//! | `TimeDistributed(layer)` | the layer itself (PyTorch's layers apply to the last axis) | the layer's |
//!
//! Layouts: PyTorch's images are NCHW. A `Dense` right after a `Flatten` of an image
//! reads the features in NHWC order here and in NCHW order (`torch.flatten(x, 1)`) in
//! PyTorch, so its weight's columns are permuted to PyTorch's order; a `Dense` right
//! before a `Reshape` to `[h, w, c]` gets its rows (and bias) permuted so that
//! PyTorch's `x.view(-1, c, h, w)` finds the same image. The PyTorch module then takes
//! and returns NCHW images.
//!
//! The same holds with weightless layers (Dropout, activations) and BatchNorms on the
//! flattened features in between (the BatchNorm's vectors are permuted alike); another
//! layer with weights there has no mapping and is refused.
//!
//! Padding: TensorFlow's `SAME` at stride 1 is `padding="same"` in PyTorch (which also
//! puts the odd cell at the end); `VALID` is `padding=0`. PyTorch has no `"same"` at a
//! stride above 1: pad first with `F.pad(x, (left, right, top, bottom))` by TensorFlow's
//! rule (the odd cell at the end), then convolve with `padding=0`. A BatchNorm on
//! sequences `[batch, time, features]` is a `BatchNorm1d` over `x.transpose(1, 2)`.
//! Activations are functions (`F.relu`, `F.leaky_relu(x, alpha)`, `torch.tanh`, ...)
//! with no entries.

use crate::onnx::param_data as data;
use nn::{
    ActivationLayer, BatchNorm, Conv2d, Dense, Dropout, Embedding, Flatten, Lstm, Module, Reshape,
    Sequential, TimeDistributed,
};
use safetensors::tensor::{Dtype, TensorView};
use std::any::Any;
use std::collections::HashMap;
use std::path::Path;
use tensor::{Backend, Error};

/// One entry of a state dict.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    F32 { shape: Vec<usize>, data: Vec<f32> },
    I64 { shape: Vec<usize>, data: Vec<i64> },
}

impl Entry {
    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Entry::F32 { shape, .. } | Entry::I64 { shape, .. } => shape,
        }
    }
}

/// A PyTorch `state_dict`: names in insertion order (the modules' order).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateDict {
    pub entries: Vec<(String, Entry)>,
}

fn export_error(reason: String) -> nn::Error {
    Error::argument("PyTorch export", reason).into()
}

impl StateDict {
    /// An empty state dict.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an f32 entry.
    pub fn f32(&mut self, name: String, shape: Vec<usize>, data: Vec<f32>) {
        self.entries.push((name, Entry::F32 { shape, data }));
    }

    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, e)| e)
    }

    /// Writes the entries as safetensors, atomically (never a half-written file).
    pub fn save(&self, path: &Path, metadata: HashMap<String, String>) -> nn::Result<()> {
        nn::checkpoint::write_atomic(path, &self.to_bytes(metadata)?)
    }

    /// The safetensors bytes of the entries (with `metadata` in the header).
    pub fn to_bytes(&self, metadata: HashMap<String, String>) -> nn::Result<Vec<u8>> {
        let path = Path::new("state dict");
        let raw: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = self
            .entries
            .iter()
            .map(|(n, e)| match e {
                Entry::F32 { shape, data } => (
                    n.clone(),
                    Dtype::F32,
                    shape.clone(),
                    data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                ),
                Entry::I64 { shape, data } => (
                    n.clone(),
                    Dtype::I64,
                    shape.clone(),
                    data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                ),
            })
            .collect();
        let views = raw
            .iter()
            .map(|(n, dtype, shape, bytes)| {
                TensorView::new(*dtype, shape.clone(), bytes)
                    .map(|v| (n.clone(), v))
                    .map_err(|e| nn::Error::file(path, format!("tensor {n}: {e}")))
            })
            .collect::<nn::Result<Vec<_>>>()?;
        let meta = (!metadata.is_empty()).then_some(metadata);
        safetensors::serialize(views, meta).map_err(|e| nn::Error::file(path, e))
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// The LSTM's blocks here are i, j (the candidate), f, o; PyTorch's i, f, g, o. The
/// block here for each PyTorch block.
const TORCH_GATES: [usize; 4] = [0, 2, 1, 3];

/// Index of feature `(y, x, ch)` of an `[h, w, c]` image flattened NHWC (here) and NCHW
/// (PyTorch): `nhwc[torch] = here`.
fn nchw_to_nhwc(h: usize, w: usize, c: usize) -> Vec<usize> {
    let mut map = vec![0; h * w * c];
    for ch in 0..c {
        for y in 0..h {
            for x in 0..w {
                map[(ch * h + y) * w + x] = (y * w + x) * c + ch;
            }
        }
    }
    map
}

/// Adds the entries of `model`'s layers under `prefix` (empty for the top level);
/// `sample` is one input's shape (batch excluded, the project's layout).
pub fn sequential<B: Backend>(
    dict: &mut StateDict,
    prefix: &str,
    model: &Sequential<B>,
    backend: &B,
    sample: &[usize],
) -> nn::Result<()> {
    let mut input = vec![1];
    input.extend_from_slice(sample);
    let shapes = model.output_shapes(backend, &input)?;
    let layers = model.layers();
    let perms = layout_permutations(layers, &input, &shapes)?;
    for (i, (name, layer)) in layers.iter().enumerate() {
        let layer_in = if i == 0 { &input } else { &shapes[i - 1] };
        let (in_perm, out_perm) = &perms[i];
        layer_entries(
            dict,
            &join(prefix, name),
            &**layer,
            backend,
            &layer_in[1..],
            in_perm.as_deref(),
            out_perm.as_deref(),
        )?;
    }
    Ok(())
}

/// Layers that leave a feature vector's order alone and have no weights, so a
/// Flatten or Reshape may sit on the other side of them.
fn passes_features<B: Backend>(layer: &dyn Module<B>) -> bool {
    let any: &dyn Any = layer;
    any.is::<Dropout>() || any.is::<ActivationLayer>()
}

/// For each layer, the permutations (`perm[torch] = here`) of its inputs and outputs
/// that make PyTorch's NCHW flatten and view orders read what NHWC does here: the
/// Dense (and any BatchNorm on the same features) between a Flatten of an image and
/// the next layer with weights, and between a layer with weights and a Reshape to an
/// image. A layer with weights of another kind there has no mapping.
#[allow(clippy::type_complexity)]
fn layout_permutations<B: Backend>(
    layers: &[(String, Box<dyn Module<B>>)],
    input: &[usize],
    shapes: &[Vec<usize>],
) -> nn::Result<Vec<(Option<Vec<usize>>, Option<Vec<usize>>)>> {
    let mut perms = vec![(None, None); layers.len()];
    for (i, (name, layer)) in layers.iter().enumerate() {
        let any: &dyn Any = &**layer;
        let layer_in = if i == 0 { input } else { &shapes[i - 1] };
        // A Flatten of an image: the features after it are NHWC-ordered.
        if any.is::<Flatten>()
            && let [_, h, w, c] = layer_in[..]
        {
            let perm = nchw_to_nhwc(h, w, c);
            for (j, (next_name, next)) in layers.iter().enumerate().skip(i + 1) {
                let n: &dyn Any = &**next;
                if n.is::<BatchNorm<B>>() {
                    perms[j].0 = Some(perm.clone());
                } else if n.is::<Dense<B>>() {
                    perms[j].0 = Some(perm.clone());
                    break;
                } else if !passes_features(&**next) {
                    if next.params().is_empty() {
                        break;
                    }
                    return Err(export_error(format!(
                        "layer {next_name} ({}) reads the NHWC-flattened features of {name}; \
                         only a Dense (or a BatchNorm) there has a PyTorch mapping",
                        next.kind()
                    )));
                }
            }
        }
        // A Reshape to an image: the features before it must be NHWC-ordered.
        if let Some(r) = any.downcast_ref::<Reshape>()
            && let [h, w, c] = r.target[..]
        {
            let perm = nchw_to_nhwc(h, w, c);
            for (j, (prev_name, prev)) in layers.iter().enumerate().take(i).rev() {
                let p: &dyn Any = &**prev;
                if p.is::<BatchNorm<B>>() {
                    perms[j].1 = Some(perm.clone());
                } else if p.is::<Dense<B>>() {
                    perms[j].1 = Some(perm.clone());
                    break;
                } else if !passes_features(&**prev) {
                    if prev.params().is_empty() {
                        break;
                    }
                    return Err(export_error(format!(
                        "layer {prev_name} ({}) writes the features that {name} reshapes to an \
                         image; only a Dense (or a BatchNorm) there has a PyTorch mapping",
                        prev.kind()
                    )));
                }
            }
        }
    }
    Ok(perms)
}

/// The entries of one layer called `name`. `in_perm`/`out_perm` reorder a `Dense`'s
/// inputs/outputs to PyTorch's (`perm[torch] = here`).
pub fn layer_entries<B: Backend>(
    dict: &mut StateDict,
    name: &str,
    layer: &dyn Module<B>,
    backend: &B,
    sample: &[usize],
    in_perm: Option<&[usize]>,
    out_perm: Option<&[usize]>,
) -> nn::Result<()> {
    let any: &dyn Any = layer;
    if let Some(d) = any.downcast_ref::<Dense<B>>() {
        let (dims, k) = data(&d.kernel)?;
        let (n_in, n_out) = (dims[0], dims[1]);
        let mut w = vec![0.0; k.len()];
        for o in 0..n_out {
            let src_o = out_perm.map_or(o, |p| p[o]);
            for i in 0..n_in {
                let src_i = in_perm.map_or(i, |p| p[i]);
                w[o * n_in + i] = k[src_i * n_out + src_o];
            }
        }
        dict.f32(join(name, "weight"), vec![n_out, n_in], w);
        if let Some(b) = &d.bias {
            let (bdims, b) = data(b)?;
            let b = match out_perm {
                Some(p) => p.iter().map(|&s| b[s]).collect(),
                None => b,
            };
            dict.f32(join(name, "bias"), bdims, b);
        }
        return Ok(());
    }
    if let Some(c) = any.downcast_ref::<Conv2d<B>>() {
        let (dims, k) = data(&c.kernel)?;
        let [kh, kw, ci, co] = dims[..] else {
            return Err(export_error(format!("{name}: kernel shape {dims:?}")));
        };
        let w = crate::layout::hwio_to_oihw(&k, [kh, kw, ci, co]);
        dict.f32(join(name, "weight"), vec![co, ci, kh, kw], w);
        if let Some(b) = &c.bias {
            let (bdims, b) = data(b)?;
            dict.f32(join(name, "bias"), bdims, b);
        }
        return Ok(());
    }
    if let Some(bn) = any.downcast_ref::<BatchNorm<B>>() {
        let perm = in_perm.or(out_perm);
        for (entry, p) in [
            ("weight", &bn.gamma),
            ("bias", &bn.beta),
            ("running_mean", &bn.moving_mean),
            ("running_var", &bn.moving_variance),
        ] {
            let (dims, v) = data(p)?;
            let v = match perm {
                Some(perm) => perm.iter().map(|&s| v[s]).collect(),
                None => v,
            };
            dict.f32(join(name, entry), dims, v);
        }
        dict.entries.push((
            join(name, "num_batches_tracked"),
            Entry::I64 {
                shape: vec![],
                data: vec![0],
            },
        ));
        return Ok(());
    }
    if let Some(l) = any.downcast_ref::<Lstm<B>>() {
        let u = l.units();
        let reorder = |m: &[f32], rows: usize| crate::layout::gate_blocks(m, rows, u, TORCH_GATES);
        let (kdims, k) = data(&l.kernel)?;
        let (_, rk) = data(&l.recurrent_kernel)?;
        let (_, b) = data(&l.bias)?;
        let mut bias = vec![0.0; 4 * u];
        for (t, &here) in TORCH_GATES.iter().enumerate() {
            for j in 0..u {
                let forget = if here == 2 { l.forget_bias } else { 0.0 };
                bias[t * u + j] = b[here * u + j] + forget;
            }
        }
        dict.f32(
            join(name, "weight_ih_l0"),
            vec![4 * u, kdims[0]],
            reorder(&k, kdims[0]),
        );
        dict.f32(join(name, "weight_hh_l0"), vec![4 * u, u], reorder(&rk, u));
        dict.f32(join(name, "bias_ih_l0"), vec![4 * u], bias);
        dict.f32(join(name, "bias_hh_l0"), vec![4 * u], vec![0.0; 4 * u]);
        return Ok(());
    }
    if let Some(e) = any.downcast_ref::<Embedding<B>>() {
        let (dims, v) = data(&e.embeddings)?;
        dict.f32(join(name, "weight"), dims, v);
        return Ok(());
    }
    if let Some(s) = any.downcast_ref::<Sequential<B>>() {
        return sequential(dict, name, s, backend, sample);
    }
    if let Some(t) = any.downcast_ref::<TimeDistributed<Dense<B>>>() {
        return layer_entries(dict, name, &t.inner, backend, &sample[1..], None, None);
    }
    if let Some(t) = any.downcast_ref::<TimeDistributed<Box<dyn Module<B>>>>() {
        return layer_entries(dict, name, &*t.inner, backend, &sample[1..], None, None);
    }
    if layer.params().is_empty() {
        // No weights: an activation, a pool, a reshape, dropout, a weightless custom layer.
        return Ok(());
    }
    Err(export_error(format!(
        "layer {name} ({}) has weights but no PyTorch mapping",
        layer.kind()
    )))
}
