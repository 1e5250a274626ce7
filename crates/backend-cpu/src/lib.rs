//! The reference CPU backend: the numerical truth every other backend is tested against.
//!
//! Matrix products (and, through im2col, convolutions) go to the `gemm` crate, which
//! is SIMD-aware and multi-threaded; everything else is plain loops, split across
//! threads with rayon only when a buffer is large enough for that to pay.
//!
//! ```
//! use backend_cpu::Cpu;
//! use tensor::{Backend, MatmulDims};
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
mod upsample;

use std::sync::Arc;
use tensor::{
    AdamStep, Backend, BinaryOp, BroadcastLayout, Conv2dGeom, Distribution, Error, MatmulDims,
    Pool2dGeom, ReduceOp, Result, StridedLayout, UnaryOp,
};

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

impl Backend for Cpu {
    type Storage = Arc<Vec<f32>>;

    fn name(&self) -> String {
        "cpu".to_string()
    }

    fn from_vec(&self, data: Vec<f32>) -> Result<Self::Storage> {
        Ok(Arc::new(data))
    }

    fn to_vec(&self, x: &Self::Storage, len: usize) -> Result<Vec<f32>> {
        check_len("to_vec", "the buffer", x, len)?;
        Ok(x[..len].to_vec())
    }

    fn fill(&self, len: usize, value: f32) -> Result<Self::Storage> {
        Ok(Arc::new(vec![value; len]))
    }

    fn random(&self, len: usize, dist: Distribution, seed: u64) -> Result<Self::Storage> {
        random::random(len, dist, seed).map(Arc::new)
    }

    fn unary(&self, op: UnaryOp, x: &Self::Storage, len: usize) -> Result<Self::Storage> {
        check_len("unary", "x", x, len)?;
        Ok(Arc::new(elementwise::unary(op, &x[..len])))
    }

    fn binary(
        &self,
        op: BinaryOp,
        a: &Self::Storage,
        b: &Self::Storage,
        layout: &BroadcastLayout,
    ) -> Result<Self::Storage> {
        elementwise::binary(op, a, b, layout).map(Arc::new)
    }

    fn strided_copy(&self, x: &Self::Storage, layout: &StridedLayout) -> Result<Self::Storage> {
        layout::strided_copy(x, layout).map(Arc::new)
    }

    fn pad(
        &self,
        x: &Self::Storage,
        x_dims: &[usize],
        out_dims: &[usize],
        offsets: &[usize],
    ) -> Result<Self::Storage> {
        layout::pad(x, x_dims, out_dims, offsets).map(Arc::new)
    }

    fn concat(
        &self,
        parts: &[&Self::Storage],
        dims: &[Vec<usize>],
        axis: usize,
        out_dims: &[usize],
    ) -> Result<Self::Storage> {
        let parts: Vec<&[f32]> = parts.iter().map(|p| p.as_slice()).collect();
        layout::concat(&parts, dims, axis, out_dims).map(Arc::new)
    }

    fn reduce(
        &self,
        op: ReduceOp,
        x: &Self::Storage,
        dims: &[usize],
        axes: &[usize],
    ) -> Result<Self::Storage> {
        reduce::reduce(op, x, dims, axes).map(Arc::new)
    }

    fn argmax(&self, x: &Self::Storage, dims: &[usize], axis: usize) -> Result<Self::Storage> {
        reduce::argmax(x, dims, axis).map(Arc::new)
    }

    fn softmax(
        &self,
        x: &Self::Storage,
        rows: usize,
        cols: usize,
        log: bool,
    ) -> Result<Self::Storage> {
        reduce::softmax(x, rows, cols, log).map(Arc::new)
    }

    fn matmul(
        &self,
        a: &Self::Storage,
        b: &Self::Storage,
        dims: MatmulDims,
    ) -> Result<Self::Storage> {
        matmul::matmul(a, b, dims).map(Arc::new)
    }

    fn conv2d(
        &self,
        x: &Self::Storage,
        w: &Self::Storage,
        g: &Conv2dGeom,
    ) -> Result<Self::Storage> {
        conv::conv2d(x, w, g).map(Arc::new)
    }

    fn conv2d_backward_input(
        &self,
        dy: &Self::Storage,
        w: &Self::Storage,
        g: &Conv2dGeom,
    ) -> Result<Self::Storage> {
        conv::conv2d_backward_input(dy, w, g).map(Arc::new)
    }

