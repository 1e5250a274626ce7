//! The pool family: max and average pooling, nearest upsampling, and backwards.

use super::{LayoutOps, ReduceOp, ReduceOps, StridedLayout};
use crate::Result;

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

/// Pooling and nearest upsampling over NHWC images.
///
/// The upsampling ops have default bodies in terms of the layout and reduce
/// families ([`upsample_nearest2d_by_copy`], [`upsample_nearest2d_backward_by_reduce`]);
/// a backend with a dedicated kernel overrides them.
pub trait PoolOps: LayoutOps + ReduceOps {
    /// Max pooling: the output and, for each output, the index (as f32) of the
    /// element that won (the first one on ties) within its image, `(y * w + x) * c + ch`
    /// (so it is exact for any batch size; -1 for an empty window).
    fn max_pool2d(
        &self,
        x: &Self::Storage,
        g: &Pool2dGeom,
    ) -> Result<(Self::Storage, Self::Storage)>;
    /// Routes `dy` back to the winners recorded by [`PoolOps::max_pool2d`]; the
    /// result has the input's shape (gradients of overlapping windows add up).
    fn max_pool2d_backward(
        &self,
        dy: &Self::Storage,
        argmax: &Self::Storage,
        g: &Pool2dGeom,
    ) -> Result<Self::Storage>;
    /// Average pooling; padding is excluded from the count.
    fn avg_pool2d(&self, x: &Self::Storage, g: &Pool2dGeom) -> Result<Self::Storage>;
    /// Backward of [`PoolOps::avg_pool2d`].
    fn avg_pool2d_backward(&self, dy: &Self::Storage, g: &Pool2dGeom) -> Result<Self::Storage>;

    /// Nearest-neighbour upsampling of NHWC `[n, h, w, c]` by integer factors.
    fn upsample_nearest2d(
        &self,
        x: &Self::Storage,
        dims: [usize; 4],
        scale_h: usize,
        scale_w: usize,
    ) -> Result<Self::Storage> {
        upsample_nearest2d_by_copy(self, x, dims, scale_h, scale_w)
    }
    /// Backward: sums each `scale_h x scale_w` block of `dy`; `dims` is the input's shape.
    fn upsample_nearest2d_backward(
        &self,
        dy: &Self::Storage,
        dims: [usize; 4],
        scale_h: usize,
        scale_w: usize,
    ) -> Result<Self::Storage> {
        upsample_nearest2d_backward_by_reduce(self, dy, dims, scale_h, scale_w)
    }
}

/// Nearest upsampling as one strided copy: the output `[n, h*sh, w*sw, c]` is the
/// view `[n, h, sh, w, sw, c]` of `x` with stride 0 on the two repeat axes.
pub fn upsample_nearest2d_by_copy<B: LayoutOps>(
    backend: &B,
    x: &B::Storage,
    dims: [usize; 4],
    scale_h: usize,
    scale_w: usize,
) -> Result<B::Storage> {
    let [n, h, w, c] = dims;
    let layout = StridedLayout {
        out_dims: vec![n, h, scale_h, w, scale_w, c],
        strides: vec![h * w * c, w * c, 0, c, 0, 1],
        offset: 0,
    };
    backend.strided_copy(x, &layout)
}

/// The backward of nearest upsampling as one reduction: `dy` `[n, h*sh, w*sw, c]`
/// is, unchanged in memory, `[n, h, sh, w, sw, c]`; summing axes 2 and 4 leaves
/// `[n, h, 1, w, 1, c]`, the input's shape.
pub fn upsample_nearest2d_backward_by_reduce<B: ReduceOps>(
    backend: &B,
    dy: &B::Storage,
    dims: [usize; 4],
    scale_h: usize,
    scale_w: usize,
) -> Result<B::Storage> {
    let [n, h, w, c] = dims;
    backend.reduce(ReduceOp::Sum, dy, &[n, h, scale_h, w, scale_w, c], &[2, 4])
}
