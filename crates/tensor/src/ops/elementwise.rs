//! Unary, scalar and broadcasting binary arithmetic.

use crate::{Backend, BinaryOp, BroadcastLayout, Result, Shape, Tensor, UnaryOp};

impl<B: Backend> Tensor<B> {
    /// Elementwise `op(self)`, differentiable where the op is.
    pub fn unary(&self, op: UnaryOp) -> Result<Self> {
        let storage = self.backend().unary(op, self.storage(), self.numel())?;
        let x = self.clone();
        Ok(Tensor::from_op(
            self.backend(),
            storage,
            self.shape().clone(),
            op.name(),
            &[self],
            move |g, out| Ok(vec![unary_backward(op, &x, out, g)?]),
        ))
    }

    /// Broadcasting `op(self, other)`.
    pub fn binary(&self, other: &Self, op: BinaryOp) -> Result<Self> {
        let name = op.name();
        let out_shape = Shape::broadcast(self.shape(), other.shape(), name)?;
        let layout = BroadcastLayout {
            a_strides: self.shape().broadcast_strides(&out_shape),
            b_strides: other.shape().broadcast_strides(&out_shape),
            out_dims: out_shape.dims().to_vec(),
        };
        let storage = self
            .backend()
            .binary(op, self.storage(), other.storage(), &layout)?;
        let (a, b) = (self.clone(), other.clone());
        Ok(Tensor::from_op(
            self.backend(),
            storage,
            out_shape,
            name,
            &[self, other],
            move |g, out| binary_backward(op, &a, &b, out, g),
        ))
    }

    /// `self + other` (broadcasting).
    pub fn add(&self, other: &Self) -> Result<Self> {
        self.binary(other, BinaryOp::Add)
    }
    /// `self - other` (broadcasting).
    pub fn sub(&self, other: &Self) -> Result<Self> {
        self.binary(other, BinaryOp::Sub)
    }
    /// `self * other` (broadcasting).
    pub fn mul(&self, other: &Self) -> Result<Self> {
        self.binary(other, BinaryOp::Mul)
    }
    /// `self / other` (broadcasting).
    pub fn div(&self, other: &Self) -> Result<Self> {
        self.binary(other, BinaryOp::Div)
    }
    /// `self ^ other` (broadcasting; `self` must be positive where `other` is not an integer).
    pub fn pow(&self, other: &Self) -> Result<Self> {
        self.binary(other, BinaryOp::Pow)
    }
    /// Elementwise maximum (broadcasting); ties send the gradient to `self`.
    pub fn maximum(&self, other: &Self) -> Result<Self> {
        self.binary(other, BinaryOp::Maximum)
    }
    /// Elementwise minimum (broadcasting); ties send the gradient to `self`.
    pub fn minimum(&self, other: &Self) -> Result<Self> {
        self.binary(other, BinaryOp::Minimum)
    }
    /// 1 where equal, else 0 (no gradient).
    pub fn eq_mask(&self, other: &Self) -> Result<Self> {
        self.binary(other, BinaryOp::Eq)
    }
    /// 1 where `self > other`, else 0 (no gradient).
    pub fn gt_mask(&self, other: &Self) -> Result<Self> {
        self.binary(other, BinaryOp::Gt)
    }
    /// 1 where `self >= other`, else 0 (no gradient).
    pub fn ge_mask(&self, other: &Self) -> Result<Self> {
        self.binary(other, BinaryOp::Ge)
    }

    /// `-self`.
    pub fn neg(&self) -> Result<Self> {
        self.unary(UnaryOp::Neg)
    }
    /// `|self|`.
    pub fn abs(&self) -> Result<Self> {
        self.unary(UnaryOp::Abs)
    }
    /// `e^self`.
    pub fn exp(&self) -> Result<Self> {
        self.unary(UnaryOp::Exp)
    }
    /// Natural logarithm.
    pub fn log(&self) -> Result<Self> {
        self.unary(UnaryOp::Log)
    }
    /// Square root.
    pub fn sqrt(&self) -> Result<Self> {
        self.unary(UnaryOp::Sqrt)
    }
    /// `1 / self`.
    pub fn recip(&self) -> Result<Self> {
        self.unary(UnaryOp::Recip)
    }
    /// `self^2`.
    pub fn square(&self) -> Result<Self> {
        self.unary(UnaryOp::Square)
    }
    /// `self ^ p` for a constant `p`.
    pub fn powf(&self, p: f32) -> Result<Self> {
        self.unary(UnaryOp::Powf(p))
    }
    /// `self + c`.
    pub fn add_scalar(&self, c: f32) -> Result<Self> {
        self.unary(UnaryOp::AddScalar(c))
    }
    /// `self - c`.
    pub fn sub_scalar(&self, c: f32) -> Result<Self> {
        self.unary(UnaryOp::AddScalar(-c))
    }
    /// `self * c`.
    pub fn mul_scalar(&self, c: f32) -> Result<Self> {
        self.unary(UnaryOp::MulScalar(c))
    }
    /// `self / c`.
    pub fn div_scalar(&self, c: f32) -> Result<Self> {
        self.unary(UnaryOp::MulScalar(1.0 / c))
    }
    /// Clamps into `[lo, hi]`; the gradient passes where the input is inside.
    pub fn clamp(&self, lo: f32, hi: f32) -> Result<Self> {
        self.unary(UnaryOp::Clamp(lo, hi))
    }
    /// Sign (-1, 0, 1); no gradient.
    pub fn sign(&self) -> Result<Self> {
        self.unary(UnaryOp::Sign)
    }

