//! The Backend trait: the seam between the autograd core and a device.
//!
//! A backend is a cheap-to-clone handle to a device. It owns flat f32 buffers
//! ([`StorageOps::Storage`]) and runs a small set of primitive ops on them. Shapes
//! are checked by the `tensor` crate before a backend is called, so a backend
//! may assume its arguments are consistent; it still returns `Err` for device
//! failures (out of memory, a lost device, a buffer over the binding limit).
//! Backends know nothing of autograd: every backward rule is written once, in
//! `tensor`, in terms of these primitives.
//!
//! The primitives come in op families, one trait per family, each in its own file
//! here and in the same-named file of every backend (`backend-cpu/src/<family>.rs`,
//! `backend-wgpu/src/ops/<family>.rs`, `shaders/<family>.wgsl`):
//!
//! | family | trait | ops |
//! |---|---|---|
//! | storage | [`StorageOps`] | `Storage`, `name`, `from_vec`, `to_vec`, `fill` |
//! | elementwise | [`ElementwiseOps`] | `unary`, `binary` (ops from one table, [`UnaryOp`] / [`BinaryOp`]) |
//! | layout | [`LayoutOps`] | `strided_copy`, `pad`, `concat` |
//! | reduce | [`ReduceOps`] | `reduce`, `argmax` |
//! | softmax | [`SoftmaxOps`] | `softmax` (and log-softmax) |
//! | matmul | [`MatmulOps`] | `matmul` |
//! | conv | [`ConvOps`] | `conv2d` and its two backwards; `conv2d_bias_act` (default: conv, add, activation) |
//! | pool | [`PoolOps`] | max / average pooling and nearest upsampling, with backwards |
//! | resize | [`ResizeOps`] | bilinear resizing (TensorFlow semantics) and its backward |
//! | gather | [`GatherOps`] | `index_select`, `index_add` |
//! | lstm | [`LstmOps`] | `lstm_gates` and its backward |
//! | random | [`RandomOps`] | `random` |
//! | optim | [`OptimOps`] | `adam_step`, `rmsprop_step`, `axpby` |
//!
//! [`Backend`] is their sum, implemented automatically for every type that
//! implements all of them. A family may give an op a default body composed of
//! other primitives (see [`PoolOps::upsample_nearest2d`]); a backend overrides
//! it where it has something faster.
//!
//! Generic code bounded by `B: Backend` sees every op. Code that calls ops on a
//! concrete backend (`Cpu.matmul(..)`) imports the traits in one line:
//! `use tensor::backend::ops::*;`.

mod conv;
mod elementwise;
mod gather;
mod layout;
mod lstm;
mod matmul;
mod optim;
mod pool;
mod random;
mod reduce;
mod resize;
mod softmax;
mod storage;

pub use conv::{Conv2dGeom, ConvOps};
pub use elementwise::{
    BinaryKernel, BinaryOp, BroadcastLayout, ElementwiseOps, MAX_UNARY_PARAMS, UnaryKernel,
    UnaryOp, exp_vectorizable, sigmoid, sigmoid_vectorizable, tanh_vectorizable,
};
pub use gather::GatherOps;
pub use layout::{LayoutOps, StridedLayout};
pub use lstm::LstmOps;
pub use matmul::{MatmulDims, MatmulOps};
pub use optim::{AdamStep, OptimOps, RmsPropStep};
pub use pool::{
    Pool2dGeom, PoolOps, upsample_nearest2d_backward_by_reduce, upsample_nearest2d_by_copy,
};
pub use random::{Distribution, RandomOps};
pub use reduce::{ReduceOp, ReduceOps};
pub use resize::{ResizeOps, bilinear_taps};
pub use softmax::SoftmaxOps;
pub use storage::StorageOps;

/// Every op family at once: `use tensor::backend::ops::*;` makes all backend
/// methods callable on a concrete backend.
pub mod ops {
    pub use super::{
        Backend, ConvOps, ElementwiseOps, GatherOps, LayoutOps, LstmOps, MatmulOps, OptimOps,
        PoolOps, RandomOps, ReduceOps, ResizeOps, SoftmaxOps, StorageOps,
    };
}

/// A device: storage plus every op family.
///
/// Implemented automatically for any type that implements all the families, so a
/// backend writes one `impl <Family> for MyBackend` per family file and nothing else.
pub trait Backend:
    'static
    + StorageOps
    + ElementwiseOps
    + LayoutOps
    + ReduceOps
    + SoftmaxOps
    + MatmulOps
    + ConvOps
    + PoolOps
    + ResizeOps
    + GatherOps
    + LstmOps
    + RandomOps
    + OptimOps
{
}

impl<T> Backend for T where
    T: 'static
        + StorageOps
        + ElementwiseOps
        + LayoutOps
        + ReduceOps
        + SoftmaxOps
        + MatmulOps
        + ConvOps
        + PoolOps
        + ResizeOps
        + GatherOps
        + LstmOps
        + RandomOps
        + OptimOps
{
}
