//! The GPU backend: wgpu with hand-written WGSL kernels.
//!
//! [`Wgpu`] implements [`tensor::Backend`] on any adapter wgpu can open (Vulkan,
//! Metal, DX12, GL), including Mesa's software Vulkan driver (lavapipe) on
//! machines without a GPU. The kernels live in the workspace's `shaders/`
//! folder and are compiled once per device, on first use.
//!
//! ```no_run
//! use backend_wgpu::Wgpu;
//! use tensor::backend::ops::*;
//! let gpu = Wgpu::new()?;
//! println!("running on {}", gpu.name());
//! let x = gpu.from_vec(vec![1.0, 2.0, 3.0])?;
//! let y = gpu.unary(tensor::UnaryOp::Square, &x, 3)?;
//! assert_eq!(gpu.to_vec(&y, 3)?, vec![1.0, 4.0, 9.0]);
//! # Ok::<(), tensor::Error>(())
//! ```
//!
//! Each op family of `tensor::backend` is implemented in `src/ops/<family>.rs` with its
//! kernels in `shaders/<family>.wgsl`.
//!
//! See `README.md` in this crate for how a kernel is launched and how to add one.

mod buffer_pool;
mod context;
mod launch;
#[macro_use]
mod ops;
mod pending;
mod pipeline;
mod sync;
pub mod workbench;

pub use buffer_pool::WgpuStorage;
pub use context::{ADAPTER_ENV, Wgpu};
