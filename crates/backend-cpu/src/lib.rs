//! The reference CPU backend: the numerical truth every other backend is tested against.
//!
//! Matrix products (and convolutions, through im2col or, for stride-1 ones with enough
//! channels, GEMMs over zero-padded canvases) go to the `gemm` crate, which
//! is SIMD-aware and multi-threaded; everything else is plain loops, split across
//! threads with rayon only when a buffer is large enough for that to pay.
//!
//! Each op family of `tensor::backend` is implemented in the file of the same name
//! (`impl PoolOps for Cpu` in `pool.rs`, and so on); `Cpu` is a `tensor::Backend`
//! because it implements all of them.
//!
//! ```
//! use backend_cpu::Cpu;
//! use tensor::MatmulDims;
//! use tensor::backend::ops::*;
//! let a = Cpu.from_vec(vec![1.0, 2.0, 3.0, 4.0])?; // 2x2
//! let b = Cpu.from_vec(vec![1.0, 0.0, 0.0, 1.0])?; // identity
//! let dims = MatmulDims {
//!     batch: 1, m: 2, k: 2, n: 2, trans_a: false, trans_b: false,
//!     a_batch_stride: 4, b_batch_stride: 4,
//! };
//! let c = Cpu.matmul(&a, &b, dims)?;
//! assert_eq!(Cpu.to_vec(&c, 4)?, vec![1.0, 2.0, 3.0, 4.0]);
//! # Ok::<(), tensor::Error>(())
//! ```

mod alloc;
mod conv;
mod conv_direct;
mod conv_shifted;
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
mod simd;
mod softmax;
mod storage;
mod tasks;
mod tile;

use tensor::{Error, Result};

/// Below this many elements a loop runs on the calling thread: rayon's fork/join costs
/// a few microseconds, which only pays off once a buffer no longer fits in L2.
pub(crate) const PAR_THRESHOLD: usize = 1 << 16;

/// Elements per rayon task for elementwise loops (large enough to amortise scheduling).
pub(crate) const PAR_CHUNK: usize = 1 << 14;

/// Makes the calling thread one of the threads of rayon's global pool (which then
/// starts one thread fewer), so that the ops this thread runs split their work with
/// the pool instead of handing all of it over and sleeping until it is done.
///
/// Call it once, early, on a binary's main thread (the thread that will run the model
/// and lives as long as the process), before anything else uses rayon; not from tests
/// or short-lived threads. Work another thread hands to the pool waits for the pool's
/// other threads, so with a pool of one thread (one core, or `RAYON_NUM_THREADS=1`)
/// nothing is joined. Returns whether the thread joined; when not (a pool of one, or
/// the global pool already exists) the backend works as before, only with more
/// hand-offs.
pub fn join_thread_pool() -> bool {
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    threads >= 2
        && rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .use_current_thread()
            .build_global()
            .is_ok()
}

/// The CPU device. Stateless, so copying it is free.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu;

/// The error for a buffer shorter than the geometry of an op says it is.
///
/// The `tensor` crate guarantees lengths, so this only fires on a bug there; it exists
/// so that such a bug is a clear error rather than an index panic deep in a kernel.
pub(crate) fn check_len(op: &str, what: &str, buf: &[f32], needed: usize) -> Result<()> {
    if buf.len() < needed {
        Err(Error::backend(
            "cpu",
            format!(
                "{op}: {what} holds {} elements but the geometry needs {needed}",
                buf.len()
            ),
        ))
    } else {
        Ok(())
    }
}

/// A backend error naming the op.
pub(crate) fn cpu_error(op: &str, reason: impl std::fmt::Display) -> Error {
    Error::backend("cpu", format!("{op}: {reason}"))
}
