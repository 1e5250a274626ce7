//! The Backend trait: the seam between the autograd core and a device.
//!
//! A backend is a cheap-to-clone handle to a device. It owns flat f32 buffers
//! ([`Backend::Storage`]) and runs a small set of primitive ops on them. Shapes
//! are checked by the `tensor` crate before a backend is called, so a backend
//! may assume its arguments are consistent; it still returns `Err` for device
//! failures (out of memory, a lost device, a buffer over the binding limit).
//! Backends know nothing of autograd: every backward rule is written once, in
//! `tensor`, in terms of these primitives.

use crate::Result;
use std::fmt::Debug;

/// Elementwise op of one operand.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryOp {
    Neg,
    Abs,
    Exp,
    /// Natural logarithm.
    Log,
    Sqrt,
    /// `1 / x`.
    Recip,
    Square,
    Relu,
    /// `x` where `x > 0`, else `alpha * x`.
    LeakyRelu(f32),
    Sigmoid,
    Tanh,
    /// `x ^ p` for a constant exponent.
    Powf(f32),
    /// `x + c`.
    AddScalar(f32),
    /// `x * c`.
    MulScalar(f32),
    /// `min(max(x, lo), hi)`.
    Clamp(f32, f32),
    /// 1 where `x > c`, else 0.
    GtScalar(f32),
    /// 1 where `lo <= x <= hi`, else 0 (the mask of a clamp's backward).
    InRange(f32, f32),
    /// Sign of x: -1, 0 or 1.
    Sign,
}

/// Elementwise op of two operands, with NumPy broadcasting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    /// `a ^ b`.
    Pow,
    Maximum,
    Minimum,
    /// 1 where `a == b`, else 0.
    Eq,
    /// 1 where `a > b`, else 0.
    Gt,
    /// 1 where `a >= b`, else 0.
    Ge,
}

/// Reduction over axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Max,
    Min,
}

/// How to read operands of a broadcasting binary op.
///
/// `out_dims` is the output shape; `a_strides` / `b_strides` give, for every output
/// dimension, the element stride into `a` / `b` (0 on a broadcast dimension). All
/// three have the same length (the output rank, possibly 0 for scalars).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BroadcastLayout {
    pub out_dims: Vec<usize>,
    pub a_strides: Vec<usize>,
    pub b_strides: Vec<usize>,
}

/// A strided view of a contiguous buffer: element `idx` of the output (row-major
/// over `out_dims`) is read from `offset + sum(idx[i] * strides[i])`.
///
/// Permute, slice, broadcast_to and transpose are all strided copies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StridedLayout {
    pub out_dims: Vec<usize>,
    pub strides: Vec<usize>,
    pub offset: usize,
}

/// Dimensions of a batched matrix product `C[b] = op(A[b]) @ op(B[b])`.
///
/// `op(A)` is `m x k` and `op(B)` is `k x n`; with `trans_a`, A is stored as
/// `k x m` row-major (and likewise B as `n x k` with `trans_b`). A batch stride
/// of 0 reuses the same matrix for every batch (broadcast). C is `batch x m x n`,
/// contiguous.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatmulDims {
    pub batch: usize,
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub trans_a: bool,
    pub trans_b: bool,
    /// Elements between consecutive A matrices (0 = broadcast, else `m * k`).
    pub a_batch_stride: usize,
    /// Elements between consecutive B matrices (0 = broadcast, else `k * n`).
    pub b_batch_stride: usize,
}

/// Geometry of a 2-D convolution. Input NHWC `[n, h, w, c]`, filter HWIO
/// `[kh, kw, c, o]`, output `[n, out_h, out_w, o]`.
///
/// Output pixel `(oy, ox)` reads input rows `oy * stride_h - pad_top + ky`; rows
/// outside the input are zero. `pad_top`/`pad_left` are the TensorFlow paddings
/// (for SAME, the smaller half when the total pad is odd).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dGeom {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub kh: usize,
    pub kw: usize,
    pub o: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub out_h: usize,
    pub out_w: usize,
}

/// Geometry of 2-D pooling over NHWC `[n, h, w, c]` to `[n, out_h, out_w, c]`.
///
/// Window `(oy, ox)` covers input rows `oy * stride_h - pad_top .. + kh`, clipped
/// to the input: padding never wins a max and is not counted by an average (as
/// TensorFlow).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dGeom {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub out_h: usize,
    pub out_w: usize,
}

