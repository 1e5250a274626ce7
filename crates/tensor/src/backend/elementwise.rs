//! The elementwise family, and the one table its ops come from.
//!
//! Every unary and binary op is one row of [`unary_table!`] / [`binary_table!`]
//! below: its variant (with its `f32` parameters named), its doc, its scalar Rust
//! expression and its WGSL expression. From the table come
//!
//! - the [`UnaryOp`] / [`BinaryOp`] enums,
//! - the op codes a GPU kernel switches on ([`UnaryOp::code`], the row's index) and
//!   the parameters packed as `p0`, `p1` ([`UnaryOp::params`]),
//! - [`UnaryOp::apply`]: the op's Rust expression as a closure handed to a
//!   [`UnaryKernel`], so a backend's loop is monomorphised (and vectorised) per op
//!   and the `match` runs once per call, not per element,
//! - [`UnaryOp::wgsl_function`]: the WGSL `unary_op` function whose `switch` has one
//!   case per row (GPU backends compile it in at pipeline creation).
//!
//! So the CPU and GPU sides cannot drift. Adding a unary op touches three places
//! outside tests: its row here (Rust and WGSL expression), its backward rule and
//! its `Tensor` method (both in `crates/tensor/src/ops/elementwise.rs`).
//!
//! In a WGSL expression the operand is `x` (unary) or `a`, `b` (binary), whatever
//! the Rust closure calls it, and the parameters have their row's names. The WGSL
//! helpers `sigmoid`, `tanh_safe`, `pow_ieee` and `nan_like` live in
//! `shaders/elementwise.wgsl`.

use super::StorageOps;
use crate::Result;
use std::fmt::Write as _;

/// Logistic function, written so neither branch overflows `exp`.
#[inline]
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `e^x` without a libm call, so loops over it vectorise: `x = n ln 2 + r` with
/// `|r| <= ln 2 / 2`, `e^r` by its Taylor polynomial to degree 7 (truncation below
/// 6e-9 relative), `2^n` built in the exponent bits. Inputs are clamped to
/// [-87, 88], where `e^x` is a normal f32; relative error about 2e-7 there. Outside
/// that range it returns the clamp's value (no 0, subnormal or infinity), which suits
/// `tanh` but not a general `Exp`.
#[inline]
pub fn exp_vectorizable(x: f32) -> f32 {
    // 1.5 * 2^23: adding and subtracting it rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (1.0 / 2.0
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    p * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

/// `tanh(x)` without a libm call (the GAN's output layer spent 5% of an iteration in
/// `tanhf`). Below |x| = 0.3 the odd Taylor series to x^11 (truncation < 2e-9
/// relative); above, `1 - 2 / (e^(2|x|) + 1)` (absolute error about 1.2e-7, so
/// relative below 5e-7), with the sign restored. Both are computed and one selected,
/// so the loop has no branch.
#[inline]
pub fn tanh_vectorizable(x: f32) -> f32 {
    let a = x.abs();
    let a2 = a * a;
    let series = a
        * (1.0
            + a2 * (-1.0 / 3.0
                + a2 * (2.0 / 15.0
                    + a2 * (-17.0 / 315.0 + a2 * (62.0 / 2835.0 + a2 * (-1382.0 / 155_925.0))))));
    let large = 1.0 - 2.0 / (exp_vectorizable(2.0 * a) + 1.0);
    let t = if a < 0.3 { series } else { large };
    if x.is_nan() { x } else { t.copysign(x) }
}

/// The logistic function through [`exp_vectorizable`], so loops over it vectorise:
/// `1 / (1 + e^-x)`, relative error about 3e-7; at the extremes it saturates to 1 and
/// to about 6e-39 (the clamp of `exp_vectorizable`), never NaN or infinity.
#[inline]
pub fn sigmoid_vectorizable(x: f32) -> f32 {
    let s = 1.0 / (1.0 + exp_vectorizable(-x));
    if x.is_nan() { x } else { s }
}

#[inline]
fn indicator(b: bool) -> f32 {
    if b { 1.0 } else { 0.0 }
}

#[inline]
fn sign(v: f32) -> f32 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else if v.is_nan() {
        v
    } else {
        0.0
    }
}

