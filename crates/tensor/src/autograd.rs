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
        let mut pending: HashMap<TensorId, Tensor<B>> = HashMap::new();
        pending.insert(self.id(), seed.detach());
        let mut leaves: HashMap<TensorId, Tensor<B>> = HashMap::new();
        for t in order.iter().rev() {
            let Some(grad) = pending.remove(&t.id()) else {
                continue;
            };
            if t.inner.requires_grad {
                leaves.insert(t.id(), grad);
                continue;
            }
            let Some(node) = &t.inner.node else { continue };
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
                let acc = match pending.remove(&input.id()) {
                    Some(prev) => prev.add(&g)?,
                    None => g,
                };
                pending.insert(input.id(), acc);
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
