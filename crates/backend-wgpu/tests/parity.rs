//! Parity suite: every Backend op on the GPU against the CPU reference
//! (`backend_cpu::Cpu`), on random data and awkward shapes (sizes that are not
//! multiples of any tile or workgroup, size-1 dims, broadcasting).

mod common;

use backend_cpu::Cpu;
use common::*;
use tensor::backend::ops::*;
use tensor::{
    AdamStep, BinaryOp, BroadcastLayout, Conv2dGeom, Distribution, MatmulDims, Pool2dGeom,
    ReduceOp, RmsPropStep, Shape, StridedLayout, UnaryOp,
};

/// Runs `$body` (which must evaluate to a `Vec<f32>`) once with `$b` bound to the
/// CPU backend and once to the GPU, and compares with `$cmp` (skips without a GPU).
macro_rules! parity {
    ($what:expr, $cmp:ident, |$b:ident| $body:expr) => {{
        if let Some(gpu) = gpu() {
            let want: Vec<f32> = {
                let $b = &Cpu;
                $body
            };
            let got: Vec<f32> = {
                let $b = gpu;
                $body
            };
            $cmp(&format!("{}", $what), &got, &want);
        }
    }};
}

// ------------------------------------------------------------------ basics

#[test]
fn from_vec_to_vec_round_trips() {
    for n in [0usize, 1, 3, 255, 256, 257, 1000, 70_001] {
        parity!(format!("round trip {n}"), assert_exact, |b| {
            let x = data(n, 1, -3.0, 3.0);
            down(b, &up(b, &x), n)
        });
    }
}

#[test]
fn fill_matches() {
    for (n, v) in [(0usize, 1.0f32), (1, -2.5), (257, 0.0), (5000, 3.25)] {
        parity!(format!("fill {n}"), assert_exact, |b| {
            let x = b.fill(n, v).unwrap();
            down(b, &x, n)
        });
    }
}

#[test]
fn random_uniform_and_bernoulli_are_bit_exact() {
    let cases = [
        Distribution::Uniform {
            low: 0.0,
            high: 1.0,
        },
        Distribution::Uniform {
            low: -0.3,
            high: 2.7,
        },
        Distribution::Bernoulli { p: 0.3 },
        Distribution::Bernoulli { p: 0.999 },
    ];
    for dist in cases {
        for seed in [0u64, 42, u64::MAX - 5] {
            let n = 3001;
            parity!(format!("{dist:?} seed {seed}"), assert_exact, |b| {
                let x = b.random(n, dist, seed).unwrap();
                down(b, &x, n)
            });
            // And both equal the definition in tensor::random.
            if let Some(gpu) = gpu() {
                let x = gpu.random(n, dist, seed).unwrap();
                let want: Vec<f32> = (0..n as u32)
                    .map(|i| tensor::random::sample(dist, seed, i))
                    .collect();
                assert_exact("random vs tensor::random", &down(gpu, &x, n), &want);
            }
        }
    }
}

#[test]
fn random_normal_matches_to_1e6() {
    let dist = Distribution::Normal {
        mean: 0.5,
        std: 2.0,
    };
    // log, sqrt and cos on the GPU differ from libm by a few ulp; values are O(1).
    parity!("normal", assert_abs_1e6, |b| {
        let x = b.random(4099, dist, 7).unwrap();
        down(b, &x, 4099)
    });
}

fn assert_abs_1e6(what: &str, got: &[f32], want: &[f32]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        // 1e-6 per unit of |value| (a Box-Muller tail value of 8 gets 8e-6).
        assert!(
            (g - w).abs() <= 1e-6 * w.abs().max(1.0),
            "{what}: element {i}: gpu {g} vs cpu {w}"
        );
    }
}

// ------------------------------------------------------------------ elementwise

#[test]
fn unary_ops_match() {
    use UnaryOp::*;
    let ops = [
        Neg,
        Abs,
        Exp,
        Square,
        Relu,
        LeakyRelu(0.2),
        LeakyReluSlope(0.2),
        Sigmoid,
        Tanh,
        Powf(3.0),
        Powf(2.0),
        Powf(-2.0),
        AddScalar(0.75),
        MulScalar(-1.5),
        Clamp(-0.5, 0.25),
        GtScalar(0.0),
        InRange(-0.5, 0.5),
        Sign,
        Recip,
        Softplus,
    ];
    // Every row of the op table (tensor::backend::elementwise) has a case here or
    // below (Log, Sqrt on a positive domain).
    let mut covered: Vec<u32> = ops.iter().chain(&[Log, Sqrt]).map(|op| op.code()).collect();
    covered.sort();
    covered.dedup();
    assert_eq!(
        covered,
        (0..UnaryOp::NAMES.len() as u32).collect::<Vec<_>>()
    );
    let n = 1037;
    for op in ops {
        parity!(format!("{op:?}"), assert_close, |b| {
            // Wide range so that sigmoid / tanh / exp saturate somewhere.
            let mut x = data(n, 3, -12.0, 12.0);
            x.extend(quantized(64, 4)); // exact zeros and ties for Sign, GtScalar, InRange
            x.extend([0.0, -0.0, 1e-4, -1e-4, 30.0, -30.0]);
            let len = x.len();
            down(b, &b.unary(op, &up(b, &x), len).unwrap(), len)
        });
    }
    // Ops that need a positive domain.
    for op in [Log, Sqrt, Powf(0.5), Powf(1.7), Powf(-0.3), Recip] {
        parity!(format!("{op:?} on (0, 10)"), assert_close, |b| {
            let x = data(n, 5, 1e-3, 10.0);
            down(b, &b.unary(op, &up(b, &x), n).unwrap(), n)
        });
    }
    // Small arguments: tanh and sigmoid near 0 keep their relative precision.
    for op in [Tanh, Sigmoid, Exp] {
        parity!(format!("{op:?} near 0"), assert_close, |b| {
            let x = data(n, 6, -1e-3, 1e-3);
            down(b, &b.unary(op, &up(b, &x), n).unwrap(), n)
        });
    }
}

