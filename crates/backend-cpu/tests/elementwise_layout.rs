//! Unary and broadcasting binary ops, strided copies, pad and concat.

mod common;

use backend_cpu::Cpu;
use common::{assert_close32, data, host, st};
use tensor::backend::ops::*;
use tensor::{BinaryOp, BroadcastLayout, StridedLayout, UnaryOp};

fn unary(op: UnaryOp, x: &[f32]) -> Vec<f32> {
    host(&Cpu.unary(op, &st(x), x.len()).unwrap())
}

#[test]
fn unary_ops_on_hand_values() {
    let x = [-2.0, -0.5, 0.0, 1.5];
    assert_eq!(unary(UnaryOp::Neg, &x), vec![2.0, 0.5, 0.0, -1.5]);
    assert_eq!(unary(UnaryOp::Abs, &x), vec![2.0, 0.5, 0.0, 1.5]);
    assert_eq!(unary(UnaryOp::Square, &x), vec![4.0, 0.25, 0.0, 2.25]);
    assert_eq!(unary(UnaryOp::Relu, &x), vec![0.0, 0.0, 0.0, 1.5]);
    assert_eq!(
        unary(UnaryOp::LeakyRelu(0.2), &x),
        vec![-0.4, -0.1, 0.0, 1.5]
    );
    assert_eq!(
        unary(UnaryOp::AddScalar(1.0), &x),
        vec![-1.0, 0.5, 1.0, 2.5]
    );
    assert_eq!(
        unary(UnaryOp::MulScalar(-2.0), &x),
        vec![4.0, 1.0, -0.0, -3.0]
    );
    assert_eq!(
        unary(UnaryOp::Clamp(-1.0, 1.0), &x),
        vec![-1.0, -0.5, 0.0, 1.0]
    );
    assert_eq!(unary(UnaryOp::GtScalar(0.0), &x), vec![0.0, 0.0, 0.0, 1.0]);
    assert_eq!(
        unary(UnaryOp::InRange(-0.5, 0.0), &x),
        vec![0.0, 1.0, 1.0, 0.0]
    );
    assert_eq!(unary(UnaryOp::Sign, &x), vec![-1.0, -1.0, 0.0, 1.0]);
    assert_eq!(unary(UnaryOp::Recip, &[4.0, -0.5]), vec![0.25, -2.0]);
    assert_eq!(unary(UnaryOp::Sqrt, &[9.0, 0.25]), vec![3.0, 0.5]);
    assert_eq!(unary(UnaryOp::Powf(3.0), &[2.0, -1.0]), vec![8.0, -1.0]);
    // tanh 1 = 0.7615942, sigmoid 0 = 1/2,
    // sigmoid(-3) = 1 / (1 + e^3) = 0.047425874.
    assert_close32(
        &unary(UnaryOp::Exp, &[1.0, 0.0]),
        &[std::f32::consts::E, 1.0],
        1e-6,
    );
    assert_close32(
        &unary(UnaryOp::Log, &[10.0, 1.0]),
        &[std::f32::consts::LN_10, 0.0],
        1e-6,
    );
    assert_close32(
        &unary(UnaryOp::Tanh, &[1.0, -1.0]),
        &[0.761_594_2, -0.761_594_2],
        1e-6,
    );
    assert_close32(
        &unary(UnaryOp::Sigmoid, &[0.0, -3.0, 100.0, -100.0]),
        &[0.5, 0.047_425_874, 1.0, 0.0],
        1e-7,
    );
}

#[test]
fn unary_large_buffer_takes_the_threaded_path() {
    let x = data(200_003, 1);
    let y = unary(UnaryOp::AddScalar(0.5), &x);
    assert!(y.iter().zip(&x).all(|(&y, &x)| y == x + 0.5));
    let y = unary(UnaryOp::Sigmoid, &x);
    assert!(
        y.iter()
            .zip(&x)
            .all(|(&y, &x)| ((y as f64) - 1.0 / (1.0 + (-(x as f64)).exp())).abs() < 1e-6)
    );
}

