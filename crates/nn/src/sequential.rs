//! A stack of layers with Keras-style names and `summary()`.

use crate::{Conv2d, LayerNames, Mode, Module, NamedParam, Params, UpSampling2d, prefixed};
use std::any::Any;
use tensor::{Backend, Result, Tensor, no_grad};

/// Layers applied in order (Keras `Sequential`).
///
/// Layers are named like Keras: the kind in snake case, numbered from the second
/// one on (`dense`, `dense_1`, ...); parameter names are `layer.param`.
///
/// How the stack runs is decided as it is built: an `UpSampling2d` followed by a
/// `Conv2d` that can take the upsampling over (stride 1, SAME) runs as one
/// phase-decomposed convolution ([`Conv2d::forward_upsampled_input`]): the same
/// function without the upsampled tensor. The layers, their names and the summary stay
/// those the user added.
pub struct Sequential<B: Backend> {
    layers: Vec<(String, Box<dyn Module<B>>)>,
    names: LayerNames,
    /// What `forward` runs, in order.
    plan: Vec<Stage<B>>,
    /// The factors of the last layer when it is an `UpSampling2d` that runs alone.
    upsampling: Option<(usize, usize)>,
}

/// One step of [`Sequential::forward`].
enum Stage<B: Backend> {
    /// The layer at this index.
    Layer(usize),
    /// An upsampling by these factors and the convolution after it, as one step.
    UpsampledConv((usize, usize), Conv2d<B>),
}

impl<B: Backend> Default for Sequential<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> Sequential<B> {
    /// An empty stack.
    pub fn new() -> Self {
        Sequential {
            layers: Vec::new(),
            names: LayerNames::new(),
            plan: Vec::new(),
            upsampling: None,
        }
    }

    /// Appends a layer (builder style, as Keras' `model.add`).
    #[allow(clippy::should_implement_trait)]
    pub fn add<M: Module<B> + 'static>(mut self, layer: M) -> Self {
        let any: &dyn Any = &layer;
        let upsampling = any.downcast_ref::<UpSampling2d>().map(|u| u.size);
        let fused = match (
            self.plan.last(),
            self.upsampling,
            any.downcast_ref::<Conv2d<B>>(),
        ) {
            (Some(Stage::Layer(_)), Some(size), Some(conv)) if conv.takes_upsampling(size) => {
                Some(Stage::UpsampledConv(size, conv.clone()))
            }
            _ => None,
        };
        let index = self.layers.len();
        self.append(Box::new(layer));
        if let Some(stage) = fused {
            *self.plan.last_mut().expect("the upsampling's stage") = stage;
        } else {
            self.plan.push(Stage::Layer(index));
        }
        self.upsampling = upsampling;
        self
    }

    /// Appends a boxed layer. It runs as it is (only [`Sequential::add`] sees through
    /// to an upsampling + convolution pair).
    pub fn push(&mut self, layer: Box<dyn Module<B>>) {
        self.plan.push(Stage::Layer(self.layers.len()));
        self.append(layer);
        self.upsampling = None;
    }

    fn append(&mut self, layer: Box<dyn Module<B>>) {
        let name = self.names.next(&layer.kind());
        self.layers.push((name, layer));
    }

    /// The layers with their names.
    pub fn layers(&self) -> &[(String, Box<dyn Module<B>>)] {
        &self.layers
    }

    /// Indices of the convolutions that run together with the upsampling before them
    /// (see [`Sequential`]).
    pub fn fused_upsampling(&self) -> Vec<usize> {
        let mut index = 0;
        let mut fused = Vec::new();
        for stage in &self.plan {
            match stage {
                Stage::Layer(_) => index += 1,
                Stage::UpsampledConv(..) => {
                    fused.push(index + 1);
                    index += 2;
                }
            }
        }
        fused
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// Output shape of every layer for an input of `input` (batch dimension included),
    /// found by running a forward pass in eval mode.
    pub fn output_shapes(&self, backend: &B, input: &[usize]) -> Result<Vec<Vec<usize>>> {
        no_grad(|| {
            let mut x = Tensor::zeros(backend, input.to_vec())?;
            let mut shapes = Vec::with_capacity(self.layers.len());
            for (_, layer) in &self.layers {
                x = layer.forward(&x, Mode::Eval)?;
                shapes.push(x.dims().to_vec());
            }
            Ok(shapes)
        })
    }

    /// The outputs of layers `0..=last`, in order (Keras' feature extractor,
    /// `Model(inputs, [layer.output ...])`): what deep dream and feature visualisation
    /// read. Each layer runs as written (an upsampling is not folded into the
    /// convolution after it, since its output is asked for). A `last` past the end is an
    /// error naming the number of layers.
    pub fn forward_to(&self, x: &Tensor<B>, mode: Mode, last: usize) -> Result<Vec<Tensor<B>>> {
        if last >= self.layers.len() {
            return Err(tensor::Error::argument(
                "Sequential::forward_to",
                format!(
                    "layer index {last} is past the {} layers of the stack",
                    self.layers.len()
                ),
            ));
        }
        let mut outputs: Vec<Tensor<B>> = Vec::with_capacity(last + 1);
        for (_, layer) in &self.layers[..=last] {
            let y = layer.forward(outputs.last().unwrap_or(x), mode)?;
            outputs.push(y);
        }
        Ok(outputs)
    }

    /// A Keras-style table: layer (type), output shape, parameter count, totals.
    /// `input` excludes the batch dimension, which prints as `None`.
    pub fn summary(&self, backend: &B, input: &[usize]) -> Result<String> {
        let mut with_batch = vec![1];
        with_batch.extend_from_slice(input);
        let shapes = self.output_shapes(backend, &with_batch)?;
        let mut rows = Vec::new();
        for ((name, layer), shape) in self.layers.iter().zip(&shapes) {
            let count: usize = layer.params().iter().map(|(_, p)| p.numel()).sum();
            rows.push((
                format!("{name} ({})", layer.kind()),
                format_shape(shape),
                count.to_string(),
            ));
        }
        let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(20) + 2;
        let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(12) + 2;
        let mut out = String::new();
        let rule = |c: char| c.to_string().repeat(w0 + w1 + 10) + "\n";
        out += &rule('_');
        out += &format!(
            "{:<w0$}{:<w1$}{}\n",
            "Layer (type)", "Output Shape", "Param #"
        );
        out += &rule('=');
        for (i, (a, b, c)) in rows.iter().enumerate() {
            out += &format!("{a:<w0$}{b:<w1$}{c}\n");
            out += &rule(if i + 1 == rows.len() { '=' } else { '_' });
        }
        let (trainable, frozen) = self.param_counts();
        out += &format!("Total params: {}\n", trainable + frozen);
        out += &format!("Trainable params: {trainable}\n");
        out += &format!("Non-trainable params: {frozen}\n");
        Ok(out)
    }
}

