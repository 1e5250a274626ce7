//! The resize family: bilinear resizing of NHWC images, and its backward.

use super::StorageOps;
use crate::Result;

/// The two source indices and the weight of the second for each of `out_len`
/// outputs along one axis of length `in_len`, as TensorFlow's
/// `tf.image.resize(.., "bilinear")` (half-pixel centres, no antialiasing): output
/// `o` samples `src = (o + 0.5) * in_len / out_len - 0.5`, between
/// `floor(src)` and `floor(src) + 1`, both clamped into `[0, in_len - 1]`, with
/// weight `src - floor(src)` on the second. Every backend uses these taps, so
/// they agree on which pixels an output reads.
pub fn bilinear_taps(in_len: usize, out_len: usize) -> Vec<(usize, usize, f32)> {
    let scale = in_len as f32 / out_len as f32;
    let last = in_len.saturating_sub(1) as f32;
    (0..out_len)
        .map(|o| {
            let src = (o as f32 + 0.5) * scale - 0.5;
            let lower = src.floor();
            let lerp = src - lower;
            let clamp = |v: f32| v.max(0.0).min(last) as usize;
            (clamp(lower), clamp(lower + 1.0), lerp)
        })
        .collect()
}

/// Bilinear resizing of NHWC `[n, h, w, c]` to `[n, out_h, out_w, c]`.
pub trait ResizeOps: StorageOps {
    /// `tf.image.resize(x, (out_h, out_w), "bilinear")`: each output is
    /// `top + (bottom - top) * ly` with `top = tl + (tr - tl) * lx` (and `bottom`
    /// likewise) over the four pixels [`bilinear_taps`] picks. `dims` is the input's shape.
    fn resize_bilinear(
        &self,
        x: &Self::Storage,
        dims: [usize; 4],
        out_h: usize,
        out_w: usize,
    ) -> Result<Self::Storage>;
    /// Backward of [`ResizeOps::resize_bilinear`]: each `dy` element is spread over
    /// its four source pixels with weights `(1 - ly)(1 - lx)`, `(1 - ly) lx`,
    /// `ly (1 - lx)`, `ly lx`; the result has the input's shape `dims`.
    fn resize_bilinear_backward(
        &self,
        dy: &Self::Storage,
        dims: [usize; 4],
        out_h: usize,
        out_w: usize,
    ) -> Result<Self::Storage>;
}
