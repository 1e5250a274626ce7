//! Shape ops: reshape, permute, broadcast, slice, concat, split.

use crate::{Backend, Error, Result, Shape, StridedLayout, Tensor};

impl<B: Backend> Tensor<B> {
    /// Same data, new shape (no copy). One dimension may be given as `usize::MAX`... use
    /// [`Tensor::reshape_infer`] for an inferred dimension.
    pub fn reshape(&self, shape: impl Into<Shape>) -> Result<Self> {
        let shape = shape.into();
        if shape.check("reshape")? != self.numel() {
            return Err(Error::shape(
                "reshape",
                &[self.shape(), &shape],
                format!(
                    "{} elements cannot take {} places",
                    self.numel(),
                    shape.numel()
                ),
            ));
        }
        if &shape == self.shape() {
            return Ok(self.clone());
        }
        let in_shape = self.shape().clone();
        Ok(Tensor::from_op(
            self.backend(),
            self.storage().clone(),
            shape,
            "reshape",
            &[self],
            move |g, _| Ok(vec![Some(g.reshape(in_shape.clone())?)]),
        ))
    }

    /// Reshape where at most one dimension is `-1` (inferred), as in NumPy.
    pub fn reshape_infer(&self, dims: &[isize]) -> Result<Self> {
        let known = dims
            .iter()
            .filter(|&&d| d >= 0)
            .try_fold(1usize, |n, &d| n.checked_mul(d as usize))
            .ok_or_else(|| Error::size_of("reshape", format!("{dims:?}")))?;
        let unknown = dims.iter().filter(|&&d| d < 0).count();
        if unknown > 1 || (unknown == 1 && (known == 0 || !self.numel().is_multiple_of(known))) {
            return Err(Error::argument(
                "reshape",
                format!("cannot reshape {} into {dims:?}", self.shape()),
            ));
        }
        let shape: Vec<usize> = dims
            .iter()
            .map(|&d| {
                if d < 0 {
                    self.numel() / known.max(1)
                } else {
                    d as usize
                }
            })
            .collect();
        self.reshape(shape)
    }

    /// Collapses every dimension after the first: `[n, ...] -> [n, rest]`.
    pub fn flatten(&self) -> Result<Self> {
        if self.rank() == 0 {
            return self.reshape([1, 1]);
        }
        let n = self.dims()[0];
        let rest = self.numel() / n.max(1);
        self.reshape([n, if n == 0 { 0 } else { rest }])
    }

    /// Inserts a size-1 dimension at `axis` (0..=rank).
    pub fn unsqueeze(&self, axis: usize) -> Result<Self> {
        if axis > self.rank() {
            return Err(Error::argument(
                "unsqueeze",
                format!("axis {axis} out of range for shape {}", self.shape()),
            ));
        }
        let mut dims = self.dims().to_vec();
        dims.insert(axis, 1);
        self.reshape(dims)
    }

    /// Removes the size-1 dimension at `axis`.
    pub fn squeeze(&self, axis: isize) -> Result<Self> {
        let a = self.shape().axis(axis, "squeeze")?;
        if self.dims()[a] != 1 {
            return Err(Error::shape(
                "squeeze",
                &[self.shape()],
                format!("dimension {a} is not 1"),
            ));
        }
        let mut dims = self.dims().to_vec();
        dims.remove(a);
        self.reshape(dims)
    }