fn contiguous(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![0; dims.len()];
    let mut acc = 1;
    for d in (0..dims.len()).rev() {
        s[d] = acc;
        acc *= dims[d];
    }
    s
}

/// The NumPy broadcast layout of `a_dims` and `b_dims` (right-aligned).
fn broadcast(a_dims: &[usize], b_dims: &[usize]) -> BroadcastLayout {
    let rank = a_dims.len().max(b_dims.len());
    let pad = |d: &[usize]| -> Vec<usize> {
        std::iter::repeat_n(1, rank - d.len())
            .chain(d.iter().copied())
            .collect()
    };
    let (a, b) = (pad(a_dims), pad(b_dims));
    let out: Vec<usize> = (0..rank).map(|i| a[i].max(b[i])).collect();
    let strides = |d: &[usize]| -> Vec<usize> {
        let c = contiguous(d);
        (0..rank)
            .map(|i| if d[i] == 1 && out[i] != 1 { 0 } else { c[i] })
            .collect()
    };
    BroadcastLayout {
        a_strides: strides(&a),
        b_strides: strides(&b),
        out_dims: out,
    }
}

/// Reads operand element at output index `flat` through the layout (the reference).
fn read(x: &[f32], dims: &[usize], strides: &[usize], mut flat: usize) -> f32 {
    let mut off = 0;
    for d in (0..dims.len()).rev() {
        off += (flat % dims[d]) * strides[d];
        flat /= dims[d];
    }
    x[off]
}

fn check_binary(
    op: BinaryOp,
    f: fn(f32, f32) -> f32,
    a: &[f32],
    b: &[f32],
    layout: &BroadcastLayout,
) {
    let got = host(&Cpu.binary(op, &st(a), &st(b), layout).unwrap());
    let total: usize = layout.out_dims.iter().product();
    assert_eq!(got.len(), total);
    for i in 0..total {
        let want = f(
            read(a, &layout.out_dims, &layout.a_strides, i),
            read(b, &layout.out_dims, &layout.b_strides, i),
        );
        assert!(
            got[i] == want || (got[i].is_nan() && want.is_nan()),
            "{op:?} {layout:?} at {i}: {} vs {want}",
            got[i]
        );
    }
}

#[test]
fn binary_ops_on_hand_values() {
    let a = [1.0, 2.0, 3.0, 4.0];
    let b = [2.0, 2.0, 1.0, 8.0];
    let l = broadcast(&[4], &[4]);
    let run = |op| host(&Cpu.binary(op, &st(&a), &st(&b), &l).unwrap());
    assert_eq!(run(BinaryOp::Add), vec![3.0, 4.0, 4.0, 12.0]);
    assert_eq!(run(BinaryOp::Sub), vec![-1.0, 0.0, 2.0, -4.0]);
    assert_eq!(run(BinaryOp::Mul), vec![2.0, 4.0, 3.0, 32.0]);
    assert_eq!(run(BinaryOp::Div), vec![0.5, 1.0, 3.0, 0.5]);
    assert_eq!(run(BinaryOp::Pow), vec![1.0, 4.0, 3.0, 65536.0]);
    assert_eq!(run(BinaryOp::Maximum), vec![2.0, 2.0, 3.0, 8.0]);
    assert_eq!(run(BinaryOp::Minimum), vec![1.0, 2.0, 1.0, 4.0]);
    assert_eq!(run(BinaryOp::Eq), vec![0.0, 1.0, 0.0, 0.0]);
    assert_eq!(run(BinaryOp::Gt), vec![0.0, 0.0, 1.0, 0.0]);
    assert_eq!(run(BinaryOp::Ge), vec![0.0, 1.0, 1.0, 0.0]);
}

