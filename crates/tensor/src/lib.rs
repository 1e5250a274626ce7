//! Tensors with reverse-mode autograd over a pluggable [`Backend`].
//!
//! `tensor` + `backend-cpu` make a small autograd library on their own:
//!
//! ```
//! use backend_cpu::Cpu;
//! use tensor::Tensor;
//! # fn main() -> tensor::Result<()> {
//! let x = Tensor::from_vec(&Cpu, vec![1.0, 2.0, 3.0], [3])?.requires_grad();
//! let y = x.mul(&x)?.sum_all()?;
//! let grads = y.backward()?;
//! assert_eq!(grads.get(&x).unwrap().to_vec()?, vec![2.0, 4.0, 6.0]);
//! # Ok(())
//! # }
//! ```
//!
//! Every op returns `Result`: incompatible shapes give an [`Error`] naming the op
//! and the shapes, never a panic.
//!
//! A device implements [`Backend`]: one trait per op family ([`backend`] lists them),
//! each in the file of that family's name in every crate. Code that calls backend
//! ops on a concrete backend imports them with `use tensor::backend::ops::*;`.
//!
//! Unary and binary elementwise ops come from one table
//! (`src/backend/elementwise.rs`) that generates the [`UnaryOp`] / [`BinaryOp`]
//! enums, the CPU loops and the GPU's WGSL switch. Adding a unary op touches three
//! places outside tests: its row in that table (Rust and WGSL expression), its
//! backward rule and its `Tensor` method (both in `src/ops/elementwise.rs`).

mod autograd;
pub mod backend;
mod error;
#[cfg(feature = "ndarray")]
mod ndarray_interop;
mod ops;
pub mod random;
mod shape;
mod tensor;

pub use autograd::{Gradients, is_grad_enabled, no_grad};
pub use backend::{
    AdamStep, Backend, BinaryOp, BroadcastLayout, Conv2dGeom, ConvOps, Distribution,
    ElementwiseOps, GatherOps, LayoutOps, LstmOps, MatmulDims, MatmulOps, OptimOps, Pool2dGeom,
    PoolOps, RandomOps, ReduceOp, ReduceOps, ResizeOps, RmsPropStep, SoftmaxOps, StorageOps,
    StridedLayout, UnaryOp,
};
pub use error::{Error, Result};
pub use ops::{Padding, activation_fuses, adam_step, axpby, rmsprop_step};
pub use shape::{MAX_ELEMENTS, Shape};
pub use tensor::{Tensor, TensorId};
