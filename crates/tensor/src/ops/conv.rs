//! 2-D convolution, NHWC input and HWIO filter, with TensorFlow padding.

use crate::{Backend, Conv2dGeom, Error, Result, Shape, Tensor};

/// TensorFlow padding modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// No padding: the output shrinks.
    Valid,
    /// Zero padding so that `out = ceil(in / stride)`; an odd total pad puts the
    /// extra row/column at the bottom/right.
    Same,
}

impl Padding {
    /// `(out, pad_before)` for one spatial dimension, exactly as TensorFlow.
    pub fn output_and_pad(
        self,
        input: usize,
        kernel: usize,
        stride: usize,
    ) -> Option<(usize, usize)> {
        if stride == 0 || kernel == 0 {
            return None;
        }
        match self {
            Padding::Valid => {
                if input < kernel {
                    None
                } else {
                    Some(((input - kernel) / stride + 1, 0))
                }
            }
            Padding::Same => {
                let out = input.div_ceil(stride);
                // Checked: a huge stride or kernel must not wrap around.
                let span = (out.max(1) - 1).checked_mul(stride)?.checked_add(kernel)?;
                Some((out, span.saturating_sub(input) / 2))
            }
        }
    }
}

impl Conv2dGeom {
    /// The geometry of an NHWC input `[n, h, w, c]` convolved with a `kh x kw x c x o`
    /// filter at `stride` with `padding` (TensorFlow's rules); `None` when no output
    /// is left.
    pub fn for_input(
        [n, h, w, c]: [usize; 4],
        (kh, kw, o): (usize, usize, usize),
        stride: (usize, usize),
        padding: Padding,
    ) -> Option<Self> {
        let (out_h, pad_top) = padding.output_and_pad(h, kh, stride.0)?;
        let (out_w, pad_left) = padding.output_and_pad(w, kw, stride.1)?;
        Some(Conv2dGeom {
            n,
            h,
            w,
            c,
            kh,
            kw,
            o,
            stride_h: stride.0,
            stride_w: stride.1,
            pad_top,
            pad_left,
            out_h,
            out_w,
        })
    }
}

impl<B: Backend> Tensor<B> {
    /// Convolution of NHWC `self` `[n, h, w, c]` with an HWIO filter `[kh, kw, c, o]`.
    pub fn conv2d(&self, filter: &Self, stride: (usize, usize), padding: Padding) -> Result<Self> {
        let (x, w) = (self, filter);
        if x.rank() != 4 || w.rank() != 4 || x.dims()[3] != w.dims()[2] {
            return Err(Error::shape(
                "conv2d",
                &[x.shape(), w.shape()],
                "need input [n, h, w, c] and filter [kh, kw, c, o] with equal c",
            ));
        }
        let [n, h, wd, c] = [x.dims()[0], x.dims()[1], x.dims()[2], x.dims()[3]];
        let [kh, kw, _, o] = [w.dims()[0], w.dims()[1], w.dims()[2], w.dims()[3]];
        let Some(geom) = Conv2dGeom::for_input([n, h, wd, c], (kh, kw, o), stride, padding) else {
            return Err(Error::shape(
                "conv2d",
                &[x.shape(), w.shape()],
                format!("stride {stride:?} and {padding:?} padding leave no output"),
            ));
        };
        let (out_h, out_w) = (geom.out_h, geom.out_w);
        let out_shape = Shape::checked(vec![n, out_h, out_w, o], "conv2d")?;
        // The CPU kernels unfold every output pixel's window (im2col): that buffer
        // must be a possible allocation too.
        Shape::checked(vec![n, out_h, out_w, kh, kw, c], "conv2d")?;
        let storage = self.backend().conv2d(x.storage(), w.storage(), &geom)?;
        let (xc, wc) = (x.clone(), w.clone());
        Ok(Tensor::from_op(
            self.backend(),
            storage,
            out_shape,
            "conv2d",
            &[x, w],
            move |g, _| {
                let be = g.backend();
                let gx = if xc.is_tracked() {
                    let s = be.conv2d_backward_input(g.storage(), wc.storage(), &geom)?;
                    Some(Tensor::from_storage(be, s, xc.shape().clone()))
                } else {
                    None
                };
                let gw = if wc.is_tracked() {
                    let s = be.conv2d_backward_filter(xc.storage(), g.storage(), &geom)?;
                    Some(Tensor::from_storage(be, s, wc.shape().clone()))
                } else {
                    None
                };
                Ok(vec![gx, gw])
            },
        ))
    }
}