#[test]
fn powf_follows_ieee_for_negative_bases_and_zero() {
    // Integral exponents of negative numbers, 0^p, x^0: as Rust's powf.
    let x = vec![-2.0f32, -0.5, 0.0, -0.0, 3.0, -3.0];
    for p in [3.0f32, 2.0, -1.0, 0.0, 4.0, 0.5] {
        parity!(format!("powf {p}"), assert_close, |b| {
            down(
                b,
                &b.unary(UnaryOp::Powf(p), &up(b, &x), x.len()).unwrap(),
                x.len(),
            )
        });
    }
}

/// The layout the `tensor` crate would pass for `a` op `b`.
fn broadcast(a: &[usize], b: &[usize]) -> BroadcastLayout {
    let (sa, sb) = (Shape::new(a), Shape::new(b));
    let out = Shape::broadcast(&sa, &sb, "test").unwrap();
    BroadcastLayout {
        a_strides: sa.broadcast_strides(&out),
        b_strides: sb.broadcast_strides(&out),
        out_dims: out.0,
    }
}

#[test]
fn binary_ops_match_with_broadcasting() {
    use BinaryOp::*;
    let shapes: &[(&[usize], &[usize])] = &[
        (&[7], &[7]),
        (&[], &[]),
        (&[], &[5]),
        (&[3, 1, 5], &[1, 4, 5]),
        (&[2, 3, 4], &[4]),
        (&[2, 3, 4], &[3, 1]),
        (&[1], &[17, 1]),
        (&[65, 33], &[65, 1]),
        (&[2, 1, 3, 1, 2, 1, 2], &[1, 2, 1, 2, 1, 2, 1]),
        // Ten dims that cannot merge: more than one launch decodes (8 at most).
        (
            &[2, 1, 2, 1, 2, 1, 2, 1, 3, 1],
            &[1, 3, 1, 2, 1, 2, 1, 2, 1, 2],
        ),
        (&[300, 257], &[300, 257]),
    ];
    let ops = [
        Add,
        Sub,
        Mul,
        Div,
        Maximum,
        Minimum,
        Eq,
        Gt,
        Ge,
        ReluGrad,
        TanhGrad,
        SigmoidGrad,
    ];
    // Every row of the op table has a case here (Pow below).
    let mut covered: Vec<u32> = ops.iter().chain(&[Pow]).map(|op| op.code()).collect();
    covered.sort();
    assert_eq!(
        covered,
        (0..BinaryOp::NAMES.len() as u32).collect::<Vec<_>>()
    );
    for &(sa, sb) in shapes {
        let layout = broadcast(sa, sb);
        let len: usize = layout.out_dims.iter().product();
        let (na, nb) = (sa.iter().product::<usize>(), sb.iter().product::<usize>());
        for op in ops {
            parity!(format!("{op:?} {sa:?} {sb:?}"), assert_close, |b| {
                let (x, y) = if matches!(op, Eq | Gt | Ge | Maximum | Minimum | ReluGrad) {
                    (quantized(na, 8), quantized(nb, 9))
                } else {
                    let mut y = data(nb, 9, 0.5, 2.0);
                    if op != Div {
                        y = data(nb, 9, -2.0, 2.0);
                    }
                    (data(na, 8, -2.0, 2.0), y)
                };
                let out = b.binary(op, &up(b, &x), &up(b, &y), &layout).unwrap();
                down(b, &out, len)
            });
        }
        parity!(format!("Pow {sa:?} {sb:?}"), assert_close, |b| {
            let x = data(na, 10, 0.1, 3.0);
            let y = data(nb, 11, -2.0, 2.0);
            let out = b
                .binary(BinaryOp::Pow, &up(b, &x), &up(b, &y), &layout)
                .unwrap();
            down(b, &out, len)
        });
    }
}

// ------------------------------------------------------------------ layout