/// A loop over one operand that a backend runs with an op's scalar function.
///
/// `f` is a distinct closure type per op, so `run`'s body is compiled (and
/// vectorised) once per op; see [`UnaryOp::apply`].
pub trait UnaryKernel {
    type Output;
    fn run<F: Fn(f32) -> f32 + Sync + Send + Copy>(self, f: F) -> Self::Output;
}

/// A loop over two operands; see [`BinaryOp::apply`].
pub trait BinaryKernel {
    type Output;
    fn run<F: Fn(f32, f32) -> f32 + Sync + Send + Copy>(self, f: F) -> Self::Output;
}

/// The kernel that evaluates an op on one value (the scalar reference).
struct Scalar1(f32);
impl UnaryKernel for Scalar1 {
    type Output = f32;
    fn run<F: Fn(f32) -> f32 + Sync + Send + Copy>(self, f: F) -> f32 {
        f(self.0)
    }
}

struct Scalar2(f32, f32);
impl BinaryKernel for Scalar2 {
    type Output = f32;
    fn run<F: Fn(f32, f32) -> f32 + Sync + Send + Copy>(self, f: F) -> f32 {
        f(self.0, self.1)
    }
}

/// The type of one op parameter (a table helper).
macro_rules! f32_param {
    ($p:ident) => {
        f32
    };
}

/// 1 per parameter (a table helper for counting).
macro_rules! one {
    ($p:ident) => {
        1
    };
}

/// Most `f32` parameters a unary op has (`p0`, `p1` in the GPU's uniform block).
pub const MAX_UNARY_PARAMS: usize = 2;

fn pack_params(values: &[f32]) -> [f32; MAX_UNARY_PARAMS] {
    let mut out = [0.0; MAX_UNARY_PARAMS];
    for (o, v) in out.iter_mut().zip(values) {
        *o = *v;
    }
    out
}

/// Writes one `case` of a generated WGSL switch.
fn wgsl_case(out: &mut String, code: usize, name: &str, lets: &[(&str, String)], expr: &str) {
    let _ = writeln!(out, "        case {code}u: {{ // {name}");
    for (new, old) in lets {
        if *new != old.as_str() {
            let _ = writeln!(out, "            let {new} = {old};");
        }
    }
    let _ = writeln!(out, "            return {expr};");
    out.push_str("        }\n");
}

/// A unary row: `(name, parameter names, operand name, WGSL expression)`.
type UnaryRow = (
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
);
/// A binary row: `(name, operand names, WGSL expression)`.
type BinaryRow = (&'static str, [&'static str; 2], &'static str);

fn unary_wgsl(rows: &[UnaryRow]) -> String {
    let mut s = String::from(
        "// Generated from the table in crates/tensor/src/backend/elementwise.rs.\n\
         fn unary_op(op: u32, x: f32, p0: f32, p1: f32) -> f32 {\n    switch op {\n",
    );
    for (code, (name, params, operand, expr)) in rows.iter().enumerate() {
        let mut lets = vec![(*operand, "x".to_string())];
        lets.extend(
            params
                .iter()
                .enumerate()
                .map(|(i, p)| (*p, format!("p{i}"))),
        );
        wgsl_case(&mut s, code, name, &lets, expr);
    }
    // Unreachable (codes come from the table); NaN makes a bad code visible.
    s.push_str("        default: { return nan_like(x); }\n    }\n}\n");
    s
}

fn binary_wgsl(rows: &[BinaryRow]) -> String {
    let mut s = String::from(
        "// Generated from the table in crates/tensor/src/backend/elementwise.rs.\n\
         fn binary_op(op: u32, a: f32, b: f32) -> f32 {\n    switch op {\n",
    );
    for (code, (name, [a, b], expr)) in rows.iter().enumerate() {
        let lets = [(*a, "a".to_string()), (*b, "b".to_string())];
        wgsl_case(&mut s, code, name, &lets, expr);
    }
    s.push_str("        default: { return nan_like(a); }\n    }\n}\n");
    s
}

