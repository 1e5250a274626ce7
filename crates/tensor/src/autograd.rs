//! Define-by-run reverse-mode autograd.
//!
//! Each op result whose inputs are tracked holds a [`Node`]: its inputs and a rule
//! mapping the output gradient to input gradients. `backward` orders the graph
//! topologically (iteratively, so long LSTM unrolls do not overflow the stack) and
//! runs the rules in reverse with recording switched off.

use crate::{Backend, Error, Result, Tensor, TensorId};
use std::cell::Cell;
use std::collections::{HashMap, HashSet};

/// A backward rule: `(grad_output, output) -> grad per input` (`None` = no gradient).
pub(crate) type BackwardFn<B> =
    Box<dyn Fn(&Tensor<B>, &Tensor<B>) -> Result<Vec<Option<Tensor<B>>>> + Send + Sync + 'static>;

pub(crate) struct Node<B: Backend> {
    pub(crate) op: &'static str,
    pub(crate) inputs: Vec<Tensor<B>>,
    pub(crate) backward: BackwardFn<B>,
    /// Set when the op is a narrow of its single input along `axis` from `start`.
    /// The engine then collects the pieces' gradients and joins them once, so
    /// splitting a tensor into T pieces costs O(size), not O(T * size), backward.
    pub(crate) narrow: Option<(usize, usize)>,
}

/// Gradient gathered so far for one tensor: a dense part and narrow pieces.
struct Pending<B: Backend> {
    dense: Option<Tensor<B>>,
    /// `(axis, start, gradient of the piece)`.
    pieces: Vec<(usize, usize, Tensor<B>)>,
}

impl<B: Backend> Pending<B> {
    fn new() -> Self {
        Pending {
            dense: None,
            pieces: Vec::new(),
        }
    }

    fn add_dense(&mut self, g: Tensor<B>) -> Result<()> {
        self.dense = Some(match self.dense.take() {
            Some(prev) => prev.add(&g)?,
            None => g,
        });
        Ok(())
    }

    /// The full gradient of a tensor of `dims`.
    fn finish(mut self, dims: &[usize]) -> Result<Tensor<B>> {
        if !self.pieces.is_empty() {
            let joined = join_pieces(std::mem::take(&mut self.pieces), dims)?;
            self.add_dense(joined)?;
        }
        self.dense
            .ok_or_else(|| Error::Autograd("internal: empty pending gradient".into()))
    }
}

/// Joins narrow pieces into one gradient of shape `dims`: one concat with zero gaps
/// when the pieces share an axis and do not overlap, else pad-and-add.
fn join_pieces<B: Backend>(
    mut pieces: Vec<(usize, usize, Tensor<B>)>,
    dims: &[usize],
) -> Result<Tensor<B>> {
    let axis = pieces[0].0;
    pieces.sort_by_key(|p| p.1);
    let disjoint = pieces.iter().all(|p| p.0 == axis)
        && pieces
            .windows(2)
            .all(|w| w[0].1 + w[0].2.dims()[axis] <= w[1].1);
    let backend = pieces[0].2.backend().clone();
    if disjoint {
        let mut parts = Vec::with_capacity(2 * pieces.len() + 1);
        let mut at = 0;
        for (_, start, g) in pieces {
            if start > at {
                let mut gap = dims.to_vec();
                gap[axis] = start - at;
                parts.push(Tensor::zeros(&backend, gap)?);
            }
            at = start + g.dims()[axis];
            parts.push(g);
        }
        if at < dims[axis] {
            let mut gap = dims.to_vec();
            gap[axis] = dims[axis] - at;
            parts.push(Tensor::zeros(&backend, gap)?);
        }
        return if parts.len() == 1 {
            Ok(parts.pop().expect("one part"))
        } else {
            Tensor::concat(&parts, axis as isize)
        };
    }
    let mut total: Option<Tensor<B>> = None;
    for (axis, start, g) in pieces {
        let mut offsets = vec![0; dims.len()];
        offsets[axis] = start;
        let s = backend.pad(g.storage(), g.dims(), dims, &offsets)?;
        let full = Tensor::from_storage(&backend, s, dims.to_vec());
        total = Some(match total {
            Some(t) => t.add(&full)?,
            None => full,
        });
    }
    Ok(total.expect("at least one piece"))
}

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops record the graph on this thread.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Runs `f` with graph recording switched off (like `torch.no_grad()`).
pub fn no_grad<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            GRAD_ENABLED.with(|g| g.set(self.0));
        }
    }
    let _restore = Restore(GRAD_ENABLED.with(|g| g.replace(false)));
    f()
}

/// Gradients of a scalar with respect to the tracked leaves it depends on.
pub struct Gradients<B: Backend> {
    grads: HashMap<TensorId, Tensor<B>>,
}

