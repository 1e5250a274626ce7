//! 2-D convolution, NHWC input and HWIO filter, with TensorFlow padding.

use crate::{Backend, BinaryOp, Conv2dGeom, Error, Result, Shape, Tensor, UnaryOp};

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
        let (geom, out_shape) = conv_geometry("conv2d", x, w, stride, padding)?;
        let storage = self.backend().conv2d(x.storage(), w.storage(), &geom)?;
        let (xc, wc) = (x.clone(), w.clone());
        Ok(Tensor::from_op(
            self.backend(),
            storage,
            out_shape,
            "conv2d",
            &[x, w],
            move |g, _| conv_grads(g, &xc, &wc, &geom),
        ))
    }

    /// `act(conv2d(self, filter) + bias)`, `bias` `[o]`: a Conv2d layer's forward pass
    /// as one op, so a backend can apply the bias and the activation while the
    /// convolution's output is still in its caches. `act` is `None` or an activation
    /// whose derivative follows from its output ([`activation_fuses`]): ReLU, leaky
    /// ReLU with `alpha >= 0`, sigmoid, tanh. The same values as the three ops one
    /// after another, gradients included.
    pub fn conv2d_bias_act(
        &self,
        filter: &Self,
        bias: &Self,
        stride: (usize, usize),
        padding: Padding,
        act: Option<UnaryOp>,
    ) -> Result<Self> {
        let (x, w) = (self, filter);
        let (geom, out_shape) = conv_geometry("conv2d_bias_act", x, w, stride, padding)?;
        if bias.dims() != [geom.o] {
            return Err(Error::shape(
                "conv2d_bias_act",
                &[w.shape(), bias.shape()],
                format!("the bias must be [{}], one per output channel", geom.o),
            ));
        }
        check_fusable("conv2d_bias_act", act)?;
        let storage =
            self.backend()
                .conv2d_bias_act(x.storage(), w.storage(), bias.storage(), act, &geom)?;
        let (xc, wc, bc) = (x.clone(), w.clone(), bias.clone());
        Ok(Tensor::from_op(
            self.backend(),
            storage,
            out_shape,
            "conv2d_bias_act",
            &[x, w, bias],
            move |g, out| {
                let g = match act {
                    Some(op) => activation_grad_from_output("conv2d_bias_act", op, out, g)?,
                    None => g.clone(),
                };
                let mut grads = conv_grads(&g, &xc, &wc, &geom)?;
                let gb = if bc.is_tracked() {
                    Some(g.sum_to_shape(bc.shape())?)
                } else {
                    None
                };
                grads.push(gb);
                Ok(grads)
            },
        ))
    }
}

/// The gradients of a convolution's input `x` and filter `w`, in that order (each
/// where tracked), given the output gradient `g`.
fn conv_grads<B: Backend>(
    g: &Tensor<B>,
    x: &Tensor<B>,
    w: &Tensor<B>,
    geom: &Conv2dGeom,
) -> Result<Vec<Option<Tensor<B>>>> {
    let be = g.backend();
    let gx = if x.is_tracked() {
        let s = be.conv2d_backward_input(g.storage(), w.storage(), geom)?;
        Some(Tensor::from_storage(be, s, x.shape().clone()))
    } else {
        None
    };
    let gw = if w.is_tracked() {
        let s = be.conv2d_backward_filter(x.storage(), g.storage(), geom)?;
        Some(Tensor::from_storage(be, s, w.shape().clone()))
    } else {
        None
    };
    Ok(vec![gx, gw])
}

/// Whether `op` can be fused into an op's output ([`Tensor::conv2d_bias_act`],
/// [`Tensor::matmul_bias_act`]): its
/// derivative must follow from its output alone.
pub fn activation_fuses(op: UnaryOp) -> bool {
    match op {
        UnaryOp::Relu | UnaryOp::Sigmoid | UnaryOp::Tanh => true,
        // y > 0 exactly where x > 0 only when alpha >= 0.
        UnaryOp::LeakyRelu(alpha) => alpha >= 0.0,
        _ => false,
    }
}

/// An error naming `fused` unless `act` is `None` or fusable ([`activation_fuses`]).
pub(crate) fn check_fusable(fused: &'static str, act: Option<UnaryOp>) -> Result<()> {
    match act.filter(|&op| !activation_fuses(op)) {
        Some(op) => Err(Error::argument(
            fused,
            format!(
                "{} cannot be fused (its derivative does not follow from its output)",
                op.name()
            ),
        )),
        None => Ok(()),
    }
}

/// The gradient at the input of a fusable activation ([`activation_fuses`]), from its
/// output `out` and output gradient `g`: the values its own backward computes from
/// the input.
pub(crate) fn activation_grad_from_output<B: Backend>(
    fused: &'static str,
    op: UnaryOp,
    out: &Tensor<B>,
    g: &Tensor<B>,
) -> Result<Tensor<B>> {
    match op {
        UnaryOp::Relu => g.binary(out, BinaryOp::ReluGrad),
        UnaryOp::LeakyRelu(alpha) => g.mul(&out.unary(UnaryOp::LeakyReluSlope(alpha))?),
        UnaryOp::Sigmoid => g.binary(out, BinaryOp::SigmoidGrad),
        UnaryOp::Tanh => g.binary(out, BinaryOp::TanhGrad),
        _ => Err(Error::argument(
            fused,
            format!("{} cannot be fused", op.name()),
        )),
    }
}

/// The geometry and output shape of `x` convolved with `w`, or an error naming `op`.
fn conv_geometry<B: Backend>(
    op: &'static str,
    x: &Tensor<B>,
    w: &Tensor<B>,
    stride: (usize, usize),
    padding: Padding,
) -> Result<(Conv2dGeom, Shape)> {
    if x.rank() != 4 || w.rank() != 4 || x.dims()[3] != w.dims()[2] {
        return Err(Error::shape(
            op,
            &[x.shape(), w.shape()],
            "need input [n, h, w, c] and filter [kh, kw, c, o] with equal c",
        ));
    }
    let [n, h, wd, c] = [x.dims()[0], x.dims()[1], x.dims()[2], x.dims()[3]];
    let [kh, kw, _, o] = [w.dims()[0], w.dims()[1], w.dims()[2], w.dims()[3]];
    let Some(geom) = Conv2dGeom::for_input([n, h, wd, c], (kh, kw, o), stride, padding) else {
        return Err(Error::shape(
            op,
            &[x.shape(), w.shape()],
            format!("stride {stride:?} and {padding:?} padding leave no output"),
        ));
    };
    let out_shape = Shape::checked(vec![n, geom.out_h, geom.out_w, o], op)?;
    // The CPU kernels unfold every output pixel's window (im2col): that buffer
    // must be a possible allocation too.
    Shape::checked(vec![n, geom.out_h, geom.out_w, kh, kw, c], op)?;
    Ok((geom, out_shape))
}