macro_rules! unary_table {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident $( ( $($p:ident),+ ) )? $op_name:literal => |$x:ident| $rust:expr, wgsl: $wgsl:literal;
    )*) => {
        /// Elementwise op of one operand: one row of the table in
        /// `crates/tensor/src/backend/elementwise.rs`.
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub enum UnaryOp {
            $( $(#[doc = $doc])* $name $( ( $(f32_param!($p)),+ ) )?, )*
        }

        /// Op codes: the rows' indices.
        #[derive(Clone, Copy)]
        enum UnaryCode { $($name,)* }

        const _: () = {
            let arities = [$( 0 $($(+ one!($p))+)? ),*];
            let mut i = 0;
            while i < arities.len() {
                assert!(arities[i] <= MAX_UNARY_PARAMS, "a unary op has more than 2 parameters");
                i += 1;
            }
        };

        impl UnaryOp {
            /// The ops' names, indexed by [`UnaryOp::code`].
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name)),*];

            /// The op's name in errors and graph dumps, e.g. `leaky_relu`.
            pub fn name(self) -> &'static str {
                match self { $( Self::$name { .. } => $op_name, )* }
            }

            /// The op code (index of the op's row in the table).
            pub fn code(self) -> u32 {
                match self { $( Self::$name { .. } => UnaryCode::$name as u32, )* }
            }

            /// The op's parameters in table order, zero-padded: `p0`, `p1` on a GPU.
            pub fn params(self) -> [f32; MAX_UNARY_PARAMS] {
                match self {
                    $( Self::$name $( ( $($p),+ ) )? => pack_params(&[$($($p),+)?]), )*
                }
            }

            /// Runs `kernel` with this op's scalar function (one `match` per call).
            #[inline]
            pub fn apply<K: UnaryKernel>(self, kernel: K) -> K::Output {
                match self {
                    $( Self::$name $( ( $($p),+ ) )? =>
                        kernel.run(move |$x: f32| -> f32 { $rust }), )*
                }
            }

            /// The op on one value: the scalar reference every backend matches.
            pub fn eval(self, x: f32) -> f32 {
                self.apply(Scalar1(x))
            }

            /// The WGSL function `unary_op(op: u32, x: f32, p0: f32, p1: f32) -> f32`
            /// with one `case` per row; it calls the helpers of `shaders/elementwise.wgsl`.
            pub fn wgsl_function() -> String {
                let rows: &[UnaryRow] = &[$(
                    (stringify!($name), &[$($(stringify!($p)),+)?], stringify!($x), $wgsl),
                )*];
                unary_wgsl(rows)
            }
        }
    };
}

macro_rules! binary_table {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident $op_name:literal => |$a:ident, $b:ident| $rust:expr, wgsl: $wgsl:literal;
    )*) => {
        /// Elementwise op of two operands, with NumPy broadcasting: one row of the
        /// table in `crates/tensor/src/backend/elementwise.rs`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum BinaryOp {
            $( $(#[doc = $doc])* $name, )*
        }

        impl BinaryOp {
            /// The ops' names, indexed by [`BinaryOp::code`].
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name)),*];

            /// The op's name in errors and graph dumps, e.g. `maximum`.
            pub fn name(self) -> &'static str {
                match self { $( Self::$name => $op_name, )* }
            }

            /// The op code (index of the op's row in the table).
            pub fn code(self) -> u32 {
                self as u32
            }

            /// Runs `kernel` with this op's scalar function (one `match` per call).
            #[inline]
            pub fn apply<K: BinaryKernel>(self, kernel: K) -> K::Output {
                match self {
                    $( Self::$name => kernel.run(move |$a: f32, $b: f32| -> f32 { $rust }), )*
                }
            }

            /// The op on one pair of values: the scalar reference.
            pub fn eval(self, a: f32, b: f32) -> f32 {
                self.apply(Scalar2(a, b))
            }

            /// The WGSL function `binary_op(op: u32, a: f32, b: f32) -> f32`.
            pub fn wgsl_function() -> String {
                let rows: &[BinaryRow] = &[$(
                    (stringify!($name), [stringify!($a), stringify!($b)], $wgsl),
                )*];
                binary_wgsl(rows)
            }
        }
    };
}

