//! `lstm_cell`: SEEDS.md section 3's LSTM step (TensorFlow `BasicLSTMCell`) worked
//! through on small fixed numbers, on any backend.
//!
//! `[x_t, h_{t-1}]` times `W` plus `b` gives the gate pre-activations, split into four
//! blocks i, j, f, o; then the framework's fused cell op ([`Tensor::lstm_cell`], the
//! one `nn::Lstm` runs every step) computes
//! `c_t = c_{t-1} sigmoid(f + 1) + sigmoid(i) tanh(j)` and `h_t = tanh(c_t) sigmoid(o)`.

use tensor::{Backend, Error, Result, Tensor};

/// Features of `x_t` in the worked example.
pub const FEATURES: usize = 2;
/// Units (the size of `h` and `c`) in the worked example.
pub const UNITS: usize = 2;
/// TensorFlow's `forget_bias`.
pub const FORGET_BIAS: f32 = 1.0;

/// The inputs of one step.
#[derive(Clone, Debug, PartialEq)]
pub struct CellInputs {
    /// `x_t`, `features` values.
    pub x: Vec<f32>,
    /// `h_{t-1}`, `units` values.
    pub h_prev: Vec<f32>,
    /// `c_{t-1}`, `units` values.
    pub c_prev: Vec<f32>,
    /// `W`, `[features + units, 4 units]` row-major; the columns are the blocks i, j, f, o.
    pub w: Vec<f32>,
    /// `b`, `4 units` values.
    pub b: Vec<f32>,
    pub forget_bias: f32,
}

impl Default for CellInputs {
    /// The worked example: 2 features, 2 units, `W` 4 x 8.
    fn default() -> Self {
        CellInputs {
            x: vec![1.0, -0.5],
            h_prev: vec![0.2, -0.1],
            c_prev: vec![0.5, -0.3],
            #[rustfmt::skip]
            w: vec![
                //  i0    i1    j0    j1    f0    f1    o0    o1
                 0.5, -0.3,  0.8,  0.1, -0.2,  0.4,  0.6, -0.7, // x_t[0]
                -0.4,  0.2,  0.3, -0.6,  0.5, -0.1,  0.2,  0.9, // x_t[1]
                 0.1,  0.7, -0.5,  0.4,  0.3,  0.2, -0.8,  0.3, // h_{t-1}[0]
                 0.6, -0.2,  0.1,  0.5, -0.4,  0.7,  0.3, -0.1, // h_{t-1}[1]
            ],
            b: vec![0.1, -0.1, 0.0, 0.2, 0.0, 0.0, -0.1, 0.1],
            forget_bias: FORGET_BIAS,
        }
    }
}

impl CellInputs {
    /// Features of `x_t`.
    pub fn features(&self) -> usize {
        self.x.len()
    }

    /// Units of the state.
    pub fn units(&self) -> usize {
        self.h_prev.len()
    }

    fn check(&self) -> Result<()> {
        let (n, u) = (self.features(), self.units());
        let ok = n > 0
            && u > 0
            && self.c_prev.len() == u
            && self.w.len() == (n + u) * 4 * u
            && self.b.len() == 4 * u;
        if ok {
            Ok(())
        } else {
            Err(Error::argument(
                "lstm_cell",
                format!(
                    "x {n}, h {u}, c {}, W {} and b {} values do not make a cell \
                     (W needs (features + units) x 4 units, b 4 units)",
                    self.c_prev.len(),
                    self.w.len(),
                    self.b.len()
                ),
            ))
        }
    }
}

/// Everything the step computed, read back from the device.
#[derive(Clone, Debug, PartialEq)]
pub struct CellStep {
    pub inputs: CellInputs,
    /// `[x_t, h_{t-1}]`.
    pub concat: Vec<f32>,
    /// `[x_t, h_{t-1}] W + b`: the blocks i, j, f, o one after the other.
    pub gates: Vec<f32>,
    /// `sigmoid(i)`, `tanh(j)`, `sigmoid(f + forget_bias)`, `sigmoid(o)`, for the table.
    pub activations: [Vec<f32>; 4],
    pub c: Vec<f32>,
    pub h: Vec<f32>,
}

impl CellStep {
    /// Gate block `k` (0: i, 1: j, 2: f, 3: o).
    pub fn block(&self, k: usize) -> &[f32] {
        let u = self.inputs.units();
        &self.gates[k * u..(k + 1) * u]
    }
}