/// Hyper-parameters of one fused Adam step (Keras semantics).
///
/// `m = beta1 m + (1 - beta1) g`, `v = beta2 v + (1 - beta2) g^2`,
/// `p = p - lr_t m / (sqrt(v) + epsilon)` where the caller has folded the bias
/// corrections into `lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    pub lr_t: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub epsilon: f32,
}

/// Distribution for a random fill.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Distribution {
    /// Uniform on `[low, high)`.
    Uniform { low: f32, high: f32 },
    /// Normal with the given mean and standard deviation.
    Normal { mean: f32, std: f32 },
    /// 1 with probability `p`, else 0.
    Bernoulli { p: f32 },
}

/// A device: storage plus the primitive ops.
///
/// Every method that takes a `len` or geometry may assume the storages hold at
/// least that many elements; the `tensor` crate guarantees it.
pub trait Backend: Clone + Debug + Send + Sync + 'static {
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
    /// `len` values drawn from `dist`. Element `i` depends only on `(seed, i)`
    /// through [`crate::random`], so every backend produces the same numbers.
    fn random(&self, len: usize, dist: Distribution, seed: u64) -> Result<Self::Storage>;

    /// Elementwise `op(x)`.
    fn unary(&self, op: UnaryOp, x: &Self::Storage, len: usize) -> Result<Self::Storage>;
    /// Elementwise `op(a, b)` with broadcasting; the output is contiguous over `layout.out_dims`.
    fn binary(
        &self,
        op: BinaryOp,
        a: &Self::Storage,
        b: &Self::Storage,
        layout: &BroadcastLayout,
    ) -> Result<Self::Storage>;
    /// Contiguous copy of a strided view (permute, slice, broadcast_to).
    fn strided_copy(&self, x: &Self::Storage, layout: &StridedLayout) -> Result<Self::Storage>;
    /// Places `x` (shape `x_dims`) into a zero tensor of shape `out_dims` at `offsets`
    /// (the backward of a slice; `offsets[i] + x_dims[i] <= out_dims[i]`).
    fn pad(
        &self,
        x: &Self::Storage,
        x_dims: &[usize],
        out_dims: &[usize],
        offsets: &[usize],
    ) -> Result<Self::Storage>;
    /// Concatenates contiguous tensors along `axis`: `parts[i]` has `dims[i]`, equal
    /// to `out_dims` except on `axis`.
    fn concat(
        &self,
        parts: &[&Self::Storage],
        dims: &[Vec<usize>],
        axis: usize,
        out_dims: &[usize],
    ) -> Result<Self::Storage>;

    /// Reduces the given axes (sorted, unique) of `x`, keeping them as size 1.
    fn reduce(
        &self,
        op: ReduceOp,
        x: &Self::Storage,
        dims: &[usize],
        axes: &[usize],
    ) -> Result<Self::Storage>;
    /// Index (as f32) of the largest element along `axis` (first one on ties); the
    /// axis is kept as size 1.
    fn argmax(&self, x: &Self::Storage, dims: &[usize], axis: usize) -> Result<Self::Storage>;
    /// Softmax (or log-softmax) over the last axis of a `rows x cols` matrix,
    /// computed stably (max subtracted).
    fn softmax(
        &self,
        x: &Self::Storage,
        rows: usize,
        cols: usize,
        log: bool,
    ) -> Result<Self::Storage>;

    /// Batched matrix product, see [`MatmulDims`].
    fn matmul(
        &self,
        a: &Self::Storage,
        b: &Self::Storage,
        dims: MatmulDims,
    ) -> Result<Self::Storage>;

    /// Convolution forward: `x` NHWC, `w` HWIO, no bias.
    fn conv2d(&self, x: &Self::Storage, w: &Self::Storage, g: &Conv2dGeom)
    -> Result<Self::Storage>;
    /// Gradient with respect to the input, given `dy` `[n, out_h, out_w, o]`.
    fn conv2d_backward_input(
        &self,
        dy: &Self::Storage,
        w: &Self::Storage,
        g: &Conv2dGeom,
    ) -> Result<Self::Storage>;
    /// Gradient with respect to the filter, given the input and `dy`.
    fn conv2d_backward_filter(
        &self,
        x: &Self::Storage,
        dy: &Self::Storage,
        g: &Conv2dGeom,
    ) -> Result<Self::Storage>;

    /// Max pooling: the output and, for each output, the flat index (as f32, into
    /// `x`) of the element that won (the first one on ties).
    fn max_pool2d(
        &self,
        x: &Self::Storage,
        g: &Pool2dGeom,
    ) -> Result<(Self::Storage, Self::Storage)>;
    /// Routes `dy` back to the winners recorded by [`Backend::max_pool2d`]; the
    /// result has the input's shape (gradients of overlapping windows add up).
    fn max_pool2d_backward(
        &self,
        dy: &Self::Storage,
        argmax: &Self::Storage,
        g: &Pool2dGeom,
    ) -> Result<Self::Storage>;
    /// Average pooling; padding is excluded from the count.
    fn avg_pool2d(&self, x: &Self::Storage, g: &Pool2dGeom) -> Result<Self::Storage>;
    /// Backward of [`Backend::avg_pool2d`].
    fn avg_pool2d_backward(&self, dy: &Self::Storage, g: &Pool2dGeom) -> Result<Self::Storage>;

    /// Nearest-neighbour upsampling of NHWC `[n, h, w, c]` by integer factors.
    fn upsample_nearest2d(
        &self,
        x: &Self::Storage,
        dims: [usize; 4],
        scale_h: usize,
        scale_w: usize,
    ) -> Result<Self::Storage>;
    /// Backward: sums each `scale_h x scale_w` block of `dy`; `dims` is the input's shape.
    fn upsample_nearest2d_backward(
        &self,
        dy: &Self::Storage,
        dims: [usize; 4],
        scale_h: usize,
        scale_w: usize,
    ) -> Result<Self::Storage>;

    /// Rows of `x` (shape `[outer, axis_len, inner]`) picked along the middle axis:
    /// output `[outer, indices.len(), inner]`.
    fn index_select(
        &self,
        x: &Self::Storage,
        outer: usize,
        axis_len: usize,
        inner: usize,
        indices: &[usize],
    ) -> Result<Self::Storage>;
    /// Backward of [`Backend::index_select`]: scatters `dy` `[outer, indices.len(),
    /// inner]` into zeros `[outer, axis_len, inner]`, adding on repeated indices.
    fn index_add(
        &self,
        dy: &Self::Storage,
        outer: usize,
        axis_len: usize,
        inner: usize,
        indices: &[usize],
    ) -> Result<Self::Storage>;

    /// Fused LSTM cell step (TF BasicLSTMCell). `gates` is `[n, 4h]`, the
    /// pre-activations split as i, j, f, o; `c_prev` is `[n, h]`. Returns `(c, h)`:
    /// `c = c_prev * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)`,
    /// `h = tanh(c) * sigmoid(o)`.
    fn lstm_gates(
        &self,
        gates: &Self::Storage,
        c_prev: &Self::Storage,
        n: usize,
        hidden: usize,
        forget_bias: f32,
    ) -> Result<(Self::Storage, Self::Storage)>;
    /// Backward of [`Backend::lstm_gates`] given the gradients of `c` and `h`:
    /// returns `(d_gates [n, 4h], d_c_prev [n, h])`.
    fn lstm_gates_backward(
        &self,
        gates: &Self::Storage,
        c_prev: &Self::Storage,
        d_c: &Self::Storage,
        d_h: &Self::Storage,
        n: usize,
        hidden: usize,
        forget_bias: f32,
    ) -> Result<(Self::Storage, Self::Storage)>;

    /// One fused Adam step, updating `param`, `m` and `v` in place.
    ///
    /// The caller holds these storages exclusively (`&mut`); a backend whose storage
    /// handles are shared (reference-counted) copies first when another handle to
    /// the same buffer exists (clone-on-write), so no other tensor ever sees the change.
    fn adam_step(
        &self,
        param: &mut Self::Storage,
        grad: &Self::Storage,
        m: &mut Self::Storage,
        v: &mut Self::Storage,
        len: usize,
        step: AdamStep,
    ) -> Result<()>;

    /// `y = a * y + b * x` over the first `len` elements, in place (clone-on-write as
    /// `adam_step`). Running averages of weights use it.
    fn axpby(
        &self,
        y: &mut Self::Storage,
        a: f32,
        x: &Self::Storage,
        b: f32,
        len: usize,
    ) -> Result<()>;
}
