//! The base family: a device's buffers.

use crate::Result;
use std::fmt::Debug;

/// Storage of a device: flat f32 buffers, uploads, downloads and fills. Every
/// other family builds on it.
///
/// Every op that takes a `len` or geometry may assume the storages hold at least
/// that many elements; the `tensor` crate guarantees it.
pub trait StorageOps: Clone + Debug + Send + Sync + 'static {
    /// A flat f32 buffer on this device.
    type Storage: Clone + Debug + Send + Sync + 'static;

    /// Human-readable name, e.g. `cpu` or `wgpu (llvmpipe, Vulkan)`.
    fn name(&self) -> String;

    /// Upload host data.
    // A device method (it needs the device), not a constructor of the backend.
    #[allow(clippy::wrong_self_convention)]
    fn from_vec(&self, data: Vec<f32>) -> Result<Self::Storage>;
    /// Download `len` elements to the host (waits for pending work).
    fn to_vec(&self, x: &Self::Storage, len: usize) -> Result<Vec<f32>>;
    /// A buffer of `len` copies of `value`.
    fn fill(&self, len: usize, value: f32) -> Result<Self::Storage>;
}