#[test]
fn strided_copy_matches() {
    let x = data(3 * 4 * 5, 12, -1.0, 1.0);
    let cases = [
        // Permute [3, 4, 5] -> [5, 3, 4].
        StridedLayout {
            out_dims: vec![5, 3, 4],
            strides: vec![1, 20, 5],
            offset: 0,
        },
        // Slice [1..3, :, 2..4].
        StridedLayout {
            out_dims: vec![2, 4, 2],
            strides: vec![20, 5, 1],
            offset: 20 + 2,
        },
        // Broadcast a row to [6, 5] (stride 0) from offset 5.
        StridedLayout {
            out_dims: vec![6, 5],
            strides: vec![0, 1],
            offset: 5,
        },
        // Transpose of [12, 5].
        StridedLayout {
            out_dims: vec![5, 12],
            strides: vec![1, 5],
            offset: 0,
        },
        // Scalar.
        StridedLayout {
            out_dims: vec![],
            strides: vec![],
            offset: 7,
        },
        StridedLayout {
            out_dims: vec![1, 3, 1, 4, 1, 5, 1],
            strides: vec![0, 20, 0, 5, 0, 1, 0],
            offset: 0,
        },
        // Ten dims alternating read and broadcast: none merge.
        StridedLayout {
            out_dims: vec![2, 3, 2, 2, 2, 2, 2, 2, 2, 3],
            strides: vec![1, 0, 2, 0, 4, 0, 8, 0, 16, 0],
            offset: 3,
        },
    ];
    for layout in cases {
        let len: usize = layout.out_dims.iter().product();
        parity!(format!("{layout:?}"), assert_exact, |b| {
            down(b, &b.strided_copy(&up(b, &x), &layout).unwrap(), len)
        });
    }
}

#[test]
fn pad_matches() {
    let cases: &[(&[usize], &[usize], &[usize])] = &[
        (&[2, 3], &[5, 7], &[1, 2]),
        (&[2, 3, 4], &[5, 3, 4], &[3, 0, 0]),
        (&[1, 1], &[3, 3], &[2, 0]),
        (&[4], &[4], &[0]),
        (&[2, 1, 3], &[2, 4, 3], &[0, 3, 0]),
        (&[], &[], &[]),
    ];
    for &(xd, od, off) in cases {
        let n: usize = xd.iter().product();
        let len: usize = od.iter().product();
        parity!(
            format!("pad {xd:?} in {od:?} at {off:?}"),
            assert_exact,
            |b| {
                let x = data(n, 13, -1.0, 1.0);
                down(b, &b.pad(&up(b, &x), xd, od, off).unwrap(), len)
            }
        );
    }
}

#[test]
fn concat_matches() {
    let cases: &[(&[&[usize]], usize)] = &[
        (&[&[2, 3], &[4, 3]], 0),
        (&[&[2, 3], &[2, 1], &[2, 5]], 1),
        (&[&[2, 3, 4], &[2, 2, 4], &[2, 1, 4]], 1),
        (&[&[3], &[0], &[2]], 0),
        (&[&[1, 2, 1], &[1, 2, 3]], 2),
    ];
    for &(parts, axis) in cases {
        let mut out_dims = parts[0].to_vec();
        out_dims[axis] = parts.iter().map(|p| p[axis]).sum();
        let dims: Vec<Vec<usize>> = parts.iter().map(|p| p.to_vec()).collect();
        let len: usize = out_dims.iter().product();
        parity!(format!("concat {parts:?} axis {axis}"), assert_exact, |b| {
            let storages: Vec<_> = parts
                .iter()
                .enumerate()
                .map(|(i, p)| up(b, &data(p.iter().product(), 14 + i as u64, -1.0, 1.0)))
                .collect();
            let refs: Vec<_> = storages.iter().collect();
            down(b, &b.concat(&refs, &dims, axis, &out_dims).unwrap(), len)
        });
    }
}

#[test]
fn index_select_and_index_add_match() {
    let cases: &[(usize, usize, usize, &[usize])] = &[
        (1, 10, 3, &[0, 9, 3, 3, 1]),
        (2, 5, 4, &[4, 4, 4]),
        (3, 7, 1, &[6, 0, 2, 5, 0, 1, 1, 3]),
        (1, 4, 2, &[]),
        (1, 300, 17, &[299, 0, 150, 150, 7]),
    ];
    for &(outer, axis_len, inner, idx) in cases {
        let n = outer * axis_len * inner;
        let m = outer * idx.len() * inner;
        parity!(
            format!("index_select {outer} {axis_len} {inner} {idx:?}"),
            assert_exact,
            |b| {
                let x = data(n, 15, -1.0, 1.0);
                let y = b
                    .index_select(&up(b, &x), outer, axis_len, inner, idx)
                    .unwrap();
                down(b, &y, m)
            }
        );
        parity!(
            format!("index_add {outer} {axis_len} {inner} {idx:?}"),
            assert_close,
            |b| {
                let dy = data(m, 16, -1.0, 1.0);
                let y = b
                    .index_add(&up(b, &dy), outer, axis_len, inner, idx)
                    .unwrap();
                down(b, &y, n)
            }
        );
    }
}

