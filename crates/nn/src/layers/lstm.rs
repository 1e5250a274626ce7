//! Long short-term memory layer (TensorFlow `BasicLSTMCell` gates, Keras interface).

use crate::{Init, Mode, Module, Param, Seeds};
use tensor::{Backend, Error, Result, Tensor};

/// The recurrent state of an [`Lstm`]: output `h` and cell `c`, each `[batch, units]`.
#[derive(Clone, Debug)]
pub struct LstmState<B: Backend> {
    pub h: Tensor<B>,
    pub c: Tensor<B>,
}

/// Keras `LSTM(units)` over `[batch, time, features]`.
///
/// Each step computes `gates = x_t W_x + h_{t-1} W_h + b`, split as i, j, f, o (the
/// TensorFlow `BasicLSTMCell` order), then the fused cell
/// `c_t = c_{t-1} sigmoid(f + forget_bias) + sigmoid(i) tanh(j)`, `h_t = tanh(c_t) sigmoid(o)`.
/// With a zero bias and `forget_bias = 1` this starts like Keras' `unit_forget_bias`.
/// Initialisation as Keras: kernel Glorot uniform, recurrent kernel orthogonal, bias zeros.
///
/// The output is the last `h` `[batch, units]`, or every `h` `[batch, time, units]`
/// with `return_sequences`. Parameter names are Keras': `kernel` `[features, 4 units]`,
/// `recurrent_kernel` `[units, 4 units]`, `bias` `[4 units]`.
pub struct Lstm<B: Backend> {
    pub kernel: Param<B>,
    pub recurrent_kernel: Param<B>,
    pub bias: Param<B>,
    pub forget_bias: f32,
    pub return_sequences: bool,
    units: usize,
}

impl<B: Backend> Lstm<B> {
    /// An LSTM reading `input_dim` features per step and keeping `units` of state.
    pub fn new(backend: &B, input_dim: usize, units: usize, seeds: &mut Seeds) -> Result<Self> {
        if input_dim == 0 || units == 0 {
            return Err(Error::argument(
                "LSTM",
                format!("input_dim {input_dim} and units {units} must be positive"),
            ));
        }
        let kernel = Init::GlorotUniform.make(backend, &[input_dim, 4 * units], seeds.next())?;
        let recurrent = Init::Orthogonal.make(backend, &[units, 4 * units], seeds.next())?;
        Ok(Lstm {
            kernel: Param::new(kernel),
            recurrent_kernel: Param::new(recurrent),
            bias: Param::new(Tensor::zeros(backend, [4 * units])?),
            forget_bias: 1.0,
            return_sequences: false,
            units,
        })
    }

    /// Whether to return the output of every step (`[batch, time, units]`).
    pub fn return_sequences(mut self, return_sequences: bool) -> Self {
        self.return_sequences = return_sequences;
        self
    }

    /// Size of the state.
    pub fn units(&self) -> usize {
        self.units
    }

    /// The forward pass from an explicit initial state (zeros when `None`); returns the
    /// output (as [`Module::forward`]) and the final state, so that generation can
    /// feed one step at a time.
    pub fn forward_with_state(
        &self,
        x: &Tensor<B>,
        initial: Option<&LstmState<B>>,
        _mode: Mode,
    ) -> Result<(Tensor<B>, LstmState<B>)> {
        let kernel = self.kernel.value();
        let features = kernel.dims().first().copied().unwrap_or(0);
        let u = self.units;
        if x.rank() != 3 || x.dims()[2] != features || x.dims()[1] == 0 {
            return Err(Error::shape(
                "LSTM",
                &[x.shape(), kernel.shape()],
                format!("needs input [batch, time >= 1, {features}]"),
            ));
        }
        let (n, steps) = (x.dims()[0], x.dims()[1]);
        let (mut h, mut c) = match initial {
            Some(s) => {
                if s.h.dims() != [n, u] || s.c.dims() != [n, u] {
                    return Err(Error::shape(
                        "LSTM",
                        &[x.shape(), s.h.shape(), s.c.shape()],
                        format!("initial h and c must both be [{n}, {u}]"),
                    ));
                }
                (Some(s.h.clone()), s.c.clone())
            }
            None => (None, Tensor::zeros(x.backend(), [n, u])?),
        };
        // The input projection of every step in one GEMM; time first so each step is a
        // contiguous block.
        let projected = x
            .matmul(&kernel)?
            .add(&self.bias.value())?
            .permute(&[1, 0, 2])?;
        let recurrent = self.recurrent_kernel.value();
        let mut outputs = Vec::with_capacity(if self.return_sequences { steps } else { 0 });
        for t in 0..steps {
            let mut gates = projected.narrow(0, t, t + 1)?.reshape([n, 4 * u])?;
            // A zero initial h contributes nothing: skip its product.
            if let Some(h) = &h {
                gates = gates.add(&h.matmul(&recurrent)?)?;
            }
            let (c_t, h_t) = Tensor::lstm_cell(&gates, &c, self.forget_bias)?;
            if self.return_sequences {
                outputs.push(h_t.reshape([n, 1, u])?);
            }
            c = c_t;
            h = Some(h_t);
        }
        let h = h.ok_or_else(|| Error::argument("LSTM", "no time steps"))?;
        let output = if self.return_sequences {
            Tensor::concat(&outputs, 1)?
        } else {
            h.clone()
        };
        Ok((output, LstmState { h, c }))
    }
}

crate::impl_params!(Lstm {
    kernel,
    recurrent_kernel,
    bias
});

impl<B: Backend> Module<B> for Lstm<B> {
    fn forward(&self, x: &Tensor<B>, mode: Mode) -> Result<Tensor<B>> {
        Ok(self.forward_with_state(x, None, mode)?.0)
    }

    fn kind(&self) -> String {
        "LSTM".into()
    }
}
