//! 2-D convolution layer (NHWC input, HWIO kernel).

use crate::{Activation, Init, Mode, Module, Param, Seeds};
use tensor::{Backend, Error, Padding, Result, Tensor};

/// `y = activation(conv2d(x, kernel) + bias)` (Keras `Conv2D`).
///
/// Input `[n, h, w, in_channels]`, kernel `[kh, kw, in_channels, filters]`, output
/// `[n, out_h, out_w, filters]`. Keras defaults: stride 1, `Padding::Valid`,
/// Glorot-uniform kernel, zero bias, no activation.
#[derive(Clone)]
pub struct Conv2d<B: Backend> {
    pub kernel: Param<B>,
    pub bias: Option<Param<B>>,
    pub stride: (usize, usize),
    pub padding: Padding,
    pub activation: Activation,
}

impl<B: Backend> Conv2d<B> {
    /// `filters` filters of `kernel_size` over `in_channels` channels, Keras defaults otherwise.
    pub fn new(
        backend: &B,
        in_channels: usize,
        filters: usize,
        kernel_size: (usize, usize),
        seeds: &mut Seeds,
    ) -> Result<Self> {
        Self::with_init(
            backend,
            in_channels,
            filters,
            kernel_size,
            Init::GlorotUniform,
            true,
            seeds,
        )
    }

    /// Full control over the kernel initializer and the bias.
    pub fn with_init(
        backend: &B,
        in_channels: usize,
        filters: usize,
        kernel_size: (usize, usize),
        init: Init,
        use_bias: bool,
        seeds: &mut Seeds,
    ) -> Result<Self> {
        let (kh, kw) = kernel_size;
        if kh == 0 || kw == 0 || in_channels == 0 || filters == 0 {
            return Err(Error::argument(
                "Conv2d",
                format!(
                    "kernel {kernel_size:?}, {in_channels} input channels and {filters} filters must all be positive"
                ),
            ));
        }
        let kernel =
            Param::new(init.make(backend, &[kh, kw, in_channels, filters], seeds.next())?);
        let bias = if use_bias {
            Some(Param::new(Tensor::zeros(backend, [filters])?))
        } else {
            None
        };
        Ok(Conv2d {
            kernel,
            bias,
            stride: (1, 1),
            padding: Padding::Valid,
            activation: Activation::Linear,
        })
    }

    /// Sets the stride `(rows, columns)`.
    pub fn stride(mut self, stride: (usize, usize)) -> Self {
        self.stride = stride;
        self
    }

    /// Sets the padding (`Valid` or `Same`, TensorFlow semantics).
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// Sets the activation applied after the bias.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Number of output channels.
    pub fn filters(&self) -> usize {
        self.kernel.value().dims().last().copied().unwrap_or(0)
    }
}

/// How a stride-1 SAME convolution with `k` taps along one axis reads an input that
/// was upsampled `f` times along that axis (nearest neighbour).
///
/// Output position `f * i + p` (phase `p` in `0..f`) with tap `t` reads upsampled
/// position `f * i + p + t - pad` (TensorFlow's top/left pad `pad = (k - 1) / 2`),
/// which is low-resolution position `i + floor((p + t - pad) / f)`. So each phase is a
/// convolution of the low-resolution input with a kernel of `taps` rows whose row `a`
/// is the sum of the taps landing at offset `a - left` (`left = -min offset`).
/// Zero padding agrees: an upsampled position is outside `[0, f * h)` exactly when its
/// low-resolution position is outside `[0, h)`.
#[derive(Debug, PartialEq)]
struct PhasePlan {
    /// Rows of each phase's low-resolution kernel.
    taps: usize,
    /// `[f * taps, k]` 0/1 matrix: row `p * taps + a` selects the taps summed into row `a`
    /// of phase `p`'s kernel.
    select: Vec<f32>,
}

impl PhasePlan {
    /// The plan, when the phase kernels are a SAME convolution at low resolution
    /// (their top pad is `(taps - 1) / 2`).
    fn new(k: usize, f: usize) -> Option<Self> {
        let pad = (k as isize - 1) / 2;
        let f = f as isize;
        let offset = |p: isize, t: isize| (p + t - pad).div_euclid(f);
        let lo = offset(0, 0);
        let hi = offset(f - 1, k as isize - 1);
        let taps = (hi - lo + 1) as usize;
        if (taps as isize - 1) / 2 != -lo {
            return None;
        }
        let mut select = vec![0.0; f as usize * taps * k];
        for p in 0..f {
            for t in 0..k as isize {
                let a = (offset(p, t) - lo) as usize;
                select[(p as usize * taps + a) * k + t as usize] = 1.0;
            }
        }
        Some(PhasePlan { taps, select })
    }
}