#[test]
fn index_out_of_range_is_an_error() {
    if let Some(gpu) = gpu() {
        let x = up(gpu, &[1.0, 2.0, 3.0]);
        let err = gpu.index_select(&x, 1, 3, 1, &[0, 3]).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
    }
}

// ------------------------------------------------------------------ reductions

#[test]
fn reductions_match() {
    let cases: &[(&[usize], &[usize])] = &[
        (&[3, 4, 5], &[0]),
        (&[3, 4, 5], &[1]),
        (&[3, 4, 5], &[2]),
        (&[3, 4, 5], &[0, 2]),
        (&[3, 4, 5], &[0, 1, 2]),
        (&[3, 1, 5], &[1]),
        (&[7], &[0]),
        (&[2, 1000], &[1]),
        (&[1000, 3], &[0]),
        (&[5, 300, 2], &[1]),
        (&[2, 3, 4, 5], &[1, 3]),
        (&[4, 4], &[]),
        (&[17, 3000], &[0, 1]),
    ];
    for &(dims, axes) in cases {
        let n: usize = dims.iter().product();
        let out: usize = dims
            .iter()
            .enumerate()
            .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
            .product();
        for op in [ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min] {
            parity!(
                format!("{op:?} {dims:?} over {axes:?}"),
                assert_close,
                |b| {
                    let x = data(n, 17, -1.0, 1.0);
                    down(b, &b.reduce(op, &up(b, &x), dims, axes).unwrap(), out)
                }
            );
        }
    }
}

#[test]
fn argmax_matches_first_on_ties() {
    let cases: &[(&[usize], usize)] = &[
        (&[4, 6], 1),
        (&[4, 6], 0),
        (&[2, 3, 5], 1),
        (&[1], 0),
        (&[3, 1, 2], 1),
        (&[1, 257], 1),
    ];
    for &(dims, axis) in cases {
        let n: usize = dims.iter().product();
        let out = n / dims[axis];
        parity!(format!("argmax {dims:?} axis {axis}"), assert_exact, |b| {
            let x = quantized(n, 18);
            down(b, &b.argmax(&up(b, &x), dims, axis).unwrap(), out)
        });
    }
}

#[test]
fn softmax_matches() {
    for (rows, cols) in [
        (1, 1),
        (3, 5),
        (7, 63),
        (5, 64),
        (4, 300),
        (1, 1000),
        (300, 10),
    ] {
        for log in [false, true] {
            parity!(
                format!("softmax {rows}x{cols} log {log}"),
                assert_close,
                |b| {
                    let x = data(rows * cols, 19, -20.0, 20.0);
                    down(
                        b,
                        &b.softmax(&up(b, &x), rows, cols, log).unwrap(),
                        rows * cols,
                    )
                }
            );
        }
    }
}

// ------------------------------------------------------------------ matmul

fn matmul_dims(batch: usize, m: usize, k: usize, n: usize, ta: bool, tb: bool) -> MatmulDims {
    MatmulDims {
        batch,
        m,
        k,
        n,
        trans_a: ta,
        trans_b: tb,
        a_batch_stride: m * k,
        b_batch_stride: k * n,
    }
}

fn matmul_case(d: MatmulDims) {
    let na = if d.a_batch_stride == 0 { 1 } else { d.batch } * d.m * d.k;
    let nb = if d.b_batch_stride == 0 { 1 } else { d.batch } * d.k * d.n;
    let len = d.batch * d.m * d.n;
    parity!(format!("matmul {d:?}"), assert_close, |b| {
        let x = data(na, 20, -1.0, 1.0);
        let y = data(nb, 21, -1.0, 1.0);
        down(b, &b.matmul(&up(b, &x), &up(b, &y), d).unwrap(), len)
    });
}

#[test]
fn matmul_matches_on_awkward_shapes_and_all_transposes() {
    let shapes = [
        (1, 1, 1),
        (3, 5, 7),
        (1, 17, 1),
        (64, 64, 64),
        (65, 33, 17),
        (16, 1, 16),
        (130, 70, 129),
        // Few output tiles and a long k: split-K.
        (5, 3000, 7),
        (70, 1100, 3),
        // Dimensions multiple of 4: the vec4 paths (and partial tiles with them).
        (8, 12, 16),
        (68, 36, 20),
        (4, 1028, 8),
    ];
    for (m, k, n) in shapes {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            matmul_case(matmul_dims(1, m, k, n, ta, tb));
        }
    }
}

#[test]
fn matmul_batched_and_broadcast() {
    for (ta, tb) in [(false, false), (true, true), (false, true)] {
        matmul_case(matmul_dims(3, 5, 7, 9, ta, tb));
        // One A for every batch, and one B for every batch.
        let mut d = matmul_dims(3, 33, 18, 65, ta, tb);
        d.a_batch_stride = 0;
        matmul_case(d);
        let mut d = matmul_dims(4, 70, 5, 3, ta, tb);
        d.b_batch_stride = 0;
        matmul_case(d);
    }
}

