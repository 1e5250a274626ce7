//! Matmul against a naive f64 triple loop, for every transpose combination, batch
//! broadcast, odd sizes, the threaded paths and empty dimensions.

mod common;

use backend_cpu::Cpu;
use common::{data, host, st};
use tensor::MatmulDims;
use tensor::backend::ops::*;

/// `op(A)[i][p]` read straight from the storage layout the trait documents.
fn a_at(a: &[f32], d: &MatmulDims, b: usize, i: usize, p: usize) -> f64 {
    let base = b * d.a_batch_stride;
    let idx = if d.trans_a { p * d.m + i } else { i * d.k + p };
    a[base + idx] as f64
}

fn b_at(bm: &[f32], d: &MatmulDims, b: usize, p: usize, j: usize) -> f64 {
    let base = b * d.b_batch_stride;
    let idx = if d.trans_b { j * d.k + p } else { p * d.n + j };
    bm[base + idx] as f64
}

/// Reference product and, per element, the sum of |terms| (the scale of rounding error).
fn naive(a: &[f32], bm: &[f32], d: &MatmulDims) -> (Vec<f64>, Vec<f64>) {
    let mut c = vec![0.0; d.batch * d.m * d.n];
    let mut scale = vec![0.0; d.batch * d.m * d.n];
    for b in 0..d.batch {
        for i in 0..d.m {
            for j in 0..d.n {
                let (mut s, mut t) = (0.0, 0.0);
                for p in 0..d.k {
                    let v = a_at(a, d, b, i, p) * b_at(bm, d, b, p, j);
                    s += v;
                    t += v.abs();
                }
                c[(b * d.m + i) * d.n + j] = s;
                scale[(b * d.m + i) * d.n + j] = t;
            }
        }
    }
    (c, scale)
}

fn dims(
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    ta: bool,
    tb: bool,
    bcast_a: bool,
    bcast_b: bool,
) -> MatmulDims {
    MatmulDims {
        batch,
        m,
        k,
        n,
        trans_a: ta,
        trans_b: tb,
        a_batch_stride: if bcast_a { 0 } else { m * k },
        b_batch_stride: if bcast_b { 0 } else { k * n },
    }
}

fn check(d: MatmulDims, seed: u64) {
    let a_len = if d.a_batch_stride == 0 {
        d.m * d.k
    } else {
        d.batch * d.m * d.k
    };
    let b_len = if d.b_batch_stride == 0 {
        d.k * d.n
    } else {
        d.batch * d.k * d.n
    };
    let a = data(a_len, seed);
    let b = data(b_len, seed + 1);
    let got = host(&Cpu.matmul(&st(&a), &st(&b), d).unwrap());
    let (want, scale) = naive(&a, &b, &d);
    assert_eq!(got.len(), want.len());
    for (idx, ((&g, &w), &s)) in got.iter().zip(&want).zip(&scale).enumerate() {
        let err = (g as f64 - w).abs();
        // Rounding error of an f32 sum grows like sqrt(k) ulps of the sum of |terms|.
        let tol = 4.0 * f32::EPSILON as f64 * (d.k as f64).sqrt() * s + 1e-7;
        assert!(err <= tol, "{d:?} element {idx}: got {g}, want {w}");
    }
}

#[test]
fn all_transpose_combinations_on_odd_sizes() {
    let mut seed = 1;
    for &(batch, m, k, n) in &[
        (1, 3, 5, 7),
        (1, 1, 1, 1),
        (2, 37, 65, 29),
        (3, 1, 9, 4),
        (2, 6, 1, 5),
        // Few rows, more columns, deep enough: the column-major path for thin products
        // (at its row limit of 64, and one past it).
        (1, 8, 40, 24),
        (2, 64, 16, 65),
        (1, 65, 17, 90),
        (1, 32, 256, 128),
    ] {
        for ta in [false, true] {
            for tb in [false, true] {
                check(dims(batch, m, k, n, ta, tb, false, false), seed);
                seed += 2;
            }
        }
    }
}

#[test]
fn batch_broadcast_of_either_operand() {
    for ta in [false, true] {
        for tb in [false, true] {
            check(dims(4, 5, 7, 3, ta, tb, true, false), 10);
            check(dims(4, 5, 7, 3, ta, tb, false, true), 11);
            check(dims(3, 4, 6, 2, ta, tb, true, true), 12);
        }
    }
}

