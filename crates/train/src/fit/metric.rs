//! Losses and metrics of supervised training, and evaluation of a model on a data set.

use super::{Dataset, Logs};
use crate::{Error, Result};
use nn::{Mode, Module};
use tensor::{Backend, Tensor, no_grad};

/// The loss `fit` minimises: a scalar from the model's outputs and the labels.
pub trait Loss<B: Backend>: Send {
    /// The mean loss of a batch.
    fn loss(&self, outputs: &Tensor<B>, labels: &[usize]) -> Result<Tensor<B>>;
}

/// Keras `SparseCategoricalCrossentropy(from_logits=True)`: the model outputs class
/// scores (logits) along its last axis, one row per label; the loss is the mean over
/// all rows (every time step of a sequence counts as one).
#[derive(Clone, Copy, Debug, Default)]
pub struct SparseCategoricalCrossEntropy;

impl<B: Backend> Loss<B> for SparseCategoricalCrossEntropy {
    fn loss(&self, outputs: &Tensor<B>, labels: &[usize]) -> Result<Tensor<B>> {
        let classes = *outputs.dims().last().unwrap_or(&0);
        let rows = outputs.reshape_infer(&[-1, classes as isize])?;
        Ok(nn::loss::sparse_categorical_cross_entropy_with_logits(
            &rows, labels,
        )?)
    }
}

/// A batch's outputs, on the host, for metrics.
#[derive(Clone, Copy, Debug)]
pub struct Predictions<'a> {
    /// Class scores, `classes` per row, one row per label.
    pub outputs: &'a [f32],
    pub classes: usize,
    /// The labels, one per row.
    pub labels: &'a [usize],
    /// Examples in the batch (rows per example: `labels.len() / examples`).
    pub examples: usize,
}

impl Predictions<'_> {
    /// The scores of row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.outputs[i * self.classes..(i + 1) * self.classes]
    }

    /// Rows per example (time steps of a sequence; 1 for a classifier).
    pub fn rows_per_example(&self) -> usize {
        self.labels.len() / self.examples.max(1)
    }
}

/// A metric accumulated over an epoch (or an evaluation), with Keras' meaning.
///
/// Its state is a few numbers so that a checkpoint taken in the middle of an epoch
/// resumes the epoch's figures exactly.
pub trait Metric: Send {
    /// The name in logs and `metrics.jsonl` (`accuracy`; validation adds `val_`).
    fn name(&self) -> String;
    /// Adds a batch.
    fn update(&mut self, p: &Predictions);
    /// The value over what was added since the last reset.
    fn result(&self) -> f64;
    /// Starts over.
    fn reset(&mut self);
    /// The accumulated state.
    fn state(&self) -> Vec<f64>;
    /// Restores [`Metric::state`].
    fn set_state(&mut self, state: &[f64]) -> Result<()>;
    /// A new, empty metric of the same kind (for validation, or one batch's figure).
    fn fresh(&self) -> Box<dyn Metric>;
}

/// Index of the largest score (the first of equals), from `datasets`.
pub use datasets::argmax;

/// A count of hits over a count of cases: the state of the accuracy metrics.
#[derive(Clone, Copy, Debug, Default)]
struct Ratio {
    hits: f64,
    total: f64,
}

impl Ratio {
    fn result(&self) -> f64 {
        if self.total > 0.0 {
            self.hits / self.total
        } else {
            0.0
        }
    }

    fn set(&mut self, name: &str, state: &[f64]) -> Result<()> {
        match state {
            [h, t] if h.is_finite() && t.is_finite() && *h >= 0.0 && *t >= *h => {
                self.hits = *h;
                self.total = *t;
                Ok(())
            }
            _ => Err(Error::argument(
                "checkpoint",
                format!("bad state {state:?} of metric {name}"),
            )),
        }
    }
}

/// Keras `accuracy` for integer labels: the share of rows whose top score is the label
/// (per time step for sequences, as Keras reports it).
#[derive(Clone, Copy, Debug, Default)]
pub struct Accuracy(Ratio);

impl Metric for Accuracy {
    fn name(&self) -> String {
        "accuracy".into()
    }
    fn update(&mut self, p: &Predictions) {
        for (i, &label) in p.labels.iter().enumerate() {
            self.0.hits += f64::from(u8::from(argmax(p.row(i)) == label));
            self.0.total += 1.0;
        }
    }
    fn result(&self) -> f64 {
        self.0.result()
    }
    fn reset(&mut self) {
        self.0 = Ratio::default();
    }
    fn state(&self) -> Vec<f64> {
        vec![self.0.hits, self.0.total]
    }
    fn set_state(&mut self, state: &[f64]) -> Result<()> {
        self.0.set("accuracy", state)
    }
    fn fresh(&self) -> Box<dyn Metric> {
        Box::new(Accuracy::default())
    }
}

/// Keras `SparseTopKCategoricalAccuracy(k)`: the share of rows whose label is among the
/// `k` top scores (ties with the k-th score count as in).
#[derive(Clone, Copy, Debug)]
pub struct TopKAccuracy {
    k: usize,
    ratio: Ratio,
}