#[test]
fn matmul_k_zero_gives_zeros() {
    matmul_case(matmul_dims(2, 3, 0, 4, false, false));
}

// ------------------------------------------------------------------ conv2d

/// A conv geometry with TF padding (`same` or VALID).
fn conv_geom(
    n: usize,
    (h, w, c): (usize, usize, usize),
    (kh, kw, o): (usize, usize, usize),
    (sh, sw): (usize, usize),
    same_pad: bool,
) -> Conv2dGeom {
    let ((out_h, pad_top), (out_w, pad_left)) = if same_pad {
        (same(h, kh, sh), same(w, kw, sw))
    } else {
        ((valid(h, kh, sh), 0), (valid(w, kw, sw), 0))
    };
    Conv2dGeom {
        n,
        h,
        w,
        c,
        kh,
        kw,
        o,
        stride_h: sh,
        stride_w: sw,
        pad_top,
        pad_left,
        out_h,
        out_w,
    }
}

fn conv_cases() -> Vec<Conv2dGeom> {
    vec![
        conv_geom(2, (5, 7, 3), (3, 3, 4), (1, 1), true),
        conv_geom(2, (7, 9, 3), (3, 3, 4), (2, 2), true),
        conv_geom(1, (8, 8, 2), (2, 2, 3), (2, 2), true),
        conv_geom(3, (6, 5, 1), (5, 5, 2), (1, 1), false),
        conv_geom(1, (9, 6, 5), (2, 3, 6), (2, 1), false),
        conv_geom(2, (5, 5, 4), (1, 1, 7), (1, 1), true),
        conv_geom(1, (4, 4, 1), (4, 4, 1), (1, 1), false),
        conv_geom(1, (11, 13, 3), (3, 5, 70), (3, 2), true),
        conv_geom(2, (12, 10, 17), (3, 3, 8), (1, 1), true),
        // Channels multiple of 4: the vec4 paths.
        conv_geom(2, (9, 7, 4), (3, 3, 8), (1, 1), true),
        conv_geom(2, (9, 11, 8), (3, 3, 12), (2, 2), true),
        conv_geom(1, (6, 6, 4), (2, 2, 4), (2, 2), false),
        // Long sums over few output tiles: the filter gradient splits k.
        conv_geom(2, (32, 32, 3), (3, 3, 8), (1, 1), true),
        conv_geom(2, (24, 24, 8), (3, 3, 16), (1, 1), true),
        conv_geom(3, (30, 25, 2), (5, 5, 3), (2, 2), false),
    ]
}

#[test]
fn conv2d_forward_matches() {
    for g in conv_cases() {
        let nx = g.n * g.h * g.w * g.c;
        let nw = g.kh * g.kw * g.c * g.o;
        let ny = g.n * g.out_h * g.out_w * g.o;
        parity!(format!("conv2d {g:?}"), assert_close, |b| {
            let x = data(nx, 22, -1.0, 1.0);
            let w = data(nw, 23, -1.0, 1.0);
            down(b, &b.conv2d(&up(b, &x), &up(b, &w), &g).unwrap(), ny)
        });
    }
}

#[test]
fn conv2d_bias_act_matches() {
    // The CPU applies the bias and activation per block in its conv kernels; wgpu
    // runs the trait's default (conv, add, activation).
    let acts = [
        None,
        Some(UnaryOp::Relu),
        Some(UnaryOp::LeakyRelu(0.2)),
        Some(UnaryOp::Tanh),
        Some(UnaryOp::Sigmoid),
    ];
    for g in conv_cases() {
        let nx = g.n * g.h * g.w * g.c;
        let nw = g.kh * g.kw * g.c * g.o;
        let ny = g.n * g.out_h * g.out_w * g.o;
        for act in acts {
            parity!(
                format!("conv2d_bias_act {act:?} {g:?}"),
                assert_close,
                |b| {
                    let x = data(nx, 22, -1.0, 1.0);
                    let w = data(nw, 23, -1.0, 1.0);
                    let bias = data(g.o, 24, -1.0, 1.0);
                    let y = b
                        .conv2d_bias_act(&up(b, &x), &up(b, &w), &up(b, &bias), act, &g)
                        .unwrap();
                    down(b, &y, ny)
                }
            );
        }
    }
}

#[test]
fn matmul_bias_act_matches() {
    // The CPU applies the bias and activation to the product's rows right after it;
    // wgpu runs the trait's default (matmul, add, activation).
    let acts = [
        None,
        Some(UnaryOp::Relu),
        Some(UnaryOp::LeakyRelu(0.2)),
        Some(UnaryOp::Tanh),
        Some(UnaryOp::Sigmoid),
    ];
    for (m, k, n) in [(1, 1, 1), (3, 5, 7), (32, 100, 129), (65, 33, 17)] {
        for act in acts {
            parity!(
                format!("matmul_bias_act {act:?} {m}x{k}x{n}"),
                assert_close,
                |b| {
                    let x = data(m * k, 26, -1.0, 1.0);
                    let w = data(k * n, 27, -1.0, 1.0);
                    let bias = data(n, 28, -1.0, 1.0);
                    let y = b
                        .matmul_bias_act(&up(b, &x), &up(b, &w), &up(b, &bias), act, m, k, n)
                        .unwrap();
                    down(b, &y, m * n)
                }
            );
        }
    }
}