#[test]
fn large_product_takes_the_threaded_path() {
    // 300 * 500 * 200 = 3e7 multiply-adds, far above the threading threshold.
    check(dims(1, 300, 500, 200, false, false, false, false), 20);
    check(dims(1, 300, 500, 200, true, true, false, false), 21);
}

#[test]
fn threaded_products_split_by_rows_and_by_columns() {
    // Above the threading threshold with odd sizes: thin and wide (split by columns)
    // and tall and narrow (split by rows), every transpose, blocks of uneven length.
    let mut seed = 40;
    for &(m, k, n) in &[
        (33, 517, 301),
        (301, 517, 33),
        (17, 1031, 250),
        (250, 37, 700),
    ] {
        for ta in [false, true] {
            for tb in [false, true] {
                check(dims(1, m, k, n, ta, tb, false, false), seed);
                seed += 1;
            }
        }
    }
}

#[test]
fn many_small_products_run_batch_parallel() {
    // Each product is below the threshold; the batch as a whole is above it.
    check(dims(128, 20, 30, 40, false, true, false, false), 30);
    check(dims(128, 20, 30, 40, true, false, false, true), 31);
}

#[test]
fn hand_computed_2x3_times_3x2() {
    // [[1,2,3],[4,5,6]] @ [[7,8],[9,10],[11,12]] = [[58,64],[139,154]]
    let a = st(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let b = st(&[7.0, 8.0, 9.0, 10.0, 11.0, 12.0]);
    let c = Cpu
        .matmul(&a, &b, dims(1, 2, 3, 2, false, false, false, false))
        .unwrap();
    assert_eq!(host(&c), vec![58.0, 64.0, 139.0, 154.0]);
    // The same A read as A^T of a 3x2 storage: [[1,4],[2,5],[3,6]]^T @ B^T where
    // B^T of [[7,8,9],[10,11,12]] stored 2x3 is [[7,10],[8,11],[9,12]]:
    // [[1,2,3],[4,5,6]] @ [[7,10],[8,11],[9,12]] = [[50,68],[122,167]].
    let at = st(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    let c = Cpu
        .matmul(&at, &b, dims(1, 2, 3, 2, true, true, false, false))
        .unwrap();
    assert_eq!(host(&c), vec![50.0, 68.0, 122.0, 167.0]);
}

#[test]
fn empty_dimensions() {
    let a = st(&[1.0; 12]);
    let b = st(&[1.0; 12]);
    // k = 0: an empty sum is zero.
    let c = Cpu
        .matmul(
            &st(&[]),
            &st(&[]),
            dims(2, 3, 0, 4, false, false, false, false),
        )
        .unwrap();
    assert_eq!(host(&c), vec![0.0; 24]);
    assert!(
        host(
            &Cpu.matmul(&a, &b, dims(1, 0, 3, 4, false, false, false, false))
                .unwrap()
        )
        .is_empty()
    );
    assert!(
        host(
            &Cpu.matmul(&a, &b, dims(1, 3, 4, 0, false, false, false, false))
                .unwrap()
        )
        .is_empty()
    );
    assert!(
        host(
            &Cpu.matmul(&a, &b, dims(0, 3, 4, 3, false, false, false, false))
                .unwrap()
        )
        .is_empty()
    );
}

#[test]
fn short_storage_is_an_error_not_a_panic() {
    let a = st(&[1.0; 5]);
    let b = st(&[1.0; 6]);
    assert!(
        Cpu.matmul(&a, &b, dims(1, 2, 3, 2, false, false, false, false))
            .is_err()
    );
}

#[test]
fn thin_blocks_of_threaded_splits() {
    // Explicit pools, so the splits happen whatever the machine: row blocks that are
    // thin products themselves (64 + 36 rows), column blocks of 64/64/22 columns, and a
    // batched product with a broadcast operand whose products are split.
    for threads in [2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut seed = 60;
            for ta in [false, true] {
                for tb in [false, true] {
                    check(dims(1, 100, 400, 700, ta, tb, false, false), seed);
                    check(dims(1, 40, 400, 150, ta, tb, false, false), seed + 1);
                    check(dims(2, 32, 1024, 100, ta, tb, false, true), seed + 2);
                    seed += 3;
                }
            }
        });
    }
}

#[test]
fn single_and_odd_thread_pools() {
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            check(dims(1, 130, 170, 150, true, false, false, false), 40);
            check(dims(99, 20, 30, 40, false, false, true, false), 41);
        });
    }
}