impl<B: Backend> Gradients<B> {
    /// The gradient of `t`, if `t` is a leaf that requires grad and the loss depends on it.
    pub fn get(&self, t: &Tensor<B>) -> Option<&Tensor<B>> {
        self.grads.get(&t.id())
    }

    /// The gradient by id.
    pub fn get_by_id(&self, id: TensorId) -> Option<&Tensor<B>> {
        self.grads.get(&id)
    }

    /// Removes and returns the gradient of `t`.
    pub fn remove(&mut self, t: &Tensor<B>) -> Option<Tensor<B>> {
        self.grads.remove(&t.id())
    }

    /// Number of leaves with a gradient.
    pub fn len(&self) -> usize {
        self.grads.len()
    }

    /// Whether no leaf received a gradient.
    pub fn is_empty(&self) -> bool {
        self.grads.is_empty()
    }
}

impl<B: Backend> Tensor<B> {
    /// Back-propagates from this one-element tensor (seed gradient 1).
    pub fn backward(&self) -> Result<Gradients<B>> {
        if self.numel() != 1 {
            return Err(Error::Autograd(format!(
                "backward() needs a one-element loss, got shape {}; use backward_with",
                self.shape()
            )));
        }
        let seed = Tensor::ones(self.backend(), self.shape().clone())?;
        self.backward_with(&seed)
    }

    /// Back-propagates with an explicit output gradient of this tensor's shape.
    pub fn backward_with(&self, grad: &Tensor<B>) -> Result<Gradients<B>> {
        if grad.shape() != self.shape() {
            return Err(Error::shape(
                "backward_with",
                &[self.shape(), grad.shape()],
                "gradient must have the output's shape",
            ));
        }
        if !self.is_tracked() {
            return Err(Error::Autograd(
                "backward() on a tensor that does not depend on any tensor requiring grad"
                    .to_string(),
            ));
        }
        crate::no_grad(|| self.run_backward(grad))
    }

    fn run_backward(&self, seed: &Tensor<B>) -> Result<Gradients<B>> {
        let order = topological_order(self);
        let mut pending: HashMap<TensorId, Pending<B>> = HashMap::new();
        let mut first = Pending::new();
        first.add_dense(seed.detach())?;
        pending.insert(self.id(), first);
        let mut leaves: HashMap<TensorId, Tensor<B>> = HashMap::new();
        for t in order.iter().rev() {
            let Some(collected) = pending.remove(&t.id()) else {
                continue;
            };
            let grad = collected.finish(t.dims())?;
            if t.inner.requires_grad {
                leaves.insert(t.id(), grad);
                continue;
            }
            let Some(node) = &t.inner.node else { continue };
            if let Some((axis, start)) = node.narrow {
                let input = &node.inputs[0];
                if input.is_tracked() {
                    pending
                        .entry(input.id())
                        .or_insert_with(Pending::new)
                        .pieces
                        .push((axis, start, grad));
                }
                continue;
            }
            let output = t.detach();
            let input_grads = (node.backward)(&grad, &output)?;
            if input_grads.len() != node.inputs.len() {
                return Err(Error::Autograd(format!(
                    "{}: backward rule returned {} gradients for {} inputs",
                    node.op,
                    input_grads.len(),
                    node.inputs.len()
                )));
            }
            for (input, g) in node.inputs.iter().zip(input_grads) {
                let Some(g) = g else { continue };
                if !input.is_tracked() {
                    continue;
                }
                if g.shape() != input.shape() {
                    return Err(Error::Autograd(format!(
                        "{}: gradient shape {} does not match input shape {}",
                        node.op,
                        g.shape(),
                        input.shape()
                    )));
                }
                pending
                    .entry(input.id())
                    .or_insert_with(Pending::new)
                    .add_dense(g)?;
            }
        }
        Ok(Gradients { grads: leaves })
    }
}

/// Post-order over tracked tensors reachable from `root` (inputs before outputs).
fn topological_order<B: Backend>(root: &Tensor<B>) -> Vec<Tensor<B>> {
    let mut order = Vec::new();
    let mut visited = HashSet::new();
    // (tensor, whether its inputs were already pushed)
    let mut stack = vec![(root.clone(), false)];
    while let Some((t, expanded)) = stack.pop() {
        if expanded {
            order.push(t);
            continue;
        }
        if !visited.insert(t.id()) {
            continue;
        }
        stack.push((t.clone(), true));
        if let Some(node) = &t.inner.node {
            for input in &node.inputs {
                if input.is_tracked() && !visited.contains(&input.id()) {
                    stack.push((input.clone(), false));
                }
            }
        }
    }
    order
}