#[test]
fn conv2d_backward_input_matches() {
    for g in conv_cases() {
        let nx = g.n * g.h * g.w * g.c;
        let nw = g.kh * g.kw * g.c * g.o;
        let ny = g.n * g.out_h * g.out_w * g.o;
        parity!(format!("conv2d_backward_input {g:?}"), assert_close, |b| {
            let dy = data(ny, 24, -1.0, 1.0);
            let w = data(nw, 25, -1.0, 1.0);
            let dx = b
                .conv2d_backward_input(&up(b, &dy), &up(b, &w), &g)
                .unwrap();
            down(b, &dx, nx)
        });
    }
}

#[test]
fn conv2d_backward_filter_matches() {
    for g in conv_cases() {
        let nx = g.n * g.h * g.w * g.c;
        let nw = g.kh * g.kw * g.c * g.o;
        let ny = g.n * g.out_h * g.out_w * g.o;
        parity!(format!("conv2d_backward_filter {g:?}"), assert_close, |b| {
            let x = data(nx, 26, -1.0, 1.0);
            let dy = data(ny, 27, -1.0, 1.0);
            let dw = b
                .conv2d_backward_filter(&up(b, &x), &up(b, &dy), &g)
                .unwrap();
            down(b, &dw, nw)
        });
    }
}

// ------------------------------------------------------------------ pooling

fn pool_geom(
    n: usize,
    (h, w, c): (usize, usize, usize),
    (kh, kw): (usize, usize),
    (sh, sw): (usize, usize),
    same_pad: bool,
) -> Pool2dGeom {
    let g = conv_geom(n, (h, w, c), (kh, kw, 1), (sh, sw), same_pad);
    Pool2dGeom {
        n,
        h,
        w,
        c,
        kh,
        kw,
        stride_h: sh,
        stride_w: sw,
        pad_top: g.pad_top,
        pad_left: g.pad_left,
        out_h: g.out_h,
        out_w: g.out_w,
    }
}

fn pool_cases() -> Vec<Pool2dGeom> {
    vec![
        pool_geom(2, (5, 5, 3), (2, 2), (2, 2), false),
        pool_geom(2, (5, 5, 3), (2, 2), (2, 2), true),
        pool_geom(1, (7, 6, 2), (3, 3), (2, 2), true),
        pool_geom(2, (6, 7, 1), (3, 3), (1, 1), true),
        pool_geom(1, (4, 9, 4), (1, 3), (1, 2), false),
        pool_geom(3, (1, 1, 5), (1, 1), (1, 1), false),
        pool_geom(1, (8, 8, 2), (4, 4), (4, 4), true),
    ]
}

#[test]
fn max_pool_matches_with_ties() {
    for g in pool_cases() {
        let nx = g.n * g.h * g.w * g.c;
        let ny = g.n * g.out_h * g.out_w * g.c;
        for quant in [false, true] {
            let x = if quant {
                quantized(nx, 28)
            } else {
                data(nx, 28, -1.0, 1.0)
            };
            parity!(
                format!("max_pool2d {g:?} quantized {quant}"),
                assert_exact,
                |b| {
                    let (y, arg) = b.max_pool2d(&up(b, &x), &g).unwrap();
                    let mut v = down(b, &y, ny);
                    v.extend(down(b, &arg, ny));
                    v
                }
            );
            parity!(format!("max_pool2d_backward {g:?}"), assert_close, |b| {
                let (_, arg) = b.max_pool2d(&up(b, &x), &g).unwrap();
                let dy = data(ny, 29, -1.0, 1.0);
                down(
                    b,
                    &b.max_pool2d_backward(&up(b, &dy), &arg, &g).unwrap(),
                    nx,
                )
            });
        }
    }
}

#[test]
fn avg_pool_matches() {
    for g in pool_cases() {
        let nx = g.n * g.h * g.w * g.c;
        let ny = g.n * g.out_h * g.out_w * g.c;
        parity!(format!("avg_pool2d {g:?}"), assert_close, |b| {
            let x = data(nx, 30, -1.0, 1.0);
            down(b, &b.avg_pool2d(&up(b, &x), &g).unwrap(), ny)
        });
        parity!(format!("avg_pool2d_backward {g:?}"), assert_close, |b| {
            let dy = data(ny, 31, -1.0, 1.0);
            down(b, &b.avg_pool2d_backward(&up(b, &dy), &g).unwrap(), nx)
        });
    }
}

