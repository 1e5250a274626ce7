//! The conv family: 2-D convolution forward and its two backwards.

use super::{BinaryOp, BroadcastLayout, ElementwiseOps, StorageOps, UnaryOp};
use crate::Result;

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

/// 2-D convolution, NHWC input and HWIO filter, no bias.
pub trait ConvOps: StorageOps + ElementwiseOps {
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

    /// `act(conv2d(x, w) + bias)` (no activation when `act` is `None`), `bias` `[o]`
    /// added to every output pixel: a Conv2d layer's forward pass in one op. By
    /// default the convolution, the bias add and the activation one after another; a
    /// backend may apply the bias and the activation while the convolution's output
    /// is still in its caches (the same operations in the same order, so the same
    /// bits).
    fn conv2d_bias_act(
        &self,
        x: &Self::Storage,
        w: &Self::Storage,
        bias: &Self::Storage,
        act: Option<UnaryOp>,
        g: &Conv2dGeom,
    ) -> Result<Self::Storage> {
        let y = self.conv2d(x, w, g)?;
        let rows = g.n * g.out_h * g.out_w;
        let layout = BroadcastLayout {
            out_dims: vec![rows, g.o],
            a_strides: vec![g.o, 1],
            b_strides: vec![0, 1],
        };
        let y = self.binary(BinaryOp::Add, &y, bias, &layout)?;
        match act {
            Some(act) => self.unary(act, &y, rows * g.o),
            None => Ok(y),
        }
    }
}