    fn conv2d_backward_filter(
        &self,
        x: &Self::Storage,
        dy: &Self::Storage,
        g: &Conv2dGeom,
    ) -> Result<Self::Storage> {
        conv::conv2d_backward_filter(x, dy, g).map(Arc::new)
    }

    fn max_pool2d(
        &self,
        x: &Self::Storage,
        g: &Pool2dGeom,
    ) -> Result<(Self::Storage, Self::Storage)> {
        let (y, argmax) = pool::max_pool2d(x, g)?;
        Ok((Arc::new(y), Arc::new(argmax)))
    }

    fn max_pool2d_backward(
        &self,
        dy: &Self::Storage,
        argmax: &Self::Storage,
        g: &Pool2dGeom,
    ) -> Result<Self::Storage> {
        pool::max_pool2d_backward(dy, argmax, g).map(Arc::new)
    }

    fn avg_pool2d(&self, x: &Self::Storage, g: &Pool2dGeom) -> Result<Self::Storage> {
        pool::avg_pool2d(x, g).map(Arc::new)
    }

    fn avg_pool2d_backward(&self, dy: &Self::Storage, g: &Pool2dGeom) -> Result<Self::Storage> {
        pool::avg_pool2d_backward(dy, g).map(Arc::new)
    }

    fn upsample_nearest2d(
        &self,
        x: &Self::Storage,
        dims: [usize; 4],
        scale_h: usize,
        scale_w: usize,
    ) -> Result<Self::Storage> {
        upsample::upsample_nearest2d(x, dims, scale_h, scale_w).map(Arc::new)
    }

    fn upsample_nearest2d_backward(
        &self,
        dy: &Self::Storage,
        dims: [usize; 4],
        scale_h: usize,
        scale_w: usize,
    ) -> Result<Self::Storage> {
        upsample::upsample_nearest2d_backward(dy, dims, scale_h, scale_w).map(Arc::new)
    }

    fn index_select(
        &self,
        x: &Self::Storage,
        outer: usize,
        axis_len: usize,
        inner: usize,
        indices: &[usize],
    ) -> Result<Self::Storage> {
        gather::index_select(x, outer, axis_len, inner, indices).map(Arc::new)
    }

    fn index_add(
        &self,
        dy: &Self::Storage,
        outer: usize,
        axis_len: usize,
        inner: usize,
        indices: &[usize],
    ) -> Result<Self::Storage> {
        gather::index_add(dy, outer, axis_len, inner, indices).map(Arc::new)
    }

    fn lstm_gates(
        &self,
        gates: &Self::Storage,
        c_prev: &Self::Storage,
        n: usize,
        hidden: usize,
        forget_bias: f32,
    ) -> Result<(Self::Storage, Self::Storage)> {
        let (c, h) = lstm::lstm_gates(gates, c_prev, n, hidden, forget_bias)?;
        Ok((Arc::new(c), Arc::new(h)))
    }

    fn lstm_gates_backward(
        &self,
        gates: &Self::Storage,
        c_prev: &Self::Storage,
        d_c: &Self::Storage,
        d_h: &Self::Storage,
        n: usize,
        hidden: usize,
        forget_bias: f32,
    ) -> Result<(Self::Storage, Self::Storage)> {
        let (d_gates, d_c_prev) =
            lstm::lstm_gates_backward(gates, c_prev, d_c, d_h, n, hidden, forget_bias)?;
        Ok((Arc::new(d_gates), Arc::new(d_c_prev)))
    }

    fn adam_step(
        &self,
        param: &mut Self::Storage,
        grad: &Self::Storage,
        m: &mut Self::Storage,
        v: &mut Self::Storage,
        len: usize,
        step: AdamStep,
    ) -> Result<()> {
        // Clone-on-write: in place when this is the only handle to each buffer.
        optim::adam_step(
            Arc::make_mut(param).as_mut_slice(),
            grad,
            Arc::make_mut(m).as_mut_slice(),
            Arc::make_mut(v).as_mut_slice(),
            len,
            step,
        )
    }

    fn axpby(
        &self,
        y: &mut Self::Storage,
        a: f32,
        x: &Self::Storage,
        b: f32,
        len: usize,
    ) -> Result<()> {
        optim::axpby(Arc::make_mut(y).as_mut_slice(), a, x, b, len)
    }
}