#[test]
fn upsample_matches() {
    for (dims, sh, sw) in [
        ([2, 3, 4, 5], 2, 2),
        ([1, 5, 3, 2], 3, 1),
        ([1, 1, 1, 1], 1, 4),
    ] {
        let n: usize = dims.iter().product();
        let m = n * sh * sw;
        parity!(
            format!("upsample {dims:?} x ({sh}, {sw})"),
            assert_exact,
            |b| {
                let x = data(n, 32, -1.0, 1.0);
                down(
                    b,
                    &b.upsample_nearest2d(&up(b, &x), dims, sh, sw).unwrap(),
                    m,
                )
            }
        );
        parity!(
            format!("upsample_backward {dims:?} x ({sh}, {sw})"),
            assert_close,
            |b| {
                let dy = data(m, 33, -1.0, 1.0);
                let dx = b
                    .upsample_nearest2d_backward(&up(b, &dy), dims, sh, sw)
                    .unwrap();
                down(b, &dx, n)
            }
        );
    }
}

#[test]
fn resize_bilinear_matches() {
    for (dims, oh, ow) in [
        ([2, 5, 7, 3], 9, 4),
        ([1, 3, 3, 1], 7, 5),
        ([1, 7, 5, 2], 3, 2),
        ([1, 1, 1, 1], 1, 3),
        ([1, 4, 6, 4], 4, 6),
    ] {
        let n: usize = dims.iter().product();
        let m = dims[0] * oh * ow * dims[3];
        parity!(
            format!("resize_bilinear {dims:?} -> ({oh}, {ow})"),
            assert_close,
            |b| {
                let x = data(n, 34, -1.0, 1.0);
                down(b, &b.resize_bilinear(&up(b, &x), dims, oh, ow).unwrap(), m)
            }
        );
        parity!(
            format!("resize_bilinear_backward {dims:?} -> ({oh}, {ow})"),
            assert_close,
            |b| {
                let dy = data(m, 35, -1.0, 1.0);
                let dx = b
                    .resize_bilinear_backward(&up(b, &dy), dims, oh, ow)
                    .unwrap();
                down(b, &dx, n)
            }
        );
    }
}

/// Odd sizes, rows up (3 -> 5) and columns down (5 -> 3), on a picture linear in
/// both directions (x[r][c] = 10 r + 3 c), where bilinear resizing returns the linear
/// function at the clamped source coordinates. TensorFlow's definition
/// (`src = (dst + 0.5) * in / out - 0.5`, neighbours clamped at the edges): rows at
/// scale 3/5 sample -0.2, 0.4, 1.0, 1.6, 2.2, clamped to 0, 0.4, 1, 1.6, 2; columns
/// at scale 5/3 sample 1/3, 2, 11/3. So out[i][j] = 10 r_i + 3 c_j: row 0 is
/// 1, 6, 11; row 1 adds 4; row 2 adds 10; row 3 adds 16; row 4 adds 20.
#[rustfmt::skip]
const ODD_RESIZE_WANT: [f32; 15] = [
    1.0, 6.0, 11.0,
    5.0, 10.0, 15.0,
    11.0, 16.0, 21.0,
    17.0, 22.0, 27.0,
    21.0, 26.0, 31.0,
];

fn odd_resize_input() -> Vec<f32> {
    (0..15)
        .map(|k| (10 * (k / 5) + 3 * (k % 5)) as f32)
        .collect()
}

/// The GPU kernel against the worked-out values themselves, not only against the CPU.
#[test]
fn resize_bilinear_odd_sizes_follow_the_definition() {
    let Some(b) = gpu() else { return };
    let x = up(b, &odd_resize_input());
    let got = down(b, &b.resize_bilinear(&x, [1, 3, 5, 1], 5, 3).unwrap(), 15);
    for (g, w) in got.iter().zip(ODD_RESIZE_WANT) {
        assert!((g - w).abs() < 1e-5, "{got:?}");
    }
}

// ------------------------------------------------------------------ fused ops

#[test]
fn lstm_gates_match() {
    for (n, hidden, fb) in [(1, 1, 1.0), (3, 5, 1.0), (4, 33, 0.0), (2, 300, 1.0)] {
        parity!(format!("lstm_gates n {n} h {hidden}"), assert_close, |b| {
            let gates = data(n * 4 * hidden, 34, -4.0, 4.0);
            let c_prev = data(n * hidden, 35, -2.0, 2.0);
            let (c, h) = b
                .lstm_gates(&up(b, &gates), &up(b, &c_prev), n, hidden, fb)
                .unwrap();
            let mut v = down(b, &c, n * hidden);
            v.extend(down(b, &h, n * hidden));
            v
        });
        parity!(
            format!("lstm_gates_backward n {n} h {hidden}"),
            assert_close,
            |b| {
                let gates = data(n * 4 * hidden, 34, -4.0, 4.0);
                let c_prev = data(n * hidden, 35, -2.0, 2.0);
                let d_c = data(n * hidden, 36, -1.0, 1.0);
                let d_h = data(n * hidden, 37, -1.0, 1.0);
                let (dg, dc) = b
                    .lstm_gates_backward(
                        &up(b, &gates),
                        &up(b, &c_prev),
                        &up(b, &d_c),
                        &up(b, &d_h),
                        n,
                        hidden,
                        fb,
                    )
                    .unwrap();
                let mut v = down(b, &dg, 4 * n * hidden);
                v.extend(down(b, &dc, n * hidden));
                v
            }
        );
    }
}

