//! Matrix products with batch dimensions.

use crate::{Backend, Error, MatmulDims, Result, Shape, Tensor, UnaryOp};

impl<B: Backend> Tensor<B> {
    /// Matrix product over the last two dimensions, NumPy-style: `[.., m, k] @ [.., k, n]`.
    ///
    /// Leading (batch) dimensions broadcast; both operands need rank >= 2.
    pub fn matmul(&self, other: &Self) -> Result<Self> {
        let (a, b) = (self, other);
        if a.rank() < 2 || b.rank() < 2 {
            return Err(Error::shape(
                "matmul",
                &[a.shape(), b.shape()],
                "both operands need at least 2 dimensions",
            ));
        }
        let (m, k) = (a.dims()[a.rank() - 2], a.dims()[a.rank() - 1]);
        let (k2, n) = (b.dims()[b.rank() - 2], b.dims()[b.rank() - 1]);
        if k != k2 {
            return Err(Error::shape(
                "matmul",
                &[a.shape(), b.shape()],
                format!("inner dimensions differ ({k} vs {k2})"),
            ));
        }
        // [.., m, k] @ [k, n] folds the batch into the rows: one large GEMM.
        if b.rank() == 2 && a.rank() > 2 {
            let rows = a.numel_rows();
            let mut out_dims = a.dims().to_vec();
            *out_dims.last_mut().unwrap() = n;
            return a.reshape([rows, k])?.matmul(b)?.reshape(out_dims);
        }
        let a_batch = Shape::new(&a.dims()[..a.rank() - 2]);
        let b_batch = Shape::new(&b.dims()[..b.rank() - 2]);
        let batch_shape = Shape::broadcast(&a_batch, &b_batch, "matmul")?;
        let batch = batch_shape.numel();
        let mut out_dims = batch_shape.dims().to_vec();
        out_dims.extend([m, n]);
        let out_shape = Shape::checked(out_dims, "matmul")?;
        if out_shape.numel() == 0 {
            // Nothing to compute; broadcasting an operand to the batch could still
            // be a huge buffer (`[2, 1, m, k] @ [1, 2^40, k, 0]`), so skip it.
            let storage = self.backend().fill(0, 0.0)?;
            return Ok(Tensor::from_op(
                self.backend(),
                storage,
                out_shape,
                "matmul",
                &[a, b],
                {
                    let (ac, bc) = (a.clone(), b.clone());
                    move |_, _| Ok(vec![Some(ac.zeros_like()?), Some(bc.zeros_like()?)])
                },
            ));
        }
        // Each side is either the full batch or a single matrix; anything else is materialised.
        let expand = |t: &Tensor<B>, own: &Shape, rows: usize, cols: usize| -> Result<Tensor<B>> {
            if own.numel() == batch || own.numel() == 1 {
                Ok(t.clone())
            } else {
                let mut dims = batch_shape.dims().to_vec();
                dims.extend([rows, cols]);
                t.broadcast_to(dims)
            }
        };
        let a_full = expand(a, &a_batch, m, k)?;
        let b_full = expand(b, &b_batch, k, n)?;
        let a_stride = if a_full.numel() == m * k && batch > 1 {
            0
        } else {
            m * k
        };
        let b_stride = if b_full.numel() == k * n && batch > 1 {
            0
        } else {
            k * n
        };
        let dims = MatmulDims {
            batch,
            m,
            k,
            n,
            trans_a: false,
            trans_b: false,
            a_batch_stride: a_stride,
            b_batch_stride: b_stride,
        };
        let storage = self
            .backend()
            .matmul(a_full.storage(), b_full.storage(), dims)?;
        let (ac, bc) = (a_full.clone(), b_full.clone());
        let out = Tensor::from_op(
            self.backend(),
            storage,
            out_shape,
            "matmul",
            &[&a_full, &b_full],
            move |g, _| {
                let ga = if ac.is_tracked() {
                    // dA = dC @ B^T, summed over the batch when A was broadcast.
                    let d = MatmulDims {
                        m,
                        k: n,
                        n: k,
                        trans_a: false,
                        trans_b: true,
                        a_batch_stride: m * n,
                        b_batch_stride: b_stride,
                        batch,
                    };
                    let s = g.backend().matmul(g.storage(), bc.storage(), d)?;
                    let full = Tensor::from_storage(g.backend(), s, [batch, m, k]);
                    Some(full.sum_to_batch(ac.shape(), a_stride == 0)?)
                } else {
                    None
                };
                let gb = if bc.is_tracked() {
                    // dB = A^T @ dC.
                    let d = MatmulDims {
                        m: k,
                        k: m,
                        n,
                        trans_a: true,
                        trans_b: false,
                        a_batch_stride: a_stride,
                        b_batch_stride: m * n,
                        batch,
                    };
                    let s = g.backend().matmul(ac.storage(), g.storage(), d)?;
                    let full = Tensor::from_storage(g.backend(), s, [batch, k, n]);
                    Some(full.sum_to_batch(bc.shape(), b_stride == 0)?)
                } else {
                    None
                };
                Ok(vec![ga, gb])
            },
        );
        Ok(out)
    }