    /// Reorders dimensions: output dimension `i` is input dimension `axes[i]`.
    pub fn permute(&self, axes: &[usize]) -> Result<Self> {
        let rank = self.rank();
        let mut seen = vec![false; rank];
        if axes.len() != rank
            || axes
                .iter()
                .any(|&a| a >= rank || std::mem::replace(&mut seen[a], true))
        {
            return Err(Error::argument(
                "permute",
                format!(
                    "{axes:?} is not a permutation of the axes of {}",
                    self.shape()
                ),
            ));
        }
        if axes.iter().enumerate().all(|(i, &a)| i == a) {
            return Ok(self.clone());
        }
        let strides = self.shape().strides();
        let layout = StridedLayout {
            out_dims: axes.iter().map(|&a| self.dims()[a]).collect(),
            strides: axes.iter().map(|&a| strides[a]).collect(),
            offset: 0,
        };
        let out_shape = Shape(layout.out_dims.clone());
        let storage = self.backend().strided_copy(self.storage(), &layout)?;
        let mut inverse = vec![0; rank];
        for (i, &a) in axes.iter().enumerate() {
            inverse[a] = i;
        }
        Ok(Tensor::from_op(
            self.backend(),
            storage,
            out_shape,
            "permute",
            &[self],
            move |g, _| Ok(vec![Some(g.permute(&inverse)?)]),
        ))
    }

    /// Swaps two dimensions (negative axes count from the end).
    pub fn transpose(&self, a: isize, b: isize) -> Result<Self> {
        let a = self.shape().axis(a, "transpose")?;
        let b = self.shape().axis(b, "transpose")?;
        let mut axes: Vec<usize> = (0..self.rank()).collect();
        axes.swap(a, b);
        self.permute(&axes)
    }

    /// Materialises the NumPy broadcast of this tensor to `shape`.
    pub fn broadcast_to(&self, shape: impl Into<Shape>) -> Result<Self> {
        let shape = shape.into();
        let check = Shape::broadcast(self.shape(), &shape, "broadcast_to")?;
        if check != shape {
            return Err(Error::shape(
                "broadcast_to",
                &[self.shape(), &shape],
                "the target must be a broadcast of the source",
            ));
        }
        if &shape == self.shape() {
            return Ok(self.clone());
        }
        let layout = StridedLayout {
            strides: self.shape().broadcast_strides(&shape),
            out_dims: shape.dims().to_vec(),
            offset: 0,
        };
        let storage = self.backend().strided_copy(self.storage(), &layout)?;
        let in_shape = self.shape().clone();
        Ok(Tensor::from_op(
            self.backend(),
            storage,
            shape,
            "broadcast_to",
            &[self],
            move |g, _| Ok(vec![Some(g.sum_to_shape(&in_shape)?)]),
        ))
    }

    /// Elements `start..end` along `axis` (negative axis counts from the end).
    pub fn narrow(&self, axis: isize, start: usize, end: usize) -> Result<Self> {
        let a = self.shape().axis(axis, "narrow")?;
        let mut ranges: Vec<(usize, usize)> = self.dims().iter().map(|&d| (0, d)).collect();
        ranges[a] = (start, end);
        self.slice(&ranges)
    }

    /// The sub-tensor `ranges[i].0..ranges[i].1` along every dimension.
    pub fn slice(&self, ranges: &[(usize, usize)]) -> Result<Self> {
        if ranges.len() != self.rank()
            || ranges
                .iter()
                .zip(self.dims())
                .any(|(&(s, e), &d)| s > e || e > d)
        {
            return Err(Error::shape(
                "slice",
                &[self.shape()],
                format!("ranges {ranges:?} do not fit"),
            ));
        }
        let strides = self.shape().strides();
        let offset = ranges.iter().zip(&strides).map(|(r, s)| r.0 * s).sum();
        let out_dims: Vec<usize> = ranges.iter().map(|r| r.1 - r.0).collect();
        if out_dims == self.dims() {
            return Ok(self.clone());
        }
        let layout = StridedLayout {
            out_dims: out_dims.clone(),
            strides,
            offset,
        };
        let storage = self.backend().strided_copy(self.storage(), &layout)?;
        let in_dims = self.dims().to_vec();
        let offsets: Vec<usize> = ranges.iter().map(|r| r.0).collect();
        // A cut along one axis only gets its gradient joined with its siblings' once.
        let cut_axes: Vec<usize> = (0..in_dims.len())
            .filter(|&i| out_dims[i] != in_dims[i])
            .collect();
        let out = Tensor::from_op(
            self.backend(),
            storage,
            Shape(out_dims.clone()),
            "slice",
            &[self],
            move |g, _| {
                let padded = g
                    .backend()
                    .pad(g.storage(), &out_dims, &in_dims, &offsets)?;
                Ok(vec![Some(Tensor::from_storage(
                    g.backend(),
                    padded,
                    in_dims.clone(),
                ))])
            },
        );
        Ok(match cut_axes.as_slice() {
            [axis] => {
                let start = ranges[*axis].0;
                out.mark_narrow(*axis, start)
            }
            _ => out,
        })
    }