#[test]
fn adam_step_matches() {
    let step = AdamStep {
        lr_t: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-7,
    };
    for n in [1usize, 300, 1025] {
        parity!(format!("adam {n}"), assert_close, |b| {
            let mut p = up(b, &data(n, 38, -1.0, 1.0));
            let g = up(b, &data(n, 39, -1.0, 1.0));
            let mut m = up(b, &data(n, 40, -0.1, 0.1));
            let mut v = up(b, &data(n, 41, 0.0, 0.01));
            // Two steps, so the second reads what the first wrote in place.
            for _ in 0..2 {
                b.adam_step(&mut p, &g, &mut m, &mut v, n, step).unwrap();
            }
            let mut out = down(b, &p, n);
            out.extend(down(b, &m, n));
            out.extend(down(b, &v, n));
            out
        });
    }
}

#[test]
fn rmsprop_step_matches() {
    for outside in [false, true] {
        let step = RmsPropStep {
            lr: 0.01,
            rho: 0.9,
            epsilon: 1e-7,
            epsilon_outside_sqrt: outside,
        };
        for n in [1usize, 300, 70_001] {
            parity!(format!("rmsprop {n} {outside}"), assert_close, |b| {
                let mut p = up(b, &data(n, 44, -1.0, 1.0));
                let g = up(b, &data(n, 45, -1.0, 1.0));
                let mut a = up(b, &data(n, 46, 0.0, 0.01));
                // Two steps, so the second reads what the first wrote in place.
                for _ in 0..2 {
                    b.rmsprop_step(&mut p, &g, &mut a, n, step).unwrap();
                }
                let mut out = down(b, &p, n);
                out.extend(down(b, &a, n));
                out
            });
        }
    }
    // A shared parameter is copied before the write (clone-on-write).
    let Some(gpu) = gpu() else { return };
    let original = up(gpu, &[1.0, 2.0]);
    let (mut p, mut a) = (original.clone(), up(gpu, &[0.0, 0.0]));
    let step = RmsPropStep {
        lr: 0.1,
        rho: 0.75,
        epsilon: 0.0,
        epsilon_outside_sqrt: false,
    };
    gpu.rmsprop_step(&mut p, &up(gpu, &[2.0, -4.0]), &mut a, 2, step)
        .unwrap();
    // By hand: a = 0.25 g^2 = 1, 4; p - 0.1 g / sqrt(a) = 1 - 0.2, 2 + 0.2.
    assert_eq!(down(gpu, &a, 2), [1.0, 4.0]);
    let got = down(gpu, &p, 2);
    assert!(
        (got[0] - 0.8).abs() < 1e-6 && (got[1] - 2.2).abs() < 1e-6,
        "{got:?}"
    );
    assert_eq!(down(gpu, &original, 2), [1.0, 2.0]);
}

#[test]
fn axpby_matches() {
    for n in [1usize, 7, 1025, 70_001] {
        parity!(format!("axpby {n}"), assert_close, |b| {
            let mut y = up(b, &data(n, 42, -1.0, 1.0));
            let x = up(b, &data(n, 43, -1.0, 1.0));
            // Twice, so the second reads what the first wrote in place.
            b.axpby(&mut y, 0.999, &x, 0.001, n).unwrap();
            b.axpby(&mut y, -0.5, &x, 2.0, n).unwrap();
            down(b, &y, n)
        });
    }
    let Some(gpu) = gpu() else { return };
    let original = up(gpu, &[1.0, 2.0, 3.0]);
    let mut y = original.clone();
    gpu.axpby(&mut y, 0.5, &up(gpu, &[4.0, 5.0, 6.0]), 2.0, 3)
        .unwrap();
    // By hand: 0.5 * 1 + 2 * 4, ...; the shared original is untouched.
    assert_eq!(down(gpu, &y, 3), [8.5, 11.0, 13.5]);
    assert_eq!(down(gpu, &original, 3), [1.0, 2.0, 3.0]);
}

#[test]
fn adam_step_copies_shared_storage_before_writing() {
    let Some(gpu) = gpu() else { return };
    let step = AdamStep {
        lr_t: 0.1,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-7,
    };
    let n = 10;
    let original = up(gpu, &vec![1.0; n]);
    let mut p = original.clone();
    let g = up(gpu, &vec![0.5; n]);
    let mut m = gpu.fill(n, 0.0).unwrap();
    let mut v = gpu.fill(n, 0.0).unwrap();
    let m_shared = m.clone();
    gpu.adam_step(&mut p, &g, &mut m, &mut v, n, step).unwrap();
    assert!(down(gpu, &original, n).iter().all(|&x| x == 1.0));
    assert!(down(gpu, &m_shared, n).iter().all(|&x| x == 0.0));
    assert!(down(gpu, &p, n).iter().all(|&x| x < 1.0));
    assert!(down(gpu, &m, n).iter().all(|&x| (x - 0.05).abs() < 1e-7));
}