unary_table! {
    /// `-x`.
    Neg "neg" => |x| -x, wgsl: "-x";
    /// `|x|`.
    Abs "abs" => |x| x.abs(), wgsl: "abs(x)";
    /// `e^x`.
    Exp "exp" => |x| x.exp(), wgsl: "exp(x)";
    /// Natural logarithm.
    Log "log" => |x| x.ln(), wgsl: "log(x)";
    /// Square root.
    Sqrt "sqrt" => |x| x.sqrt(), wgsl: "sqrt(x)";
    /// `1 / x`.
    Recip "recip" => |x| 1.0 / x, wgsl: "1.0 / x";
    /// `x * x`.
    Square "square" => |x| x * x, wgsl: "x * x";
    /// `max(x, 0)`; `x < 0` rather than `x.max(0)` so a NaN stays visible.
    Relu "relu" => |x| if x < 0.0 { 0.0 } else { x }, wgsl: "select(x, 0.0, x < 0.0)";
    /// `x` where `x > 0`, else `alpha * x`.
    LeakyRelu(alpha) "leaky_relu" => |x| if x > 0.0 { x } else { alpha * x },
        wgsl: "select(alpha * x, x, x > 0.0)";
    /// `1 / (1 + e^-x)`.
    Sigmoid "sigmoid" => |x| sigmoid(x), wgsl: "sigmoid(x)";
    /// Hyperbolic tangent.
    Tanh "tanh" => |x| tanh_vectorizable(x), wgsl: "tanh_safe(x)";
    /// `x ^ p` for a constant exponent.
    Powf(p) "powf" => |x| x.powf(p), wgsl: "pow_ieee(x, p)";
    /// `x + c`.
    AddScalar(c) "add_scalar" => |x| x + c, wgsl: "x + c";
    /// `x * c`.
    MulScalar(c) "mul_scalar" => |x| x * c, wgsl: "x * c";
    /// `min(max(x, lo), hi)` (not `f32::clamp`, which panics when lo > hi).
    Clamp(lo, hi) "clamp" => |x| x.max(lo).min(hi), wgsl: "min(max(x, lo), hi)";
    /// 1 where `x > c`, else 0.
    GtScalar(c) "gt_scalar" => |x| indicator(x > c), wgsl: "select(0.0, 1.0, x > c)";
    /// 1 where `x > 0`, else `alpha` (the slope of a leaky ReLU, for its backward).
    LeakyReluSlope(alpha) "leaky_relu_slope" => |x| if x > 0.0 { 1.0 } else { alpha },
        wgsl: "select(alpha, 1.0, x > 0.0)";
    /// 1 where `lo <= x <= hi`, else 0 (the mask of a clamp's backward).
    InRange(lo, hi) "in_range" => |x| indicator(lo <= x && x <= hi),
        wgsl: "select(0.0, 1.0, x >= lo && x <= hi)";
    /// `ln(1 + e^x)`, as `max(x, 0) + ln(1 + e^-|x|)` so it neither overflows for
    /// large x nor loses the tail for very negative x.
    Softplus "softplus" => |x| x.max(0.0) + (-x.abs()).exp().ln_1p(),
        wgsl: "max(x, 0.0) + select(log(1.0 + exp(-abs(x))), exp(-abs(x)), exp(-abs(x)) < 1e-4)";
    /// Sign of x: -1, 0 or 1 (NaN stays NaN).
    Sign "sign" => |x| sign(x),
        wgsl: "select(select(select(x, 0.0, x == 0.0), -1.0, x < 0.0), 1.0, x > 0.0)";
}

