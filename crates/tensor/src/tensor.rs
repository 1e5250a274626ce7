//! `Tensor<B>`: an immutable f32 array on a backend, with an optional autograd node.

use crate::autograd::{self, BackwardFn, Node};
use crate::{Backend, Distribution, Error, Result, Shape};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Identity of a tensor, used to key gradients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(u64);

impl TensorId {
    /// A new identity, different from every other one handed out in this process.
    ///
    /// A holder of a long-lived leaf (a model parameter whose value is replaced by
    /// optimizer steps and checkpoint loads) takes one and tags every value it holds
    /// with it ([`Tensor::leaf_with_id`]), so gradients stay keyed by the holder.
    pub fn fresh() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        TensorId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

pub(crate) struct Inner<B: Backend> {
    pub(crate) id: TensorId,
    pub(crate) storage: B::Storage,
    pub(crate) shape: Shape,
    pub(crate) backend: B,
    /// Set on leaves that collect a gradient (parameters, inputs of a gradient check).
    pub(crate) requires_grad: bool,
    /// Set on results of ops whose inputs are tracked.
    pub(crate) node: Option<Node<B>>,
}

/// An n-dimensional f32 array on backend `B`. Cloning is cheap (shared).
pub struct Tensor<B: Backend> {
    pub(crate) inner: Arc<Inner<B>>,
}

impl<B: Backend> Clone for Tensor<B> {
    fn clone(&self) -> Self {
        Tensor {
            inner: self.inner.clone(),
        }
    }
}

impl<B: Backend> fmt::Debug for Tensor<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tensor")
            .field("id", &self.inner.id)
            .field("shape", &self.inner.shape)
            .field("backend", &self.inner.backend.name())
            .field("requires_grad", &self.inner.requires_grad)
            .finish()
    }
}

impl<B: Backend> Tensor<B> {
    /// Wraps backend storage as an untracked tensor. `storage` must hold `shape.numel()`
    /// elements (so the shape is one that [`Shape::check`] accepts).
    pub fn from_storage(backend: &B, storage: B::Storage, shape: impl Into<Shape>) -> Self {
        Tensor {
            inner: Arc::new(Inner {
                id: TensorId::fresh(),
                storage,
                shape: shape.into(),
                backend: backend.clone(),
                requires_grad: false,
                node: None,
            }),
        }
    }

    /// Result of an op: records a node when gradients are enabled and an input is tracked.
    pub(crate) fn from_op(
        backend: &B,
        storage: B::Storage,
        shape: Shape,
        op: &'static str,
        inputs: &[&Tensor<B>],
        backward: impl Fn(&Tensor<B>, &Tensor<B>) -> Result<Vec<Option<Tensor<B>>>>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        let track = autograd::is_grad_enabled() && inputs.iter().any(|t| t.is_tracked());
        let node = track.then(|| Node {
            op,
            inputs: inputs.iter().map(|t| (*t).clone()).collect(),
            backward: Box::new(backward) as BackwardFn<B>,
            narrow: None,
        });
        Tensor {
            inner: Arc::new(Inner {
                id: TensorId::fresh(),
                storage,
                shape,
                backend: backend.clone(),
                requires_grad: false,
                node,
            }),
        }
    }