#[test]
fn broadcasting_patterns_match_index_arithmetic() {
    type Op = (BinaryOp, fn(f32, f32) -> f32);
    let ops: [Op; 4] = [
        (BinaryOp::Add, |x, y| x + y),
        (BinaryOp::Sub, |x, y| x - y),
        (BinaryOp::Div, |x, y| x / y),
        (BinaryOp::Gt, |x, y| if x > y { 1.0 } else { 0.0 }),
    ];
    let shapes: [(&[usize], &[usize]); 8] = [
        (&[3, 4], &[3, 4]),    // same shape
        (&[3, 4], &[]),        // scalar right
        (&[], &[5]),           // scalar left
        (&[3, 4], &[4]),       // row broadcast
        (&[3, 4], &[3, 1]),    // column broadcast
        (&[2, 1, 5], &[3, 1]), // both broadcast
        (&[2, 3, 4, 5], &[3, 1, 5]),
        (&[1], &[1]),
    ];
    for (k, (sa, sb)) in shapes.iter().enumerate() {
        let l = broadcast(sa, sb);
        let a = data(sa.iter().product(), k as u64);
        let b = data(sb.iter().product(), 100 + k as u64);
        for (op, f) in ops {
            check_binary(op, f, &a, &b, &l);
        }
    }
}

#[test]
fn binary_with_a_transposed_operand_and_large_sizes() {
    // a is a transposed view of a contiguous [7, 5] (strides [1, 5]); b is contiguous [5, 7].
    let l = BroadcastLayout {
        out_dims: vec![5, 7],
        a_strides: vec![1, 5],
        b_strides: vec![7, 1],
    };
    check_binary(BinaryOp::Mul, |x, y| x * y, &data(35, 1), &data(35, 2), &l);
    // Large enough for the threaded paths: same shape, row broadcast, column broadcast.
    for (sa, sb) in [
        (&[300usize, 301][..], &[300usize, 301][..]),
        (&[300, 301], &[301]),
        (&[300, 301], &[300, 1]),
    ] {
        let l = broadcast(sa, sb);
        check_binary(
            BinaryOp::Sub,
            |x, y| x - y,
            &data(sa.iter().product(), 3),
            &data(sb.iter().product(), 4),
            &l,
        );
    }
    let l = BroadcastLayout {
        out_dims: vec![400, 300],
        a_strides: vec![1, 400],
        b_strides: vec![0, 1],
    };
    check_binary(
        BinaryOp::Maximum,
        f32::max,
        &data(120_000, 5),
        &data(300, 6),
        &l,
    );
}

#[test]
fn binary_short_operand_is_an_error() {
    let l = broadcast(&[3, 4], &[3, 4]);
    assert!(
        Cpu.binary(BinaryOp::Add, &st(&[0.0; 12]), &st(&[0.0; 11]), &l)
            .is_err()
    );
}

fn strided(x: &[f32], out_dims: &[usize], strides: &[usize], offset: usize) -> Vec<f32> {
    let l = StridedLayout {
        out_dims: out_dims.to_vec(),
        strides: strides.to_vec(),
        offset,
    };
    host(&Cpu.strided_copy(&st(x), &l).unwrap())
}

#[test]
fn strided_copy_transpose_slice_broadcast() {
    let x: Vec<f32> = (0..6).map(|v| v as f32).collect(); // [[0,1,2],[3,4,5]]
    assert_eq!(
        strided(&x, &[3, 2], &[1, 3], 0),
        vec![0., 3., 1., 4., 2., 5.]
    );
    // Slice x[:, 1:3].
    assert_eq!(strided(&x, &[2, 2], &[3, 1], 1), vec![1., 2., 4., 5.]);
    // Broadcast row 1 to three rows.
    assert_eq!(
        strided(&x, &[3, 3], &[0, 1], 3),
        vec![3., 4., 5., 3., 4., 5., 3., 4., 5.]
    );
    // Every other column, reversed roles: x[:, ::2].
    assert_eq!(strided(&x, &[2, 2], &[3, 2], 0), vec![0., 2., 3., 5.]);
    // A scalar view.
    assert_eq!(strided(&x, &[], &[], 4), vec![4.]);
    assert!(strided(&x, &[0, 3], &[3, 1], 0).is_empty());
}