    /// Joins tensors along `axis`; all other dimensions must match.
    pub fn concat(tensors: &[Tensor<B>], axis: isize) -> Result<Self> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::argument("concat", "no tensors given"))?;
        let a = first.shape().axis(axis, "concat")?;
        let mut out_dims = first.dims().to_vec();
        out_dims[a] = 0;
        for t in tensors {
            let ok = t.rank() == first.rank()
                && t.dims()
                    .iter()
                    .zip(first.dims())
                    .enumerate()
                    .all(|(i, (x, y))| i == a || x == y);
            if !ok {
                let shapes: Vec<&Shape> = tensors.iter().map(|t| t.shape()).collect();
                return Err(Error::shape(
                    "concat",
                    &shapes,
                    format!("all dimensions but axis {a} must match"),
                ));
            }
            out_dims[a] = out_dims[a]
                .checked_add(t.dims()[a])
                .ok_or_else(|| Error::size_of("concat", format!("the sizes along axis {a}")))?;
        }
        let out_shape = Shape::checked(out_dims, "concat")?;
        let out_dims = out_shape.0;
        let parts: Vec<&B::Storage> = tensors.iter().map(|t| t.storage()).collect();
        let dims: Vec<Vec<usize>> = tensors.iter().map(|t| t.dims().to_vec()).collect();
        let storage = first.backend().concat(&parts, &dims, a, &out_dims)?;
        let sizes: Vec<usize> = tensors.iter().map(|t| t.dims()[a]).collect();
        let inputs: Vec<&Tensor<B>> = tensors.iter().collect();
        Ok(Tensor::from_op(
            first.backend(),
            storage,
            Shape(out_dims),
            "concat",
            &inputs,
            move |g, _| {
                let mut start = 0;
                let mut grads = Vec::with_capacity(sizes.len());
                for &size in &sizes {
                    grads.push(Some(g.narrow(a as isize, start, start + size)?));
                    start += size;
                }
                Ok(grads)
            },
        ))
    }

    /// Splits along `axis` into pieces of the given sizes.
    pub fn split(&self, sizes: &[usize], axis: isize) -> Result<Vec<Self>> {
        let a = self.shape().axis(axis, "split")?;
        let total = sizes.iter().try_fold(0usize, |n, &s| n.checked_add(s));
        if total != Some(self.dims()[a]) {
            return Err(Error::shape(
                "split",
                &[self.shape()],
                format!("sizes {sizes:?} do not add up to dimension {a}"),
            ));
        }
        let mut start = 0;
        sizes
            .iter()
            .map(|&s| {
                let piece = self.narrow(a as isize, start, start + s);
                start += s;
                piece
            })
            .collect()
    }

    /// Splits along `axis` into `n` equal pieces.
    pub fn chunk(&self, n: usize, axis: isize) -> Result<Vec<Self>> {
        let a = self.shape().axis(axis, "chunk")?;
        let d = self.dims()[a];
        if n == 0 || !d.is_multiple_of(n) {
            return Err(Error::shape(
                "chunk",
                &[self.shape()],
                format!("dimension {a} ({d}) does not split into {n} equal pieces"),
            ));
        }
        // `n` comes from the caller: reserve the pieces fallibly rather than abort.
        let mut pieces = Vec::new();
        pieces.try_reserve_exact(n).map_err(|_| {
            Error::argument(
                "chunk",
                format!("cannot hold {n} pieces of {}", self.shape()),
            )
        })?;
        let size = d / n;
        for i in 0..n {
            pieces.push(self.narrow(a as isize, i * size, (i + 1) * size)?);
        }
        Ok(pieces)
    }
}
