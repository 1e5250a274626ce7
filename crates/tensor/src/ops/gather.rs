//! Index selection, one-hot encoding and dropout.

use crate::{Backend, Distribution, Error, Result, Shape, Tensor};

impl<B: Backend> Tensor<B> {
    /// Picks entries `indices` along `axis` (an embedding lookup on axis 0).
    pub fn index_select(&self, axis: isize, indices: &[usize]) -> Result<Self> {
        let a = self.shape().axis(axis, "index_select")?;
        let axis_len = self.dims()[a];
        if let Some(&bad) = indices.iter().find(|&&i| i >= axis_len) {
            return Err(Error::argument(
                "index_select",
                format!(
                    "index {bad} out of range for axis {a} of shape {}",
                    self.shape()
                ),
            ));
        }
        let mut out_dims = self.dims().to_vec();
        out_dims[a] = indices.len();
        let out_shape = Shape::checked(out_dims, "index_select")?;
        let outer: usize = self.dims()[..a].iter().product();
        let inner: usize = self.dims()[a + 1..].iter().product();
        let storage =
            self.backend()
                .index_select(self.storage(), outer, axis_len, inner, indices)?;
        let indices = indices.to_vec();
        let in_shape = self.shape().clone();
        Ok(Tensor::from_op(
            self.backend(),
            storage,
            out_shape,
            "index_select",
            &[self],
            move |g, _| {
                let be = g.backend();
                let s = be.index_add(g.storage(), outer, axis_len, inner, &indices)?;
                Ok(vec![Some(Tensor::from_storage(be, s, in_shape.clone()))])
            },
        ))
    }

    /// One-hot rows `[indices.len(), depth]`.
    pub fn one_hot(backend: &B, indices: &[usize], depth: usize) -> Result<Self> {
        let shape = Shape::checked(vec![indices.len(), depth], "one_hot")?;
        let mut data = Vec::new();
        data.try_reserve_exact(shape.numel()).map_err(|e| {
            Error::backend("host", format!("one_hot: cannot allocate {shape}: {e}"))
        })?;
        data.resize(shape.numel(), 0.0);
        for (row, &i) in indices.iter().enumerate() {
            if i >= depth {
                return Err(Error::argument(
                    "one_hot",
                    format!("index {i} out of range for depth {depth}"),
                ));
            }
            data[row * depth + i] = 1.0;
        }
        Tensor::from_vec(backend, data, shape)
    }

    /// Inverted dropout: in training, zeroes each element with probability `rate`
    /// and scales the rest by `1 / (1 - rate)`; identity otherwise.
    pub fn dropout(&self, rate: f32, seed: u64, training: bool) -> Result<Self> {
        if !(0.0..1.0).contains(&rate) {
            return Err(Error::argument(
                "dropout",
                format!("rate {rate} must be in [0, 1)"),
            ));
        }
        if !training || rate == 0.0 {
            return Ok(self.clone());
        }
        let keep = 1.0 - rate;
        let mask = Tensor::random(
            self.backend(),
            self.shape().clone(),
            Distribution::Bernoulli { p: keep },
            seed,
        )?
        .mul_scalar(1.0 / keep)?;
        self.mul(&mask)
    }
}
