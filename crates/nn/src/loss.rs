//! Losses with Keras semantics, all with mean reduction over the batch.
//!
//! The `*_with_logits` forms are the numerically stable ones; the probability
//! forms clip to `[EPSILON, 1 - EPSILON]` as Keras does.

use tensor::{Backend, Error, Result, Tensor};

/// Keras' fuzz factor for clipping probabilities.
pub const EPSILON: f32 = 1e-7;

fn same_shape<B: Backend>(op: &'static str, a: &Tensor<B>, b: &Tensor<B>) -> Result<()> {
    if a.shape() != b.shape() {
        return Err(Error::shape(
            op,
            &[a.shape(), b.shape()],
            "prediction and target differ",
        ));
    }
    Ok(())
}

/// Binary cross-entropy from logits `x` and targets `z` in [0, 1]:
/// `mean(max(x, 0) - x z + log(1 + e^-|x|))`, stable for any `x`.
pub fn binary_cross_entropy_with_logits<B: Backend>(
    logits: &Tensor<B>,
    targets: &Tensor<B>,
) -> Result<Tensor<B>> {
    same_shape("binary_cross_entropy_with_logits", logits, targets)?;
    let softplus = logits.abs()?.neg()?.exp()?.add_scalar(1.0)?.log()?;
    logits
        .relu()?
        .sub(&logits.mul(targets)?)?
        .add(&softplus)?
        .mean_all()
}

/// Binary cross-entropy from probabilities, clipped to `[EPSILON, 1 - EPSILON]`.
pub fn binary_cross_entropy<B: Backend>(
    probs: &Tensor<B>,
    targets: &Tensor<B>,
) -> Result<Tensor<B>> {
    same_shape("binary_cross_entropy", probs, targets)?;
    let p = probs.clamp(EPSILON, 1.0 - EPSILON)?;
    let pos = targets.mul(&p.log()?)?;
    let neg = targets
        .neg()?
        .add_scalar(1.0)?
        .mul(&p.neg()?.add_scalar(1.0)?.log()?)?;
    pos.add(&neg)?.neg()?.mean_all()
}

/// Categorical cross-entropy from logits `[.., classes]` and one-hot (or soft) targets.
pub fn categorical_cross_entropy_with_logits<B: Backend>(
    logits: &Tensor<B>,
    targets: &Tensor<B>,
) -> Result<Tensor<B>> {
    same_shape("categorical_cross_entropy_with_logits", logits, targets)?;
    targets
        .mul(&logits.log_softmax(-1)?)?
        .sum(&[-1], false)?
        .neg()?
        .mean_all()
}

/// Categorical cross-entropy from probabilities: rows are renormalised to sum to 1
/// and clipped, as Keras does.
pub fn categorical_cross_entropy<B: Backend>(
    probs: &Tensor<B>,
    targets: &Tensor<B>,
) -> Result<Tensor<B>> {
    same_shape("categorical_cross_entropy", probs, targets)?;
    let p = probs
        .div(&probs.sum(&[-1], true)?)?
        .clamp(EPSILON, 1.0 - EPSILON)?;
    targets.mul(&p.log()?)?.sum(&[-1], false)?.neg()?.mean_all()
}

fn one_hot_like<B: Backend>(
    op: &'static str,
    x: &Tensor<B>,
    labels: &[usize],
) -> Result<Tensor<B>> {
    let classes = *x.dims().last().unwrap_or(&0);
    let rows = x.numel().checked_div(classes).unwrap_or(0);
    if x.rank() < 1 || rows != labels.len() {
        return Err(Error::shape(
            op,
            &[x.shape()],
            format!("{} labels for {rows} rows", labels.len()),
        ));
    }
    Tensor::one_hot(x.backend(), labels, classes)?.reshape(x.shape().clone())
}

/// Sparse categorical cross-entropy from logits and integer labels (one per row).
pub fn sparse_categorical_cross_entropy_with_logits<B: Backend>(
    logits: &Tensor<B>,
    labels: &[usize],
) -> Result<Tensor<B>> {
    let t = one_hot_like("sparse_categorical_cross_entropy", logits, labels)?;
    categorical_cross_entropy_with_logits(logits, &t)
}

/// Sparse categorical cross-entropy from probabilities and integer labels.
pub fn sparse_categorical_cross_entropy<B: Backend>(
    probs: &Tensor<B>,
    labels: &[usize],
) -> Result<Tensor<B>> {
    let t = one_hot_like("sparse_categorical_cross_entropy", probs, labels)?;
    categorical_cross_entropy(probs, &t)
}

/// Mean squared error.
pub fn mse<B: Backend>(pred: &Tensor<B>, target: &Tensor<B>) -> Result<Tensor<B>> {
    same_shape("mse", pred, target)?;
    pred.sub(target)?.square()?.mean_all()
}
