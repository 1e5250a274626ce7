//! The parameter tree: named walk, freezing and counts, apart from the forward pass.

use crate::Param;
use std::collections::HashMap;
use tensor::Backend;

/// A named parameter of a module tree, e.g. `dense_1.kernel`.
pub type NamedParam<B> = (String, Param<B>);

/// Anything that holds parameters: a layer, a model, a struct of modules.
///
/// Only [`Params::params`] is written by hand (or by [`crate::impl_params!`]); freezing
/// and counting follow from it. Names are relative to the holder and joined with `.`.
pub trait Params<B: Backend> {
    /// Parameters (weights and buffers) with names relative to this holder.
    fn params(&self) -> Vec<NamedParam<B>> {
        Vec::new()
    }

    /// Freezes or unfreezes every weight (Keras `layer.trainable`); buffers stay frozen.
    fn set_trainable(&self, trainable: bool) {
        for (_, p) in self.params() {
            p.set_trainable(trainable);
        }
    }

    /// Parameters that optimizers update.
    fn trainable_params(&self) -> Vec<NamedParam<B>> {
        self.params()
            .into_iter()
            .filter(|(_, p)| p.is_trainable())
            .collect()
    }

    /// Total number of scalars in the parameters, `(trainable, non_trainable)`.
    fn param_counts(&self) -> (usize, usize) {
        self.params().iter().fold((0, 0), |(t, n), (_, p)| {
            if p.is_trainable() {
                (t + p.numel(), n)
            } else {
                (t, n + p.numel())
            }
        })
    }

    /// Total number of scalars in the parameters.
    fn param_count(&self) -> usize {
        let (t, n) = self.param_counts();
        t + n
    }
}

/// A single parameter is a tree of one leaf with an empty name; the holder's field
/// name becomes its name.
impl<B: Backend> Params<B> for Param<B> {
    fn params(&self) -> Vec<NamedParam<B>> {
        vec![(String::new(), self.clone())]
    }
}

impl<B: Backend, P: Params<B>> Params<B> for Option<P> {
    fn params(&self) -> Vec<NamedParam<B>> {
        self.as_ref().map(Params::params).unwrap_or_default()
    }
}

impl<B: Backend, P: Params<B> + ?Sized> Params<B> for Box<P> {
    fn params(&self) -> Vec<NamedParam<B>> {
        (**self).params()
    }
}

/// `prefix.name` for every parameter (just `prefix` for a nameless leaf).
pub fn prefixed<B: Backend>(prefix: &str, params: Vec<NamedParam<B>>) -> Vec<NamedParam<B>> {
    params
        .into_iter()
        .map(|(n, p)| {
            let name = if n.is_empty() {
                prefix.to_string()
            } else if prefix.is_empty() {
                n
            } else {
                format!("{prefix}.{n}")
            };
            (name, p)
        })
        .collect()
}

/// Implements [`Params`] for a struct generic over `B: Backend` whose fields hold
/// parameters: each listed field's parameters under the field's name.
///
/// ```ignore
/// struct Generator<B: Backend> { embedding: Embedding<B>, cnn: Sequential<B> }
/// nn::impl_params!(Generator { embedding, cnn });   // embedding.embeddings, cnn.dense.kernel, ...
/// ```
#[macro_export]
macro_rules! impl_params {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl<B: $crate::__private::Backend> $crate::Params<B> for $ty<B> {
            fn params(&self) -> ::std::vec::Vec<$crate::NamedParam<B>> {
                let mut out = ::std::vec::Vec::new();
                $(
                    out.extend($crate::prefixed(
                        stringify!($field),
                        $crate::Params::<B>::params(&self.$field),
                    ));
                )*
                out
            }
        }
    };
}

/// Keras' layer names: the kind in snake case, numbered from the second layer of a
/// kind on (`conv2d`, `conv2d_1`, ...).
#[derive(Clone, Debug, Default)]
pub struct LayerNames {
    counts: HashMap<String, usize>,
}

impl LayerNames {
    /// No names handed out yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The name of the next layer of `kind` (as `Module::kind` spells it, e.g. `Conv2D`).
    pub fn next(&mut self, kind: &str) -> String {
        let base = snake_case(kind);
        let n = self.counts.entry(base.clone()).or_insert(0);
        let name = if *n == 0 { base } else { format!("{base}_{n}") };
        *n += 1;
        name
    }
}

/// `Conv2D` -> `conv2d`, `MaxPooling2D` -> `max_pooling2d`, `LSTM` -> `lstm`.
pub(crate) fn snake_case(kind: &str) -> String {
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
        let mut names = LayerNames::new();
        assert_eq!(names.next("Conv2D"), "conv2d");
        assert_eq!(names.next("Dense"), "dense");
        assert_eq!(names.next("Conv2D"), "conv2d_1");
        assert_eq!(names.next("Conv2D"), "conv2d_2");
    }
}