    /// Marks an op result as a narrow of its single input along `axis` from `start`
    /// (see [`crate::autograd`]: its gradient is joined with its siblings' once).
    pub(crate) fn mark_narrow(mut self, axis: usize, start: usize) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner)
            && let Some(node) = &mut inner.node
        {
            node.narrow = Some((axis, start));
        }
        self
    }

    /// Tensor from host data in row-major order.
    pub fn from_vec(backend: &B, data: Vec<f32>, shape: impl Into<Shape>) -> Result<Self> {
        let shape = shape.into();
        let numel = shape.check("from_vec")?;
        if data.len() != numel {
            return Err(Error::shape(
                "from_vec",
                &[&shape],
                format!("{} values given for {numel} elements", data.len()),
            ));
        }
        Ok(Self::from_storage(backend, backend.from_vec(data)?, shape))
    }

    /// Tensor from a host slice.
    pub fn from_slice(backend: &B, data: &[f32], shape: impl Into<Shape>) -> Result<Self> {
        Self::from_vec(backend, data.to_vec(), shape)
    }

    /// A rank-0 tensor.
    pub fn scalar(backend: &B, value: f32) -> Result<Self> {
        Self::full(backend, Shape::new(&[]), value)
    }

    /// Every element equal to `value`.
    pub fn full(backend: &B, shape: impl Into<Shape>, value: f32) -> Result<Self> {
        let shape = shape.into();
        let numel = shape.check("full")?;
        Ok(Self::from_storage(
            backend,
            backend.fill(numel, value)?,
            shape,
        ))
    }

    /// All zeros.
    pub fn zeros(backend: &B, shape: impl Into<Shape>) -> Result<Self> {
        Self::full(backend, shape, 0.0)
    }

    /// All ones.
    pub fn ones(backend: &B, shape: impl Into<Shape>) -> Result<Self> {
        Self::full(backend, shape, 1.0)
    }

    /// `0, 1, ..., n-1` as a 1-D tensor.
    pub fn arange(backend: &B, n: usize) -> Result<Self> {
        Shape::new(&[n]).check("arange")?;
        Self::from_vec(backend, (0..n).map(|i| i as f32).collect(), [n])
    }

    /// Values drawn from `dist`; the same seed gives the same values on every backend.
    pub fn random(
        backend: &B,
        shape: impl Into<Shape>,
        dist: Distribution,
        seed: u64,
    ) -> Result<Self> {
        let shape = shape.into();
        let numel = shape.check("random")?;
        if numel > u32::MAX as usize {
            return Err(Error::size(
                "random",
                &shape,
                "the random streams address at most 2^32 elements",
            ));
        }
        Ok(Self::from_storage(
            backend,
            backend.random(numel, dist, seed)?,
            shape,
        ))
    }

    /// Uniform on `[low, high)`.
    pub fn uniform(
        backend: &B,
        shape: impl Into<Shape>,
        low: f32,
        high: f32,
        seed: u64,
    ) -> Result<Self> {
        Self::random(backend, shape, Distribution::Uniform { low, high }, seed)
    }

    /// Normal with `mean` and `std`.
    pub fn normal(
        backend: &B,
        shape: impl Into<Shape>,
        mean: f32,
        std: f32,
        seed: u64,
    ) -> Result<Self> {
        Self::random(backend, shape, Distribution::Normal { mean, std }, seed)
    }

    /// Zeros of the same shape on the same backend.
    pub fn zeros_like(&self) -> Result<Self> {
        Self::zeros(&self.inner.backend, self.shape().clone())
    }

    /// Ones of the same shape on the same backend.
    pub fn ones_like(&self) -> Result<Self> {
        Self::ones(&self.inner.backend, self.shape().clone())
    }

    /// Marks this tensor as a leaf that collects a gradient (a new handle; the data is shared).
    pub fn requires_grad(&self) -> Self {
        self.with_requires_grad(true)
    }

    /// A leaf handle with the given flag; `false` freezes it.
    pub fn with_requires_grad(&self, flag: bool) -> Self {
        self.leaf_with_id(TensorId::fresh(), flag)
    }

    /// A leaf handle sharing this tensor's data, with identity `id` and the given
    /// requires-grad flag.
    ///
    /// Gradients are keyed by identity, so a parameter that tags each of its
    /// successive values with its own id finds its gradient whatever value was current
    /// when the loss was computed. Two leaves with one id in one graph are one variable:
    /// their gradients add up.
    pub fn leaf_with_id(&self, id: TensorId, flag: bool) -> Self {
        Tensor {
            inner: Arc::new(Inner {
                id,
                storage: self.inner.storage.clone(),
                shape: self.inner.shape.clone(),
                backend: self.inner.backend.clone(),
                requires_grad: flag,
                node: None,
            }),
        }
    }

    /// The same data cut from the graph: gradients do not flow through it.
    pub fn detach(&self) -> Self {
        self.with_requires_grad(false)
    }

    /// Whether this leaf collects a gradient.
    pub fn is_requires_grad(&self) -> bool {
        self.inner.requires_grad
    }

    /// Whether gradients flow through this tensor (a tracked leaf or an op result).
    pub fn is_tracked(&self) -> bool {
        self.inner.requires_grad || self.inner.node.is_some()
    }

    /// The identity used to key gradients.
    pub fn id(&self) -> TensorId {
        self.inner.id
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.inner.shape
    }

    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        self.inner.shape.dims()
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.inner.shape.rank()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.inner.shape.numel()
    }

    /// The backend handle.
    pub fn backend(&self) -> &B {
        &self.inner.backend
    }

    /// The raw storage (for backends and optimizers).
    pub fn storage(&self) -> &B::Storage {
        &self.inner.storage
    }

    /// Exclusive access to the storage, for in-place updates by optimizers.
    ///
    /// When another handle shares this tensor, it is first replaced by a new leaf
    /// (same id, same flag, a copy of the data) so the other handles are unaffected.
    pub(crate) fn storage_mut(&mut self) -> &mut B::Storage {
        if Arc::get_mut(&mut self.inner).is_none() {
            // The private copy keeps the identity: it is the same variable, updated.
            *self = self.leaf_with_id(self.inner.id, self.inner.requires_grad);
        }
        let inner = Arc::get_mut(&mut self.inner).expect("a fresh tensor has one handle");
        &mut inner.storage
    }

    /// Copies the data to the host, row-major.
    pub fn to_vec(&self) -> Result<Vec<f32>> {
        self.inner.backend.to_vec(&self.inner.storage, self.numel())
    }

    /// The value of a one-element tensor.
    pub fn to_scalar(&self) -> Result<f32> {
        if self.numel() != 1 {
            return Err(Error::shape(
                "to_scalar",
                &[self.shape()],
                "tensor has more than one element",
            ));
        }
        Ok(self.to_vec()?[0])
    }

    /// The same tensor on another backend (host round trip, untracked).
    pub fn to_backend<C: Backend>(&self, backend: &C) -> Result<Tensor<C>> {
        Tensor::from_vec(backend, self.to_vec()?, self.shape().clone())
    }
}
