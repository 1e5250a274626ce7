//! The softmax family: the fused, stable softmax and log-softmax.

use super::StorageOps;
use crate::Result;

/// Softmax and log-softmax over rows.
pub trait SoftmaxOps: StorageOps {
    /// Softmax (or log-softmax) over the last axis of a `rows x cols` matrix,
    /// computed stably (max subtracted).
    fn softmax(
        &self,
        x: &Self::Storage,
        rows: usize,
        cols: usize,
        log: bool,
    ) -> Result<Self::Storage>;
}
