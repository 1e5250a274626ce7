//! The fused LSTM cell step (TensorFlow `BasicLSTMCell` semantics).

use crate::{Backend, Error, Result, Shape, Tensor};

impl<B: Backend> Tensor<B> {
    /// One LSTM gate step on pre-activations `gates = [x, h_prev] W + b` of shape
    /// `[n, 4h]` (split i, j, f, o) and the previous cell state `c_prev` `[n, h]`.
    ///
    /// Returns `(c, h)` with `c = c_prev sigmoid(f + forget_bias) + sigmoid(i) tanh(j)`
    /// and `h = tanh(c) sigmoid(o)`, computed (and differentiated) in one fused kernel.
    pub fn lstm_cell(gates: &Self, c_prev: &Self, forget_bias: f32) -> Result<(Self, Self)> {
        if gates.rank() != 2
            || c_prev.rank() != 2
            || gates.dims()[0] != c_prev.dims()[0]
            || c_prev.dims()[1].checked_mul(4) != Some(gates.dims()[1])
        {
            return Err(Error::shape(
                "lstm_cell",
                &[gates.shape(), c_prev.shape()],
                "need gates [n, 4h] and c_prev [n, h]",
            ));
        }
        let (n, hidden) = (c_prev.dims()[0], c_prev.dims()[1]);
        let be = gates.backend();
        let (c, h) = be.lstm_gates(gates.storage(), c_prev.storage(), n, hidden, forget_bias)?;
        // The op has two outputs; autograd nodes have one, so c and h are produced as
        // one [n, 2h] tensor whose halves are sliced out (their gradients meet there).
        let dims = vec![vec![n, hidden], vec![n, hidden]];
        let both = be.concat(&[&c, &h], &dims, 1, &[n, 2 * hidden])?;
        let (gc, cc) = (gates.clone(), c_prev.clone());
        let joined = Tensor::from_op(
            be,
            both,
            Shape::new(&[n, 2 * hidden]),
            "lstm_cell",
            &[gates, c_prev],
            move |g, _| {
                let parts = g.chunk(2, 1)?;
                let be = g.backend();
                let (dg, dc) = be.lstm_gates_backward(
                    gc.storage(),
                    cc.storage(),
                    parts[0].storage(),
                    parts[1].storage(),
                    n,
                    hidden,
                    forget_bias,
                )?;
                Ok(vec![
                    Some(Tensor::from_storage(be, dg, [n, 4 * hidden])),
                    Some(Tensor::from_storage(be, dc, [n, hidden])),
                ])
            },
        );
        if !joined.is_tracked() {
            return Ok((
                Tensor::from_storage(be, c, [n, hidden]),
                Tensor::from_storage(be, h, [n, hidden]),
            ));
        }
        let mut halves = joined.chunk(2, 1)?;
        let h = halves.pop().expect("two halves");
        let c = halves.pop().expect("two halves");
        Ok((c, h))
    }
}