#[test]
fn strided_copy_4d_permute_matches_index_arithmetic() {
    // NHWC [4, 30, 30, 20] -> NCHW permutation; large enough to thread.
    let dims = [4usize, 30, 30, 20];
    let x = data(dims.iter().product(), 9);
    let c = contiguous(&dims);
    let out_dims = [4, 20, 30, 30];
    let strides = [c[0], c[3], c[1], c[2]];
    let got = strided(&x, &out_dims, &strides, 0);
    for (i, &g) in got.iter().enumerate() {
        assert_eq!(g, read(&x, &out_dims, &strides, i));
    }
}

#[test]
fn strided_copy_out_of_range_view_is_an_error() {
    let l = StridedLayout {
        out_dims: vec![2, 3],
        strides: vec![3, 1],
        offset: 1,
    };
    assert!(Cpu.strided_copy(&st(&[0.0; 6]), &l).is_err());
}

#[test]
fn pad_places_a_block_in_zeros() {
    // [[1,2],[3,4]] into a 3x4 at (1, 1).
    let out = Cpu
        .pad(&st(&[1., 2., 3., 4.]), &[2, 2], &[3, 4], &[1, 1])
        .unwrap();
    assert_eq!(
        host(&out),
        vec![0., 0., 0., 0., 0., 1., 2., 0., 0., 3., 4., 0.]
    );
    // 3-D, offset on the last axis only.
    let out = Cpu
        .pad(&st(&[1., 2., 3., 4.]), &[2, 1, 2], &[2, 1, 3], &[0, 0, 1])
        .unwrap();
    assert_eq!(host(&out), vec![0., 1., 2., 0., 3., 4.]);
    // Scalars.
    assert_eq!(host(&Cpu.pad(&st(&[7.]), &[], &[], &[]).unwrap()), vec![7.]);
    // Does not fit.
    assert!(Cpu.pad(&st(&[1., 2.]), &[2], &[2], &[1]).is_err());
}

#[test]
fn concat_along_each_axis() {
    let a = st(&[1., 2., 3., 4.]); // [2, 2]
    let b = st(&[5., 6.]); // [2, 1] or [1, 2]
    let out = Cpu
        .concat(&[&a, &b], &[vec![2, 2], vec![2, 1]], 1, &[2, 3])
        .unwrap();
    assert_eq!(host(&out), vec![1., 2., 5., 3., 4., 6.]);
    let out = Cpu
        .concat(&[&a, &b], &[vec![2, 2], vec![1, 2]], 0, &[3, 2])
        .unwrap();
    assert_eq!(host(&out), vec![1., 2., 3., 4., 5., 6.]);
    let out = Cpu
        .concat(
            &[&b, &a, &b],
            &[vec![2, 1], vec![2, 2], vec![2, 1]],
            1,
            &[2, 4],
        )
        .unwrap();
    assert_eq!(host(&out), vec![5., 1., 2., 5., 6., 3., 4., 6.]);
    assert!(
        Cpu.concat(&[&a, &b], &[vec![2, 2], vec![2, 1]], 1, &[2, 4])
            .is_err()
    );
}

#[test]
fn fill_and_round_trip() {
    assert_eq!(host(&Cpu.fill(3, 2.5).unwrap()), vec![2.5; 3]);
    let s = Cpu.from_vec(vec![1., 2., 3.]).unwrap();
    assert_eq!(Cpu.to_vec(&s, 2).unwrap(), vec![1., 2.]);
    assert!(Cpu.to_vec(&s, 4).is_err());
    assert_eq!(Cpu.name(), "cpu");
}