impl<B: Backend> Conv2d<B> {
    /// `self.forward(x.upsample_nearest2d(size))` without the upsampled tensor, for a
    /// stride-1 SAME convolution: every output phase `(py, px)` of the upsampled grid is
    /// a smaller convolution of `x` (see `PhasePlan`); all phases run as one convolution
    /// with `size.0 * size.1 * filters` outputs, then a depth-to-space reshuffle. A 5x5
    /// kernel after 2x upsampling becomes four 3x3 kernels: 36% of the multiply-adds.
    /// `None` when the layer is not stride-1 SAME or the rewrite saves nothing.
    pub fn forward_upsampled_input(
        &self,
        x: &Tensor<B>,
        size: (usize, usize),
    ) -> Option<Result<Tensor<B>>> {
        let (rows, cols, [kh, kw, c_in, c_out]) = self.phase_plans(size)?;
        if x.rank() != 4 || x.dims()[3] != c_in {
            return None;
        }
        Some(self.phase_forward(x, size, &rows, &cols, [kh, kw, c_in, c_out]))
    }

    /// Whether [`Conv2d::forward_upsampled_input`] can take over an upsampling by
    /// `size` (stride 1, SAME, and the rewrite saves multiply-adds); `Sequential`
    /// asks this when it is built.
    pub fn takes_upsampling(&self, size: (usize, usize)) -> bool {
        self.phase_plans(size).is_some()
    }

    fn phase_plans(&self, (fh, fw): (usize, usize)) -> Option<(PhasePlan, PhasePlan, [usize; 4])> {
        if self.stride != (1, 1) || self.padding != Padding::Same || fh == 0 || fw == 0 {
            return None;
        }
        let kernel = self.kernel.value();
        let &[kh, kw, c_in, c_out] = kernel.dims() else {
            return None;
        };
        let rows = PhasePlan::new(kh, fh)?;
        let cols = PhasePlan::new(kw, fw)?;
        (rows.taps * cols.taps < kh * kw).then_some((rows, cols, [kh, kw, c_in, c_out]))
    }

    fn phase_forward(
        &self,
        x: &Tensor<B>,
        (fh, fw): (usize, usize),
        rows: &PhasePlan,
        cols: &PhasePlan,
        [kh, kw, c_in, c_out]: [usize; 4],
    ) -> Result<Tensor<B>> {
        let be = x.backend();
        let (rh, rw) = (rows.taps, cols.taps);
        let io = c_in * c_out;
        // Kernel rows: [fh * rh, kh] @ [kh, kw * io] -> (py, a, s, io).
        let sel_rows = Tensor::from_vec(be, rows.select.clone(), [fh * rh, kh])?;
        let w = sel_rows.matmul(&self.kernel.value().reshape([kh, kw * io])?)?;
        // Kernel columns: (s, py, a, io) then [fw * rw, kw] @ -> (px, b, py, a, io).
        let w = w
            .reshape([fh * rh, kw, io])?
            .permute(&[1, 0, 2])?
            .reshape([kw, fh * rh * io])?;
        let sel_cols = Tensor::from_vec(be, cols.select.clone(), [fw * rw, kw])?;
        let w = sel_cols.matmul(&w)?;
        // HWIO with the phases in the output channels: (a, b, ci, py, px, co).
        let w = w
            .reshape([fw, rw, fh, rh, c_in, c_out])?
            .permute(&[3, 1, 4, 2, 0, 5])?
            .reshape([rh, rw, c_in, fh * fw * c_out])?;
        let (n, h, wd) = (x.dims()[0], x.dims()[1], x.dims()[2]);
        let mut y = x
            .conv2d(&w, (1, 1), Padding::Same)?
            // Depth to space: (n, i, j, py, px, co) -> (n, i, py, j, px, co).
            .reshape([n, h, wd, fh, fw, c_out])?
            .permute(&[0, 1, 3, 2, 4, 5])?
            .reshape([n, h * fh, wd * fw, c_out])?;
        if let Some(b) = &self.bias {
            y = y.add(&b.value())?;
        }
        self.activation.apply(&y)
    }
}

crate::impl_params!(Conv2d { kernel, bias });

impl<B: Backend> Module<B> for Conv2d<B> {
    fn forward(&self, x: &Tensor<B>, _mode: Mode) -> Result<Tensor<B>> {
        // One op when it can be: the bias and activation are applied while the
        // convolution's output is in cache.
        if let (Some(b), Some(act)) = (&self.bias, self.activation.fused()) {
            return x.conv2d_bias_act(
                &self.kernel.value(),
                &b.value(),
                self.stride,
                self.padding,
                act,
            );
        }
        let mut y = x.conv2d(&self.kernel.value(), self.stride, self.padding)?;
        if let Some(b) = &self.bias {
            y = y.add(&b.value())?;
        }
        self.activation.apply(&y)
    }

    fn kind(&self) -> String {
        "Conv2D".into()
    }
}