binary_table! {
    /// `a + b`.
    Add "add" => |a, b| a + b, wgsl: "a + b";
    /// `a - b`.
    Sub "sub" => |a, b| a - b, wgsl: "a - b";
    /// `a * b`.
    Mul "mul" => |a, b| a * b, wgsl: "a * b";
    /// `a / b`.
    Div "div" => |a, b| a / b, wgsl: "a / b";
    /// `a ^ b`.
    Pow "pow" => |a, b| a.powf(b), wgsl: "pow_ieee(a, b)";
    /// The larger of `a` and `b`.
    Maximum "maximum" => |a, b| a.max(b), wgsl: "select(a, b, b > a)";
    /// The smaller of `a` and `b`.
    Minimum "minimum" => |a, b| a.min(b), wgsl: "select(a, b, b < a)";
    /// 1 where `a == b`, else 0.
    Eq "eq" => |a, b| indicator(a == b), wgsl: "select(0.0, 1.0, a == b)";
    /// 1 where `a > b`, else 0.
    Gt "gt" => |a, b| indicator(a > b), wgsl: "select(0.0, 1.0, a > b)";
    /// 1 where `a >= b`, else 0.
    Ge "ge" => |a, b| indicator(a >= b), wgsl: "select(0.0, 1.0, a >= b)";
    /// `a` where `b > 0`, else 0: ReLU's backward in one pass (`a` the output
    /// gradient, `b` the input), as TensorFlow's `ReluGrad`.
    ReluGrad "relu_grad" => |a, b| if b > 0.0 { a } else { 0.0 }, wgsl: "select(0.0, a, b > 0.0)";
    /// `a * (1 - b * b)`: tanh's backward in one pass (`b` the output).
    TanhGrad "tanh_grad" => |a, b| a * (1.0 - b * b), wgsl: "a * (1.0 - b * b)";
    /// `a * (b * (1 - b))`: the logistic function's backward in one pass (`b` the
    /// output).
    SigmoidGrad "sigmoid_grad" => |a, b| a * (b * (1.0 - b)), wgsl: "a * (b * (1.0 - b))";
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

/// Unary and broadcasting binary elementwise ops.
pub trait ElementwiseOps: StorageOps {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against f64 libm over a dense grid and the edges: relative error bounds.
    #[test]
    fn vectorizable_sigmoid_matches_f64() {
        for k in -4000..=4000 {
            let x = k as f32 * 0.01;
            let want = 1.0 / (1.0 + (-(x as f64)).exp());
            let got = sigmoid_vectorizable(x) as f64;
            assert!((got - want).abs() <= 4e-7 * want, "{x}: {got} vs {want}");
        }
        assert_eq!(sigmoid_vectorizable(1e4), 1.0);
        let tiny = sigmoid_vectorizable(-1e4);
        assert!((0.0..1e-37).contains(&tiny), "{tiny}");
        assert!(sigmoid_vectorizable(f32::NAN).is_nan());
    }

    #[test]
    fn vectorizable_exp_and_tanh_match_f64() {
        let mut x = -20.0f32;
        while x <= 20.0 {
            let want = (x as f64).tanh();
            let got = tanh_vectorizable(x) as f64;
            assert!(
                (got - want).abs() <= 5e-7 * want.abs(),
                "tanh({x}) = {got}, want {want}"
            );
            let want = (x as f64).exp();
            let got = exp_vectorizable(x) as f64;
            assert!(
                (got - want).abs() <= 3e-7 * want,
                "exp({x}) = {got}, want {want}"
            );
            x += 0.000_97;
        }
        for x in [
            1e-30f32, -1e-20, 1e-7, 0.299_999, 0.3, -0.3, 9.0, 50.0, -1e4, 88.0, -87.0,
        ] {
            let want = (x as f64).tanh();
            let got = tanh_vectorizable(x) as f64;
            assert!(
                (got - want).abs() <= 5e-7 * want.abs(),
                "tanh({x}) = {got}, want {want}"
            );
        }
        for x in [88.0f32, -87.0, 0.0, 1e-6] {
            let want = (x as f64).exp();
            assert!((exp_vectorizable(x) as f64 - want).abs() <= 3e-7 * want);
        }
        assert_eq!(tanh_vectorizable(f32::INFINITY), 1.0);
        assert_eq!(tanh_vectorizable(f32::NEG_INFINITY), -1.0);
        assert!(tanh_vectorizable(f32::NAN).is_nan());
        assert_eq!(tanh_vectorizable(-0.0).to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn sigmoid_is_stable_at_the_extremes() {
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-7);
        assert!((sigmoid(2.0) - 0.880_797_1).abs() < 1e-6);
    }

    #[test]
    fn codes_are_table_indices_and_params_are_packed_in_order() {
        assert_eq!(UnaryOp::Neg.code(), 0);
        assert_eq!(UnaryOp::Sign.code() as usize, UnaryOp::NAMES.len() - 1);
        assert_eq!(
            UnaryOp::NAMES[UnaryOp::Clamp(0.0, 1.0).code() as usize],
            "Clamp"
        );
        assert_eq!(UnaryOp::Clamp(-2.0, 3.0).params(), [-2.0, 3.0]);
        assert_eq!(UnaryOp::LeakyRelu(0.2).params(), [0.2, 0.0]);
        assert_eq!(UnaryOp::Exp.params(), [0.0, 0.0]);
        assert_eq!(BinaryOp::Add.code(), 0);
        assert_eq!(BinaryOp::NAMES[BinaryOp::Ge.code() as usize], "Ge");
    }

    /// Hand-worked values of each row's Rust expression.
    #[test]
    fn scalar_reference_values() {
        use UnaryOp::*;
        assert_eq!(Neg.eval(2.0), -2.0);
        assert_eq!(Abs.eval(-3.0), 3.0);
        assert_eq!(Exp.eval(0.0), 1.0);
        assert_eq!(Log.eval(1.0), 0.0);
        assert_eq!(Sqrt.eval(9.0), 3.0);
        assert_eq!(Recip.eval(4.0), 0.25);
        assert_eq!(Square.eval(-3.0), 9.0);
        assert_eq!(Relu.eval(-1.0), 0.0);
        assert!(Relu.eval(f32::NAN).is_nan());
        assert_eq!(LeakyRelu(0.5).eval(-2.0), -1.0);
        assert_eq!(Powf(3.0).eval(-2.0), -8.0);
        assert_eq!(AddScalar(1.5).eval(1.0), 2.5);
        assert_eq!(MulScalar(-2.0).eval(1.5), -3.0);
        assert_eq!(Clamp(-1.0, 1.0).eval(5.0), 1.0);
        assert_eq!(Clamp(-1.0, 1.0).eval(-5.0), -1.0);
        assert_eq!(GtScalar(1.0).eval(1.0), 0.0);
        assert_eq!(InRange(0.0, 1.0).eval(1.0), 1.0);
        assert_eq!(InRange(0.0, 1.0).eval(1.5), 0.0);
        // ln 2 and ln(1 + e) = 1.313261687518...; far out, x itself and e^x.
        assert!((Softplus.eval(0.0) - std::f32::consts::LN_2).abs() < 1e-7);
        assert!((Softplus.eval(1.0) - 1.313_261_7).abs() < 1e-6);
        assert_eq!(Softplus.eval(100.0), 100.0);
        assert!((Softplus.eval(-20.0) - 2.061_153_6e-9).abs() < 1e-15);
        assert_eq!(Sign.eval(-2.0), -1.0);
        assert_eq!(Sign.eval(-0.0), 0.0);
        assert_eq!(BinaryOp::Pow.eval(2.0, 3.0), 8.0);
        assert_eq!(BinaryOp::Maximum.eval(2.0, 3.0), 3.0);
        assert_eq!(BinaryOp::Ge.eval(3.0, 3.0), 1.0);
        // The gradient rows, by hand: relu' of -1, 0, 2 is 0, 0, 1; tanh'(y = 0.5) =
        // 0.75; sigmoid'(y = 0.25) = 0.1875 (all exact in binary).
        assert_eq!(LeakyReluSlope(0.25).eval(-3.0), 0.25);
        assert_eq!(LeakyReluSlope(0.25).eval(0.0), 0.25);
        assert_eq!(LeakyReluSlope(0.25).eval(2.0), 1.0);
        assert_eq!(BinaryOp::ReluGrad.eval(3.0, -1.0), 0.0);
        assert_eq!(BinaryOp::ReluGrad.eval(3.0, 0.0), 0.0);
        assert_eq!(BinaryOp::ReluGrad.eval(3.0, 2.0), 3.0);
        assert_eq!(BinaryOp::TanhGrad.eval(2.0, 0.5), 1.5);
        assert_eq!(BinaryOp::SigmoidGrad.eval(2.0, 0.25), 0.375);
    }

    #[test]
    fn generated_wgsl_has_one_case_per_row_and_a_nan_default() {
        let src = UnaryOp::wgsl_function();
        for (code, name) in UnaryOp::NAMES.iter().enumerate() {
            assert!(
                src.contains(&format!("case {code}u: {{ // {name}\n")),
                "{src}"
            );
        }
        assert!(
            src.contains("let lo = p0;\n            let hi = p1;\n"),
            "{src}"
        );
        assert!(src.contains("default: { return nan_like(x); }"));
        assert!(!src.contains("return x; }"));
        let src = BinaryOp::wgsl_function();
        assert_eq!(src.matches("case ").count(), BinaryOp::NAMES.len());
        assert!(src.contains("default: { return nan_like(a); }"));
    }
}
