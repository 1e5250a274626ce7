//! Reductions over axes.

use crate::{Backend, Error, ReduceOp, Result, Shape, Tensor};

impl<B: Backend> Tensor<B> {
    fn resolve_axes(&self, axes: &[isize], op: &'static str) -> Result<Vec<usize>> {
        let mut resolved = axes
            .iter()
            .map(|&a| self.shape().axis(a, op))
            .collect::<Result<Vec<_>>>()?;
        resolved.sort_unstable();
        resolved.dedup();
        Ok(resolved)
    }

    fn reduced_shape(&self, axes: &[usize], keepdim: bool) -> (Shape, Shape) {
        let mut kept = self.dims().to_vec();
        for &a in axes {
            kept[a] = 1;
        }
        let dropped: Vec<usize> = self
            .dims()
            .iter()
            .enumerate()
            .filter(|(i, _)| !axes.contains(i))
            .map(|(_, &d)| d)
            .collect();
        let kept = Shape(kept);
        let out = if keepdim {
            kept.clone()
        } else {
            Shape(dropped)
        };
        (kept, out)
    }

    fn reduce_op(&self, op: ReduceOp, axes: &[isize], keepdim: bool) -> Result<Self> {
        let name = match op {
            ReduceOp::Sum => "sum",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
        };
        let axes = self.resolve_axes(axes, name)?;
        if op != ReduceOp::Sum && axes.iter().any(|&a| self.dims()[a] == 0) {
            return Err(Error::shape(
                name,
                &[self.shape()],
                "reduction over an empty axis",
            ));
        }
        let (kept, out_shape) = self.reduced_shape(&axes, keepdim);
        let storage = self
            .backend()
            .reduce(op, self.storage(), self.dims(), &axes)?;
        let x = self.clone();
        Ok(Tensor::from_op(
            self.backend(),
            storage,
            out_shape,
            name,
            &[self],
            move |g, out| {
                let g = g.reshape(kept.clone())?.broadcast_to(x.shape().clone())?;
                match op {
                    ReduceOp::Sum => Ok(vec![Some(g)]),
                    ReduceOp::Max | ReduceOp::Min => {
                        // Ties share the gradient equally, as TensorFlow does.
                        let winners = x.eq_mask(&out.reshape(kept.clone())?)?;
                        let count = winners.sum_keepdim_axes(&axes)?;
                        Ok(vec![Some(g.mul(&winners)?.div(&count)?)])
                    }
                }
            },
        ))
    }

    fn sum_keepdim_axes(&self, axes: &[usize]) -> Result<Self> {
        let axes: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
        self.reduce_op(ReduceOp::Sum, &axes, true)
    }

    /// Sum over `axes`; `keepdim` keeps them as size 1.
    pub fn sum(&self, axes: &[isize], keepdim: bool) -> Result<Self> {
        self.reduce_op(ReduceOp::Sum, axes, keepdim)
    }

    /// Maximum over `axes`.
    pub fn max(&self, axes: &[isize], keepdim: bool) -> Result<Self> {
        self.reduce_op(ReduceOp::Max, axes, keepdim)
    }

    /// Minimum over `axes`.
    pub fn min(&self, axes: &[isize], keepdim: bool) -> Result<Self> {
        self.reduce_op(ReduceOp::Min, axes, keepdim)
    }

    /// Mean over `axes`.
    pub fn mean(&self, axes: &[isize], keepdim: bool) -> Result<Self> {
        let resolved = self.resolve_axes(axes, "mean")?;
        let count: usize = resolved.iter().map(|&a| self.dims()[a]).product();
        if count == 0 {
            return Err(Error::shape(
                "mean",
                &[self.shape()],
                "mean over an empty axis",
            ));
        }
        self.sum(axes, keepdim)?.mul_scalar(1.0 / count as f32)
    }

    /// Population variance over `axes` (divides by N, like NumPy and Keras).
    pub fn var(&self, axes: &[isize], keepdim: bool) -> Result<Self> {
        let mean = self.mean(axes, true)?;
        self.sub(&mean)?.square()?.mean(axes, keepdim)
    }

    fn all_axes(&self) -> Vec<isize> {
        (0..self.rank() as isize).collect()
    }

    /// Sum of every element, as a rank-0 tensor.
    pub fn sum_all(&self) -> Result<Self> {
        self.sum(&self.all_axes(), false)
    }

    /// Mean of every element, as a rank-0 tensor.
    pub fn mean_all(&self) -> Result<Self> {
        if self.numel() == 0 {
            return Err(Error::shape("mean_all", &[self.shape()], "empty tensor"));
        }
        self.sum_all()?.mul_scalar(1.0 / self.numel() as f32)
    }

    /// Index of the largest element along `axis` (first on ties), as f32; no gradient.
    pub fn argmax(&self, axis: isize, keepdim: bool) -> Result<Self> {
        let a = self.shape().axis(axis, "argmax")?;
        if self.dims()[a] == 0 {
            return Err(Error::shape("argmax", &[self.shape()], "empty axis"));
        }
        let storage = self.backend().argmax(self.storage(), self.dims(), a)?;
        let (_, out_shape) = self.reduced_shape(&[a], keepdim);
        Ok(Tensor::from_storage(self.backend(), storage, out_shape))
    }

    /// Sums broadcast dimensions away so the result has `shape` (the backward of broadcasting).
    pub fn sum_to_shape(&self, shape: &Shape) -> Result<Self> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        let lead = self.rank().checked_sub(shape.rank()).ok_or_else(|| {
            Error::shape(
                "sum_to_shape",
                &[self.shape(), shape],
                "target has more dimensions",
            )
        })?;
        let mut axes = Vec::new();
        for i in 0..self.rank() {
            // Leading dimensions, and those broadcast from 1, are summed away.
            if i < lead || (shape.dims()[i - lead] == 1 && self.dims()[i] != 1) {
                axes.push(i as isize);
            } else if shape.dims()[i - lead] != self.dims()[i] {
                return Err(Error::shape(
                    "sum_to_shape",
                    &[self.shape(), shape],
                    "target is not a broadcast source of this shape",
                ));
            }
        }
        self.sum(&axes, true)?.reshape(shape.clone())
    }
}
