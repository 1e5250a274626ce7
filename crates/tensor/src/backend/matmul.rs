//! The matmul family: batched matrix products.

use super::{BinaryOp, BroadcastLayout, ElementwiseOps, StorageOps, UnaryOp};
use crate::Result;

/// Dimensions of a batched matrix product `C[b] = op(A[b]) @ op(B[b])`.
///
/// `op(A)` is `m x k` and `op(B)` is `k x n`; with `trans_a`, A is stored as
/// `k x m` row-major (and likewise B as `n x k` with `trans_b`). A batch stride
/// of 0 reuses the same matrix for every batch (broadcast). C is `batch x m x n`,
/// contiguous.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatmulDims {
    pub batch: usize,
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub trans_a: bool,
    pub trans_b: bool,
    /// Elements between consecutive A matrices (0 = broadcast, else `m * k`).
    pub a_batch_stride: usize,
    /// Elements between consecutive B matrices (0 = broadcast, else `k * n`).
    pub b_batch_stride: usize,
}

impl MatmulDims {
    /// One plain product: row-major `m x k` by `k x n`, no transposes, no batch.
    pub fn plain(m: usize, k: usize, n: usize) -> Self {
        MatmulDims {
            batch: 1,
            m,
            k,
            n,
            trans_a: false,
            trans_b: false,
            a_batch_stride: m * k,
            b_batch_stride: k * n,
        }
    }
}

/// Batched matrix products.
pub trait MatmulOps: StorageOps + ElementwiseOps {
    /// Batched matrix product, see [`MatmulDims`].
    fn matmul(
        &self,
        a: &Self::Storage,
        b: &Self::Storage,
        dims: MatmulDims,
    ) -> Result<Self::Storage>;

    /// `act(x @ w + bias)` for row-major `x` `[m, k]`, `w` `[k, n]` and `bias` `[n]`
    /// added to every row (no activation when `act` is `None`): a Dense layer's
    /// forward pass in one op. By default the product, the bias add and the activation
    /// one after another; a backend may apply the bias and the activation while the
    /// product's output is still in its caches (the same operations in the same
    /// order, so the same bits).
    #[allow(clippy::too_many_arguments)]
    fn matmul_bias_act(
        &self,
        x: &Self::Storage,
        w: &Self::Storage,
        bias: &Self::Storage,
        act: Option<UnaryOp>,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<Self::Storage> {
        let y = self.matmul(x, w, MatmulDims::plain(m, k, n))?;
        let layout = BroadcastLayout {
            out_dims: vec![m, n],
            a_strides: vec![n, 1],
            b_strides: vec![0, 1],
        };
        let y = self.binary(BinaryOp::Add, &y, bias, &layout)?;
        match act {
            Some(act) => self.unary(act, &y, m * n),
            None => Ok(y),
        }
    }
}
