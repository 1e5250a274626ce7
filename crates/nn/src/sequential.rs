//! A stack of layers with Keras-style names and `summary()`.

use crate::{Mode, Module, NamedParam};
use std::collections::HashMap;
use tensor::{Backend, Result, Tensor, no_grad};

/// Layers applied in order (Keras `Sequential`).
///
/// Layers are named like Keras: the kind in snake case, numbered from the second
/// one on (`dense`, `dense_1`, ...); parameter names are `layer.param`.
pub struct Sequential<B: Backend> {
    layers: Vec<(String, Box<dyn Module<B>>)>,
    counts: HashMap<String, usize>,
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
            counts: HashMap::new(),
        }
    }

    /// Appends a layer (builder style, as Keras' `model.add`).
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl Module<B> + 'static) -> Self {
        self.push(Box::new(layer));
        self
    }

    /// Appends a boxed layer.
    pub fn push(&mut self, layer: Box<dyn Module<B>>) {
        let base = snake_case(&layer.kind());
        let n = self.counts.entry(base.clone()).or_insert(0);
        let name = if *n == 0 { base } else { format!("{base}_{n}") };
        *n += 1;
        self.layers.push((name, layer));
    }

    /// The layers with their names.
    pub fn layers(&self) -> &[(String, Box<dyn Module<B>>)] {
        &self.layers
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

fn snake_case(kind: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = kind.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower = i > 0 && chars[i - 1].is_lowercase();
            let next_lower = i + 1 < chars.len() && chars[i + 1].is_lowercase();
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl<B: Backend> Module<B> for Sequential<B> {
    /// Runs the layers in order. An upsampling layer followed by a layer that can take
    /// the upsampling over (`Module::forward_upsampled`, e.g. a stride-1 SAME `Conv2d`)
    /// runs as one step: the same function, without the upsampled tensor.
    fn forward(&self, x: &Tensor<B>, mode: Mode) -> Result<Tensor<B>> {
        let mut y = x.clone();
        let mut i = 0;
        while i < self.layers.len() {
            let layer = &self.layers[i].1;
            if let (Some(size), Some((_, next))) =
                (layer.upsampling_factors(), self.layers.get(i + 1))
            {
                if let Some(fused) = next.forward_upsampled(&y, size, mode) {
                    y = fused?;
                    i += 2;
                    continue;
                }
            }
            y = layer.forward(&y, mode)?;
            i += 1;
        }
        Ok(y)
    }

    fn kind(&self) -> String {
        "Sequential".into()
    }

    fn params(&self) -> Vec<NamedParam<B>> {
        self.layers
            .iter()
            .flat_map(|(name, layer)| {
                layer
                    .params()
                    .into_iter()
                    .map(move |(p, v)| (format!("{name}.{p}"), v))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_style_names() {
        assert_eq!(snake_case("Dense"), "dense");
        assert_eq!(snake_case("Conv2D"), "conv2d");
        assert_eq!(snake_case("MaxPooling2D"), "max_pooling2d");
        assert_eq!(snake_case("BatchNormalization"), "batch_normalization");
        assert_eq!(snake_case("LeakyReLU"), "leaky_re_lu");
        assert_eq!(snake_case("LSTM"), "lstm");
        assert_eq!(format_shape(&[1, 7, 7, 128]), "(None, 7, 7, 128)");
    }
}
