//! Parameters: shared, replaceable tensors with a trainable flag.

use std::sync::{Arc, RwLock};
use tensor::{Backend, Gradients, Tensor, TensorId};

/// A learnable weight (or a non-learnable buffer such as BatchNorm's moving mean).
///
/// A `Param` is a shared handle: layers hold one, optimizers and checkpoints reach
/// the same value through [`crate::Params::params`]. Its identity ([`Param::id`]) is
/// fixed for its life: every value it holds is a leaf tagged with it, so the gradient
/// of a loss is found whatever happened to the value since (a `set`, a freeze, a
/// copy-on-write update).
pub struct Param<B: Backend> {
    inner: Arc<Shared<B>>,
}

struct Shared<B: Backend> {
    id: TensorId,
    state: RwLock<State<B>>,
}

struct State<B: Backend> {
    value: Tensor<B>,
    trainable: bool,
    buffer: bool,
}

impl<B: Backend> Clone for Param<B> {
    fn clone(&self) -> Self {
        Param {
            inner: self.inner.clone(),
        }
    }
}

impl<B: Backend> std::fmt::Debug for Param<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.read();
        f.debug_struct("Param")
            .field("shape", s.value.shape())
            .field("trainable", &s.trainable)
            .field("buffer", &s.buffer)
            .finish()
    }
}

impl<B: Backend> Param<B> {
    /// A trainable weight.
    pub fn new(value: Tensor<B>) -> Self {
        Self::make(value, true, false)
    }

    /// A non-trainable state tensor saved with the model (moving statistics).
    pub fn buffer(value: Tensor<B>) -> Self {
        Self::make(value, false, true)
    }

    fn make(value: Tensor<B>, trainable: bool, buffer: bool) -> Self {
        let id = TensorId::fresh();
        Param {
            inner: Arc::new(Shared {
                id,
                state: RwLock::new(State {
                    value: value.leaf_with_id(id, trainable),
                    trainable,
                    buffer,
                }),
            }),
        }
    }

    /// The parameter's identity, which gradients are keyed by.
    pub fn id(&self) -> TensorId {
        self.inner.id
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State<B>> {
        // A poisoned lock only means another thread panicked mid-update; the value is still whole.
        self.inner.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State<B>> {
        self.inner.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The current value (a leaf that requires grad when trainable).
    pub fn value(&self) -> Tensor<B> {
        self.read().value.clone()
    }

    /// Replaces the value (shape is the caller's responsibility; checkpoints check it).
    pub fn set(&self, value: Tensor<B>) {
        let mut s = self.write();
        s.value = value.leaf_with_id(self.inner.id, s.trainable);
    }

    /// Runs `f` on the value in place (optimizer updates). Nothing else can read the
    /// parameter meanwhile; the trainable flag of the value is kept.
    pub fn update<R>(
        &self,
        f: impl FnOnce(&mut Tensor<B>) -> tensor::Result<R>,
    ) -> tensor::Result<R> {
        let mut s = self.write();
        let result = f(&mut s.value);
        // `f` may have put a new tensor in place: it is still this parameter.
        if s.value.id() != self.inner.id || s.value.is_requires_grad() != s.trainable {
            s.value = s.value.leaf_with_id(self.inner.id, s.trainable);
        }
        result
    }

    /// Whether optimizers update this parameter (Keras `trainable`).
    pub fn is_trainable(&self) -> bool {
        self.read().trainable
    }

    /// Whether this is a buffer (never trainable).
    pub fn is_buffer(&self) -> bool {
        self.read().buffer
    }

    /// Freezes (`false`) or unfreezes a weight; buffers stay frozen.
    pub fn set_trainable(&self, trainable: bool) {
        let mut s = self.write();
        if s.buffer || s.trainable == trainable {
            return;
        }
        s.trainable = trainable;
        s.value = s.value.leaf_with_id(self.inner.id, trainable);
    }

    /// This parameter's gradient in `grads`, if the loss depended on it.
    pub fn grad<'a>(&self, grads: &'a Gradients<B>) -> Option<&'a Tensor<B>> {
        grads.get_by_id(self.inner.id)
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.read().value.numel()
    }

    /// Whether two handles share one parameter.
    pub fn same(&self, other: &Param<B>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
