//! Batched matrix products on top of the `gemm` crate.
//!
//! `gemm` takes arbitrary row and column strides, so a transposed operand is just a
//! swapped pair of strides: no copy is ever made for `trans_a` / `trans_b`.

use crate::check_len;
use gemm::Parallelism;
use rayon::prelude::*;
use tensor::{MatmulDims, Result};

/// Products with fewer multiply-adds than this run on one thread. Measured with
/// `examples/matmul_speed.rs` on 2 cores (AVX2): a second thread first wins between
/// 96^3 (slower: 19 -> 23 us) and 128^3 (faster: 45 -> 37 us); on a loaded machine
/// it loses everywhere, so the bar sits at the high end of that range.
pub(crate) const GEMM_PAR_WORK: usize = 1 << 21;

/// A strided read-only matrix operand: element `(i, j)` is `data[i * rs + j * cs]`.
#[derive(Clone, Copy)]
pub(crate) struct MatRef<'a> {
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major matrix with `cols` columns, or its transpose when `transposed`.
    pub(crate) fn row_major(data: &'a [f32], cols: usize, transposed: bool) -> Self {
        if transposed {
            Self {
                data,
                rs: 1,
                cs: cols,
            }
        } else {
            Self {
                data,
                rs: cols,
                cs: 1,
            }
        }
    }

    /// One past the largest index a `rows x cols` view touches.
    fn extent(&self, rows: usize, cols: usize) -> usize {
        if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) * self.rs + (cols - 1) * self.cs + 1
        }
    }
}

/// How many threads `gemm` may use for a product of this size.
pub(crate) fn parallelism_for(m: usize, n: usize, k: usize) -> Parallelism {
    if m.saturating_mul(n).saturating_mul(k) >= GEMM_PAR_WORK && rayon::current_num_threads() > 1 {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    }
}

/// `dst (m x n, row-major) = lhs (m x k) @ rhs (k x n)`, or `dst += ...` when
/// `accumulate`.
///
/// Safe wrapper over `gemm::gemm`: every operand's extent is checked against its
/// slice first, so the raw-pointer call below never reads or writes out of bounds.
pub(crate) fn gemm_into(
    dst: &mut [f32],
    m: usize,
    n: usize,
    k: usize,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    accumulate: bool,
    parallelism: Parallelism,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(dst.len() >= m * n, "gemm_into: dst too short");
    if k == 0 {
        // An empty sum; `gemm` is not documented to handle k = 0.
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    assert!(
        lhs.data.len() >= lhs.extent(m, k),
        "gemm_into: lhs too short"
    );
    assert!(
        rhs.data.len() >= rhs.extent(k, n),
        "gemm_into: rhs too short"
    );
    // SAFETY: the asserts above bound every index gemm computes from these strides;
    // `dst` is an exclusive borrow, so it aliases neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr(),
            rhs.cs as isize,
            rhs.rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

pub(crate) fn matmul(a: &[f32], b: &[f32], d: MatmulDims) -> Result<Vec<f32>> {
    let MatmulDims { batch, m, k, n, .. } = d;
    let c_size = m * n;
    let mut c = vec![0.0; batch * c_size];
    if c.is_empty() || k == 0 {
        return Ok(c);
    }
    check_len("matmul", "a", a, (batch - 1) * d.a_batch_stride + m * k)?;
    check_len("matmul", "b", b, (batch - 1) * d.b_batch_stride + k * n)?;
    let lhs_at = |i: usize| {
        MatRef::row_major(
            &a[i * d.a_batch_stride..],
            if d.trans_a { m } else { k },
            d.trans_a,
        )
    };
    let rhs_at = |i: usize| {
        MatRef::row_major(
            &b[i * d.b_batch_stride..],
            if d.trans_b { k } else { n },
            d.trans_b,
        )
    };

    let work = m * n * k;
    if batch > 1 && work < GEMM_PAR_WORK && batch * work >= GEMM_PAR_WORK {
        // Many small products: one thread per product beats splitting each one.
        c.par_chunks_mut(c_size).enumerate().for_each(|(i, ci)| {
            gemm_into(ci, m, n, k, lhs_at(i), rhs_at(i), false, Parallelism::None);
        });
    } else {
        let par = parallelism_for(m, n, k);
        for (i, ci) in c.chunks_mut(c_size).enumerate() {
            gemm_into(ci, m, n, k, lhs_at(i), rhs_at(i), false, par);
        }
    }
    Ok(c)
}