/// `(None, 7, 7, 128)` for `[1, 7, 7, 128]`.
pub fn format_shape(shape: &[usize]) -> String {
    let mut parts = vec!["None".to_string()];
    parts.extend(shape.iter().skip(1).map(|d| d.to_string()));
    if parts.len() == 1 {
        "(None,)".into()
    } else {
        format!("({})", parts.join(", "))
    }
}

impl<B: Backend> Module<B> for Sequential<B> {
    /// Runs the layers in order (an upsampling and the convolution after it as one
    /// step where the stack was built so, see [`Sequential`]).
    fn forward(&self, x: &Tensor<B>, mode: Mode) -> Result<Tensor<B>> {
        let mut y = x.clone();
        for stage in &self.plan {
            y = match stage {
                Stage::Layer(i) => self.layers[*i].1.forward(&y, mode)?,
                Stage::UpsampledConv(size, conv) => match conv.forward_upsampled_input(&y, *size) {
                    Some(fused) => fused?,
                    // An input the rewrite does not cover: the two layers as written.
                    None => conv.forward(&y.upsample_nearest2d(size.0, size.1)?, mode)?,
                },
            };
        }
        Ok(y)
    }

    fn kind(&self) -> String {
        "Sequential".into()
    }

    fn draw_counters(&self) -> Vec<(String, &std::sync::atomic::AtomicU64)> {
        self.layers
            .iter()
            .flat_map(|(name, layer)| {
                layer.draw_counters().into_iter().map(move |(n, c)| {
                    let full = if n.is_empty() {
                        name.clone()
                    } else {
                        format!("{name}.{n}")
                    };
                    (full, c)
                })
            })
            .collect()
    }
}

impl<B: Backend> Params<B> for Sequential<B> {
    fn params(&self) -> Vec<NamedParam<B>> {
        self.layers
            .iter()
            .flat_map(|(name, layer)| prefixed(name, layer.params()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_format() {
        assert_eq!(format_shape(&[1, 7, 7, 128]), "(None, 7, 7, 128)");
    }
}