    /// `max(x, 0)`.
    pub fn relu(&self) -> Result<Self> {
        self.unary(UnaryOp::Relu)
    }

    /// `x` for `x > 0`, else `alpha * x`.
    pub fn leaky_relu(&self, alpha: f32) -> Result<Self> {
        self.unary(UnaryOp::LeakyRelu(alpha))
    }

    /// `1 / (1 + e^-x)`.
    pub fn sigmoid(&self) -> Result<Self> {
        self.unary(UnaryOp::Sigmoid)
    }

    /// Hyperbolic tangent.
    pub fn tanh(&self) -> Result<Self> {
        self.unary(UnaryOp::Tanh)
    }

    /// `ln(1 + e^x)`, a smooth ReLU; its derivative is `sigmoid(x)`.
    pub fn softplus(&self) -> Result<Self> {
        self.unary(UnaryOp::Softplus)
    }
}

fn unary_backward<B: Backend>(
    op: UnaryOp,
    x: &Tensor<B>,
    out: &Tensor<B>,
    g: &Tensor<B>,
) -> Result<Option<Tensor<B>>> {
    let grad = match op {
        UnaryOp::Neg => g.neg()?,
        UnaryOp::Abs => g.mul(&x.sign()?)?,
        UnaryOp::Exp => g.mul(out)?,
        UnaryOp::Log => g.div(x)?,
        UnaryOp::Sqrt => g.div(out)?.mul_scalar(0.5)?,
        UnaryOp::Recip => g.mul(&out.square()?)?.neg()?,
        UnaryOp::Square => g.mul(x)?.mul_scalar(2.0)?,
        // One pass each (a mask, a slope or `1 - y^2` built first and multiplied in
        // would be two to four).
        UnaryOp::Relu => g.binary(x, BinaryOp::ReluGrad)?,
        UnaryOp::LeakyRelu(alpha) => g.mul(&x.unary(UnaryOp::LeakyReluSlope(alpha))?)?,
        UnaryOp::Sigmoid => g.binary(out, BinaryOp::SigmoidGrad)?,
        UnaryOp::Tanh => g.binary(out, BinaryOp::TanhGrad)?,
        UnaryOp::Softplus => g.mul(&x.sigmoid()?)?,
        UnaryOp::Powf(p) => g.mul(&x.powf(p - 1.0)?.mul_scalar(p)?)?,
        UnaryOp::AddScalar(_) => g.clone(),
        UnaryOp::MulScalar(c) => g.mul_scalar(c)?,
        UnaryOp::Clamp(lo, hi) => g.mul(&x.unary(UnaryOp::InRange(lo, hi))?)?,
        UnaryOp::GtScalar(_)
        | UnaryOp::InRange(..)
        | UnaryOp::Sign
        | UnaryOp::LeakyReluSlope(_) => return Ok(None),
    };
    Ok(Some(grad))
}

fn binary_backward<B: Backend>(
    op: BinaryOp,
    a: &Tensor<B>,
    b: &Tensor<B>,
    out: &Tensor<B>,
    g: &Tensor<B>,
) -> Result<Vec<Option<Tensor<B>>>> {
    let (ga, gb) = match op {
        BinaryOp::Add => (g.clone(), g.clone()),
        BinaryOp::Sub => (g.clone(), g.neg()?),
        BinaryOp::Mul => (g.mul(b)?, g.mul(a)?),
        BinaryOp::Div => {
            let ga = g.div(b)?;
            // d(a/b)/db = -a/b^2 = -out/b
            let gb = ga.mul(out)?.neg()?;
            (ga, gb)
        }
        BinaryOp::Pow => {
            let ga = g.mul(&b.mul(&a.pow(&b.add_scalar(-1.0)?)?)?)?;
            // ln(a) is undefined for a <= 0; only pay for it when the exponent is tracked.
            let gb = if b.is_tracked() {
                g.mul(&out.mul(&a.log()?)?)?
            } else {
                g.clone()
            };
            (ga, gb)
        }
        BinaryOp::Maximum => {
            let mask = a.ge_mask(b)?;
            let ga = g.mul(&mask)?;
            (ga.clone(), g.sub(&ga)?)
        }
        BinaryOp::Minimum => {
            let mask = b.ge_mask(a)?;
            let ga = g.mul(&mask)?;
            (ga.clone(), g.sub(&ga)?)
        }
        // The gradient ops are differentiable too (their own backward is not on any
        // training path, but a user may build on them).
        BinaryOp::ReluGrad => (g.binary(b, BinaryOp::ReluGrad)?, g.zeros_like()?),
        BinaryOp::TanhGrad => {
            // d/da = 1 - b^2; d/db = -2 a b.
            let gb = g.mul(a)?.mul(b)?.mul_scalar(-2.0)?;
            (g.binary(b, BinaryOp::TanhGrad)?, gb)
        }
        BinaryOp::SigmoidGrad => {
            // d/da = b (1 - b); d/db = a (1 - 2 b).
            let gb = g.mul(a)?.mul(&b.mul_scalar(-2.0)?.add_scalar(1.0)?)?;
            (g.binary(b, BinaryOp::SigmoidGrad)?, gb)
        }
        BinaryOp::Eq | BinaryOp::Gt | BinaryOp::Ge => return Ok(vec![None, None]),
    };
    let reduce = |t: &Tensor<B>, g: Tensor<B>| -> Result<Option<Tensor<B>>> {
        if t.is_tracked() {
            Ok(Some(g.sum_to_shape(t.shape())?))
        } else {
            Ok(None)
        }
    };
    Ok(vec![reduce(a, ga)?, reduce(b, gb)?])
}
