//! Reductions over axes, argmax and (log-)softmax.

mod common;

use backend_cpu::Cpu;
use common::{assert_close, assert_close32, data, host, st};
use tensor::ReduceOp;
use tensor::backend::ops::*;

fn reduce(op: ReduceOp, x: &[f32], dims: &[usize], axes: &[usize]) -> Vec<f32> {
    host(&Cpu.reduce(op, &st(x), dims, axes).unwrap())
}

#[test]
fn hand_computed_reductions_of_a_2x3x4_ramp() {
    // x[i][j][k] = 12 i + 4 j + k.
    let x: Vec<f32> = (0..24).map(|v| v as f32).collect();
    let dims = [2, 3, 4];
    // Over i and k: sum_{i,k} (12 i + 4 j + k) = 8 * 4j + 4 * 12 + 2 * 6 = 60 + 32 j.
    assert_eq!(
        reduce(ReduceOp::Sum, &x, &dims, &[0, 2]),
        vec![60., 92., 124.]
    );
    // Over j: rows (k) of each i: sum_j (12 i + 4 j + k) = 36 i + 12 + 3 k.
    assert_eq!(
        reduce(ReduceOp::Sum, &x, &dims, &[1]),
        vec![12., 15., 18., 21., 48., 51., 54., 57.]
    );
    assert_eq!(
        reduce(ReduceOp::Max, &x, &dims, &[2]),
        vec![3., 7., 11., 15., 19., 23.]
    );
    assert_eq!(
        reduce(ReduceOp::Min, &x, &dims, &[0, 1]),
        vec![0., 1., 2., 3.]
    );
    assert_eq!(reduce(ReduceOp::Sum, &x, &dims, &[0, 1, 2]), vec![276.]);
    assert_eq!(reduce(ReduceOp::Max, &x, &dims, &[]), x);
}

#[test]
fn every_subset_of_axes_matches_a_naive_reduction() {
    let dims = [3usize, 1, 4, 5];
    let x = data(dims.iter().product(), 7);
    for mask in 0..16u32 {
        let axes: Vec<usize> = (0..4).filter(|a| mask & (1 << a) != 0).collect();
        let out_dims: Vec<usize> = (0..4)
            .map(|a| if axes.contains(&a) { 1 } else { dims[a] })
            .collect();
        let out_len: usize = out_dims.iter().product();
        let mut sum = vec![0.0f64; out_len];
        let mut max = vec![f64::NEG_INFINITY; out_len];
        let mut min = vec![f64::INFINITY; out_len];
        for (flat, &v) in x.iter().enumerate() {
            let mut rest = flat;
            let mut idx = [0; 4];
            for a in (0..4).rev() {
                idx[a] = rest % dims[a];
                rest /= dims[a];
            }
            let mut o = 0;
            for a in 0..4 {
                o = o * out_dims[a] + if axes.contains(&a) { 0 } else { idx[a] };
            }
            sum[o] += v as f64;
            max[o] = max[o].max(v as f64);
            min[o] = min[o].min(v as f64);
        }
        assert_close(&reduce(ReduceOp::Sum, &x, &dims, &axes), &sum, 1e-5, 1e-6);
        assert_close(&reduce(ReduceOp::Max, &x, &dims, &axes), &max, 0.0, 0.0);
        assert_close(&reduce(ReduceOp::Min, &x, &dims, &axes), &min, 0.0, 0.0);
    }
}

#[test]
fn reduce_edge_cases() {
    // An empty reduced axis gives the identity; an empty kept axis gives nothing.
    assert_eq!(reduce(ReduceOp::Sum, &[], &[2, 0], &[1]), vec![0., 0.]);
    assert_eq!(
        reduce(ReduceOp::Max, &[], &[2, 0], &[1]),
        vec![f32::NEG_INFINITY; 2]
    );
    assert!(reduce(ReduceOp::Sum, &[], &[0, 3], &[1]).is_empty());
    // A scalar.
    assert_eq!(reduce(ReduceOp::Sum, &[4.], &[], &[]), vec![4.]);
    // Unsorted axes are rejected.
    assert!(
        Cpu.reduce(ReduceOp::Sum, &st(&[0.; 6]), &[2, 3], &[1, 0])
            .is_err()
    );
}

#[test]
fn argmax_first_on_ties() {
    // [[1, 5, 5], [7, 2, 7]]
    let x = [1., 5., 5., 7., 2., 7.];
    assert_eq!(
        host(&Cpu.argmax(&st(&x), &[2, 3], 1).unwrap()),
        vec![1., 0.]
    );
    assert_eq!(
        host(&Cpu.argmax(&st(&x), &[2, 3], 0).unwrap()),
        vec![1., 0., 1.]
    );
    // Middle axis of [2, 3, 2].
    let x = [0., 9., 4., 9., 4., 1., /**/ 3., 3., 3., 3., 8., 3.];
    assert_eq!(
        host(&Cpu.argmax(&st(&x), &[2, 3, 2], 1).unwrap()),
        vec![1., 0., 2., 0.]
    );
    assert!(Cpu.argmax(&st(&[]), &[2, 0], 1).is_err());
}

#[test]
fn softmax_hand_values_and_stability() {
    // softmax([1, 2, 3]) = [e^-2, e^-1, 1] / (1 + e^-1 + e^-2).
    let s = 1.0 + (-1.0f64).exp() + (-2.0f64).exp();
    let want = [(-2.0f64).exp() / s, (-1.0f64).exp() / s, 1.0 / s];
    let got = host(&Cpu.softmax(&st(&[1., 2., 3.]), 1, 3, false).unwrap());
    assert_close(&got, &want, 1e-7, 0.0);
    let got = host(&Cpu.softmax(&st(&[1., 2., 3.]), 1, 3, true).unwrap());
    assert_close(&got, &want.map(f64::ln), 1e-6, 0.0);
    // Large logits neither overflow nor lose the answer.
    let x = [1000., 1000., 1000., 0., -1000., 1000.];
    let got = host(&Cpu.softmax(&st(&x), 2, 3, false).unwrap());
    assert_close32(&got, &[1. / 3., 1. / 3., 1. / 3., 0., 0., 1.], 1e-7);
    let got = host(&Cpu.softmax(&st(&x), 2, 3, true).unwrap());
    let l3 = -(3.0f32).ln();
    assert_close32(&got, &[l3, l3, l3, -1000., -2000., 0.], 1e-5);
}

#[test]
fn softmax_rows_sum_to_one() {
    for (rows, cols) in [(1, 1), (7, 10), (300, 257)] {
        let x: Vec<f32> = data(rows * cols, 3).iter().map(|v| v * 30.0).collect();
        let p = host(&Cpu.softmax(&st(&x), rows, cols, false).unwrap());
        let lp = host(&Cpu.softmax(&st(&x), rows, cols, true).unwrap());
        for r in 0..rows {
            let row = &p[r * cols..(r + 1) * cols];
            let total: f64 = row.iter().map(|&v| v as f64).sum();
            assert!((total - 1.0).abs() < 1e-5, "row {r} sums to {total}");
            for (c, (&pv, &lv)) in row.iter().zip(&lp[r * cols..]).enumerate() {
                assert!(pv >= 0.0);
                assert!(
                    ((lv as f64).exp() - pv as f64).abs() < 1e-6,
                    "row {r} col {c}"
                );
            }
        }
    }
}