/// Runs the step on `be`: the concatenation and the product with the framework's
/// tensor ops, `c_t` and `h_t` with the fused cell op.
pub fn step<B: Backend>(be: &B, inputs: &CellInputs) -> Result<CellStep> {
    inputs.check()?;
    let (n, u) = (inputs.features(), inputs.units());
    let x = Tensor::from_slice(be, &inputs.x, [1, n])?;
    let h_prev = Tensor::from_slice(be, &inputs.h_prev, [1, u])?;
    let c_prev = Tensor::from_slice(be, &inputs.c_prev, [1, u])?;
    let w = Tensor::from_slice(be, &inputs.w, [n + u, 4 * u])?;
    let b = Tensor::from_slice(be, &inputs.b, [4 * u])?;
    let concat = Tensor::concat(&[x, h_prev], 1)?;
    let gates = concat.matmul(&w)?.add(&b)?;
    let (c, h) = Tensor::lstm_cell(&gates, &c_prev, inputs.forget_bias)?;
    let blocks = gates.chunk(4, 1)?;
    let activations = [
        blocks[0].sigmoid()?.to_vec()?,
        blocks[1].tanh()?.to_vec()?,
        blocks[2]
            .add_scalar(inputs.forget_bias)?
            .sigmoid()?
            .to_vec()?,
        blocks[3].sigmoid()?.to_vec()?,
    ];
    Ok(CellStep {
        inputs: inputs.clone(),
        concat: concat.to_vec()?,
        gates: gates.to_vec()?,
        activations,
        c: c.to_vec()?,
        h: h.to_vec()?,
    })
}

fn row(values: &[f32]) -> String {
    let cells: Vec<String> = values.iter().map(|v| format!("{v:8.4}")).collect();
    format!("[{}]", cells.join(""))
}

/// The step as a small table, the formulas beside the results.
pub fn table(s: &CellStep, backend: &str) -> String {
    let i = &s.inputs;
    let (n, u) = (i.features(), i.units());
    let fb = i.forget_bias;
    let mut out = format!(
        "LSTM cell step (TensorFlow BasicLSTMCell, forget_bias {fb}) on {backend}: \
         {n} features, {u} units\n\n"
    );
    let line = |out: &mut String, label: &str, values: &[f32], note: &str| {
        let text = format!(
            "{label:<16}{:<width$}  {note}",
            row(values),
            width = 8 * 4 * u + 2
        );
        *out += text.trim_end();
        *out += "\n";
    };
    line(&mut out, "x_t", &i.x, "input at step t");
    line(&mut out, "h_{t-1}", &i.h_prev, "previous output");
    line(&mut out, "c_{t-1}", &i.c_prev, "previous cell state");
    line(&mut out, "[x_t, h_{t-1}]", &s.concat, "concatenation");
    out += &format!("\nW ({} x {}), columns", n + u, 4 * u);
    for gate in ["i", "j", "f", "o"] {
        for k in 0..u {
            out += &format!(" {gate}{k}");
        }
    }
    out += ":\n";
    for r in 0..n + u {
        let name = if r < n {
            format!("  x_t[{r}]")
        } else {
            format!("  h_{{t-1}}[{}]", r - n)
        };
        line(&mut out, &name, &i.w[r * 4 * u..(r + 1) * 4 * u], "");
    }
    line(&mut out, "b", &i.b, "");
    out += "\ngates = [x_t, h_{t-1}] W + b, split into four blocks:\n";
    let names = [
        ("i", "input gate", "sigmoid(i)".to_string()),
        ("j", "new input", "tanh(j)".to_string()),
        ("f", "forget gate", format!("sigmoid(f + {fb})")),
        ("o", "output gate", "sigmoid(o)".to_string()),
    ];
    for (k, (gate, what, act)) in names.iter().enumerate() {
        out += &format!(
            "  {gate:<14}{}  {what:<12}{act:<16}= {}\n",
            row(s.block(k)),
            row(&s.activations[k])
        );
    }
    out += "\n";
    line(
        &mut out,
        "c_t",
        &s.c,
        &format!("c_t = c_{{t-1}} sigmoid(f + {fb}) + sigmoid(i) tanh(j)"),
    );
    line(&mut out, "h_t", &s.h, "h_t = tanh(c_t) sigmoid(o)");
    out
}
