//! The lstm family: the fused LSTM cell step, forward and backward.

use super::StorageOps;
use crate::Result;

/// The fused LSTM gate step (TF BasicLSTMCell).
pub trait LstmOps: StorageOps {
    /// Fused LSTM cell step (TF BasicLSTMCell). `gates` is `[n, 4h]`, the
    /// pre-activations split as i, j, f, o; `c_prev` is `[n, h]`. Returns `(c, h)`:
    /// `c = c_prev * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)`,
    /// `h = tanh(c) * sigmoid(o)`.
    fn lstm_gates(
        &self,
        gates: &Self::Storage,
        c_prev: &Self::Storage,
        n: usize,
        hidden: usize,
        forget_bias: f32,
    ) -> Result<(Self::Storage, Self::Storage)>;
    /// Backward of [`LstmOps::lstm_gates`] given the gradients of `c` and `h`:
    /// returns `(d_gates [n, 4h], d_c_prev [n, h])`.
    #[allow(clippy::too_many_arguments)]
    fn lstm_gates_backward(
        &self,
        gates: &Self::Storage,
        c_prev: &Self::Storage,
        d_c: &Self::Storage,
        d_h: &Self::Storage,
        n: usize,
        hidden: usize,
        forget_bias: f32,
    ) -> Result<(Self::Storage, Self::Storage)>;
}