impl TopKAccuracy {
    /// Top-`k` accuracy, `k` at least 1.
    pub fn new(k: usize) -> Result<Self> {
        if k == 0 {
            return Err(Error::argument("top-k accuracy", "k must be at least 1"));
        }
        Ok(TopKAccuracy {
            k,
            ratio: Ratio::default(),
        })
    }
}

impl Metric for TopKAccuracy {
    fn name(&self) -> String {
        format!("top{}_accuracy", self.k)
    }
    fn update(&mut self, p: &Predictions) {
        for (i, &label) in p.labels.iter().enumerate() {
            let row = p.row(i);
            let hit = row.get(label).is_some_and(|&target| {
                // Rows scoring strictly above the label's score.
                row.iter().filter(|&&x| x > target).count() < self.k
            });
            self.ratio.hits += f64::from(u8::from(hit));
            self.ratio.total += 1.0;
        }
    }
    fn result(&self) -> f64 {
        self.ratio.result()
    }
    fn reset(&mut self) {
        self.ratio = Ratio::default();
    }
    fn state(&self) -> Vec<f64> {
        vec![self.ratio.hits, self.ratio.total]
    }
    fn set_state(&mut self, state: &[f64]) -> Result<()> {
        let name = self.name();
        self.ratio.set(&name, state)
    }
    fn fresh(&self) -> Box<dyn Metric> {
        Box::new(TopKAccuracy {
            k: self.k,
            ratio: Ratio::default(),
        })
    }
}

/// The model's outputs on a batch of `data`, in evaluation mode, as a tensor.
pub(crate) fn batch_tensor<B: Backend>(
    backend: &B,
    data: &dyn Dataset,
    inputs: Vec<f32>,
    examples: usize,
) -> Result<Tensor<B>> {
    let mut shape = vec![examples];
    shape.extend(data.input_shape());
    Ok(Tensor::from_vec(backend, inputs, shape)?)
}

/// Checks that a model output holds one row of class scores per label.
pub(crate) fn check_outputs(outputs: &[usize], labels: usize) -> Result<usize> {
    let classes = *outputs.last().unwrap_or(&0);
    let rows: usize = outputs.iter().rev().skip(1).product();
    if classes == 0 || rows != labels {
        return Err(Error::argument(
            "fit",
            format!(
                "the model's output {outputs:?} does not hold one row of class scores per \
                 label ({labels} labels in the batch)"
            ),
        ));
    }
    Ok(classes)
}

/// Keras `model.evaluate`: the mean loss and the metrics of `model` over `data`, in
/// evaluation mode (no dropout), `batch_size` examples at a time.
pub fn evaluate<B: Backend, M: Module<B> + ?Sized>(
    backend: &B,
    model: &M,
    loss: &dyn Loss<B>,
    metrics: &[Box<dyn Metric>],
    data: &dyn Dataset,
    batch_size: usize,
) -> Result<Logs> {
    if data.is_empty() {
        return Err(Error::argument(
            "evaluate",
            "the data set is empty: there is nothing to evaluate",
        ));
    }
    let mut fresh: Vec<Box<dyn Metric>> = metrics.iter().map(|m| m.fresh()).collect();
    let (mut loss_sum, mut count) = (0.0f64, 0usize);
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(batch_size.max(1)) {
        let batch = data.batch(chunk, None)?;
        let x = batch_tensor(backend, data, batch.inputs, chunk.len())?;
        let (value, outputs, dims) = no_grad(|| -> Result<_> {
            let y = model.forward(&x, Mode::Eval)?;
            let value = loss.loss(&y, &batch.labels)?.to_vec()?[0];
            Ok((value, y.to_vec()?, y.dims().to_vec()))
        })?;
        let classes = check_outputs(&dims, batch.labels.len())?;
        let p = Predictions {
            outputs: &outputs,
            classes,
            labels: &batch.labels,
            examples: chunk.len(),
        };
        for m in &mut fresh {
            m.update(&p);
        }
        loss_sum += value as f64 * chunk.len() as f64;
        count += chunk.len();
    }
    let mut logs = Logs::default();
    logs.insert("loss", loss_sum / count.max(1) as f64);
    for m in &fresh {
        logs.insert(&m.name(), m.result());
    }
    Ok(logs)
}

/// Keras `model.predict`: the model's outputs on every example of `data` (evaluation
/// mode), `batch_size` at a time, flattened.
pub fn predict<B: Backend, M: Module<B> + ?Sized>(
    backend: &B,
    model: &M,
    data: &dyn Dataset,
    batch_size: usize,
) -> Result<Vec<f32>> {
    let indices: Vec<usize> = (0..data.len()).collect();
    let mut out = Vec::new();
    for chunk in indices.chunks(batch_size.max(1)) {
        let batch = data.batch(chunk, None)?;
        let x = batch_tensor(backend, data, batch.inputs, chunk.len())?;
        out.extend(no_grad(|| model.forward(&x, Mode::Eval)?.to_vec())?);
    }
    Ok(out)
}