    /// `act(self @ w + bias)` for `self` `[.., k]`, `w` `[k, n]` and `bias` `[n]`: a
    /// Dense layer's forward pass as one op, so a backend can apply the bias and the
    /// activation while the product's output is still in its caches. `act` is `None`
    /// or an activation whose derivative follows from its output
    /// ([`activation_fuses`](crate::activation_fuses)). The same values as the three
    /// ops one after another, gradients included.
    pub fn matmul_bias_act(&self, w: &Self, bias: &Self, act: Option<UnaryOp>) -> Result<Self> {
        const OP: &str = "matmul_bias_act";
        let x = self;
        if x.rank() < 2 || w.rank() != 2 || x.dims()[x.rank() - 1] != w.dims()[0] {
            return Err(Error::shape(
                OP,
                &[x.shape(), w.shape()],
                "need input [.., k] (at least 2 dimensions) and weights [k, n]",
            ));
        }
        let (k, n) = (w.dims()[0], w.dims()[1]);
        if bias.dims() != [n] {
            return Err(Error::shape(
                OP,
                &[w.shape(), bias.shape()],
                format!("the bias must be [{n}], one per output column"),
            ));
        }
        super::conv::check_fusable(OP, act)?;
        let m = x.numel_rows();
        let mut out_dims = x.dims().to_vec();
        *out_dims.last_mut().unwrap() = n;
        let out_shape = Shape::checked(out_dims, OP)?;
        let storage = self.backend().matmul_bias_act(
            x.storage(),
            w.storage(),
            bias.storage(),
            act,
            m,
            k,
            n,
        )?;
        let (xc, wc, bc) = (x.clone(), w.clone(), bias.clone());
        Ok(Tensor::from_op(
            self.backend(),
            storage,
            out_shape,
            OP,
            &[x, w, bias],
            move |g, out| {
                let g = match act {
                    Some(op) => super::conv::activation_grad_from_output(OP, op, out, g)?,
                    None => g.clone(),
                };
                let be = g.backend();
                let gx = if xc.is_tracked() {
                    // dX = dY @ W^T.
                    let d = MatmulDims {
                        trans_b: true,
                        ..MatmulDims::plain(m, n, k)
                    };
                    let s = be.matmul(g.storage(), wc.storage(), d)?;
                    Some(Tensor::from_storage(be, s, xc.shape().clone()))
                } else {
                    None
                };
                let gw = if wc.is_tracked() {
                    // dW = X^T @ dY.
                    let d = MatmulDims {
                        trans_a: true,
                        ..MatmulDims::plain(k, m, n)
                    };
                    let s = be.matmul(xc.storage(), g.storage(), d)?;
                    Some(Tensor::from_storage(be, s, wc.shape().clone()))
                } else {
                    None
                };
                let gb = if bc.is_tracked() {
                    Some(g.sum_to_shape(bc.shape())?)
                } else {
                    None
                };
                Ok(vec![gx, gw, gb])
            },
        ))
    }

    fn numel_rows(&self) -> usize {
        self.dims()[..self.rank() - 1].iter().product()
    }

    /// `[batch, r, c]` -> `shape`, summing over the batch when the operand was broadcast.
    fn sum_to_batch(&self, shape: &Shape, broadcast: bool) -> Result<Self> {
        if broadcast {
            self.sum(&[0], false)?.reshape(shape.clone())
        } else {
            self.reshape(shape.clone())
        }
    }
}
