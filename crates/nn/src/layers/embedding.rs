//! Embedding lookup layer.

use crate::{Init, Mode, Module, Param, Seeds};
use tensor::{Backend, Error, Result, Tensor};

/// Keras `Embedding(input_dim, output_dim)`: maps integer ids to learned vectors.
///
/// The input holds ids as f32 (any shape, typically `[n, t]`); the output appends the
/// vector axis: `[n, t] -> [n, t, output_dim]`. Ids must be whole numbers in
/// `0..input_dim`. The table is initialised uniformly on `[-0.05, 0.05]` as in Keras.
pub struct Embedding<B: Backend> {
    pub embeddings: Param<B>,
    input_dim: usize,
    output_dim: usize,
}

impl<B: Backend> Embedding<B> {
    /// A table of `input_dim` vectors of `output_dim`, Keras' uniform(-0.05, 0.05) init.
    pub fn new(
        backend: &B,
        input_dim: usize,
        output_dim: usize,
        seeds: &mut Seeds,
    ) -> Result<Self> {
        Self::with_init(
            backend,
            input_dim,
            output_dim,
            Init::Uniform(-0.05, 0.05),
            seeds,
        )
    }

    /// A table filled by `init` (the ACGAN uses Glorot normal).
    pub fn with_init(
        backend: &B,
        input_dim: usize,
        output_dim: usize,
        init: Init,
        seeds: &mut Seeds,
    ) -> Result<Self> {
        if input_dim == 0 || output_dim == 0 {
            return Err(Error::argument(
                "Embedding",
                format!("input_dim {input_dim} and output_dim {output_dim} must be positive"),
            ));
        }
        Ok(Embedding {
            embeddings: Param::new(init.make(backend, &[input_dim, output_dim], seeds.next())?),
            input_dim,
            output_dim,
        })
    }

    /// Number of distinct ids.
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }

    /// Length of each vector.
    pub fn output_dim(&self) -> usize {
        self.output_dim
    }

    fn ids(&self, x: &Tensor<B>) -> Result<Vec<usize>> {
        x.to_vec()?
            .into_iter()
            .map(|v| {
                if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && (v as usize) < self.input_dim {
                    Ok(v as usize)
                } else {
                    Err(Error::argument(
                        "Embedding",
                        format!(
                            "id {v} is not a whole number in 0..{} (input shape {})",
                            self.input_dim,
                            x.shape()
                        ),
                    ))
                }
            })
            .collect()
    }
}

crate::impl_params!(Embedding { embeddings });

impl<B: Backend> Module<B> for Embedding<B> {
    fn forward(&self, x: &Tensor<B>, _mode: Mode) -> Result<Tensor<B>> {
        let ids = self.ids(x)?;
        let mut dims = x.dims().to_vec();
        dims.push(self.output_dim);
        self.embeddings.value().index_select(0, &ids)?.reshape(dims)
    }

    fn kind(&self) -> String {
        "Embedding".into()
    }
}
