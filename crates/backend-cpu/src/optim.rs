//! In-place optimizer updates: the fused Adam step and `axpby`.

use crate::{Cpu, PAR_CHUNK, PAR_THRESHOLD, check_len, simd};
use rayon::prelude::*;
use std::sync::Arc;
use tensor::{AdamStep, OptimOps, Result, RmsPropStep};

/// One Adam step over `len` parameters, in place.
///
/// The caller folded the bias corrections into `lr_t`, so this is exactly the
/// Keras update `p -= lr_t * m / (sqrt(v) + epsilon)`.
pub(crate) fn adam_step(
    p: &mut [f32],
    grad: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    len: usize,
    s: AdamStep,
) -> Result<()> {
    check_len("adam_step", "param", p, len)?;
    check_len("adam_step", "grad", grad, len)?;
    check_len("adam_step", "m", m, len)?;
    check_len("adam_step", "v", v, len)?;
    // Compiled for the CPU's widest vector unit: the same IEEE operations in the same
    // order at every width (no fused multiply-add), so the same bits as the portable
    // loop (`tests::adam_matches_the_portable_loop_bit_for_bit`).
    let update = |p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]| {
        simd::dispatch(
            #[inline(always)]
            || adam_loop(p, m, v, g, s),
        )
    };
    let (p, m, v, g) = (&mut p[..len], &mut m[..len], &mut v[..len], &grad[..len]);
    if len >= PAR_THRESHOLD {
        p.par_chunks_mut(PAR_CHUNK)
            .zip(m.par_chunks_mut(PAR_CHUNK))
            .zip(v.par_chunks_mut(PAR_CHUNK))
            .zip(g.par_chunks(PAR_CHUNK))
            .for_each(|(((p, m), v), g)| update(p, m, v, g));
    } else {
        update(p, m, v, g);
    }
    Ok(())
}

/// The Adam update of one chunk. Zipped iterators carry no bounds checks, so the loop
/// vectorises (sqrt and division included); indexing four slices of unrelated lengths
/// would not.
#[inline(always)]
fn adam_loop(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], s: AdamStep) {
    for (((p, m), v), &g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
        *m = s.beta1 * *m + (1.0 - s.beta1) * g;
        *v = s.beta2 * *v + (1.0 - s.beta2) * g * g;
        *p -= s.lr_t * *m / (v.sqrt() + s.epsilon);
    }
}

/// One RMSprop step over `len` parameters, in place: the operations of the unfused
/// tensor ops it replaces (nine passes, each a new buffer), in the same order, so the
/// same bits (`tests::rmsprop_matches_the_unfused_ops_by_hand`).
pub(crate) fn rmsprop_step(
    p: &mut [f32],
    grad: &[f32],
    acc: &mut [f32],
    len: usize,
    s: RmsPropStep,
) -> Result<()> {
    check_len("rmsprop_step", "param", p, len)?;
    check_len("rmsprop_step", "grad", grad, len)?;
    check_len("rmsprop_step", "accumulator", acc, len)?;
    // As `adam_step`: the widest vector unit, no fused multiply-add, the same bits.
    let update = |p: &mut [f32], a: &mut [f32], g: &[f32]| {
        simd::dispatch(
            #[inline(always)]
            || rmsprop_loop(p, a, g, s),
        )
    };
    let (p, a, g) = (&mut p[..len], &mut acc[..len], &grad[..len]);
    if len >= PAR_THRESHOLD {
        p.par_chunks_mut(PAR_CHUNK)
            .zip(a.par_chunks_mut(PAR_CHUNK))
            .zip(g.par_chunks(PAR_CHUNK))
            .for_each(|((p, a), g)| update(p, a, g));
    } else {
        update(p, a, g);
    }
    Ok(())
}

#[inline(always)]
fn rmsprop_loop(p: &mut [f32], acc: &mut [f32], g: &[f32], s: RmsPropStep) {
    let keep = 1.0 - s.rho;
    if s.epsilon_outside_sqrt {
        for ((p, a), &g) in p.iter_mut().zip(acc.iter_mut()).zip(g) {
            *a = *a * s.rho + g * g * keep;
            *p -= g * s.lr / (a.sqrt() + s.epsilon);
        }
    } else {
        for ((p, a), &g) in p.iter_mut().zip(acc.iter_mut()).zip(g) {
            *a = *a * s.rho + g * g * keep;
            *p -= g * s.lr / (*a + s.epsilon).sqrt();
        }
    }
}

/// `y = a * y + b * x` over `len` elements, in place.
pub(crate) fn axpby(y: &mut [f32], a: f32, x: &[f32], b: f32, len: usize) -> Result<()> {
    check_len("axpby", "y", y, len)?;
    check_len("axpby", "x", x, len)?;
    let update = |y: &mut [f32], x: &[f32]| {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = a * *y + b * x;
        }
    };
    let (y, x) = (&mut y[..len], &x[..len]);
    if len >= PAR_THRESHOLD {
        y.par_chunks_mut(PAR_CHUNK)
            .zip(x.par_chunks(PAR_CHUNK))
            .for_each(|(y, x)| update(y, x));
    } else {
        update(y, x);
    }
    Ok(())
}

impl OptimOps for Cpu {
    fn adam_step(
        &self,
        param: &mut Self::Storage,
        grad: &Self::Storage,
        m: &mut Self::Storage,
        v: &mut Self::Storage,
        len: usize,
        step: AdamStep,
    ) -> Result<()> {
        // Clone-on-write: in place when this is the only handle to each buffer.
        adam_step(
            Arc::make_mut(param).as_mut_slice(),
            grad,
            Arc::make_mut(m).as_mut_slice(),
            Arc::make_mut(v).as_mut_slice(),
            len,
            step,
        )
    }

    fn rmsprop_step(
        &self,
        param: &mut Self::Storage,
        grad: &Self::Storage,
        acc: &mut Self::Storage,
        len: usize,
        step: RmsPropStep,
    ) -> Result<()> {
        // Clone-on-write: in place when this is the only handle to each buffer.
        rmsprop_step(
            Arc::make_mut(param).as_mut_slice(),
            grad,
            Arc::make_mut(acc).as_mut_slice(),
            len,
            step,
        )
    }

    fn axpby(
        &self,
        y: &mut Self::Storage,
        a: f32,
        x: &Self::Storage,
        b: f32,
        len: usize,
    ) -> Result<()> {
        axpby(Arc::make_mut(y).as_mut_slice(), a, x, b, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_matches_the_portable_loop_bit_for_bit() {
        // Odd length (a vector tail) and above the threading threshold; whatever loop the
        // CPU gets, the numbers are those of the portable one.
        let len = PAR_THRESHOLD + 13;
        let wave = |i: usize, f: f32| ((i as f32 * f).sin() * 0.7) + 0.01;
        let g: Vec<f32> = (0..len).map(|i| wave(i, 0.37)).collect();
        let (p0, m0): (Vec<f32>, Vec<f32>) =
            (0..len).map(|i| (wave(i, 1.3), wave(i, 0.11))).unzip();
        let v0: Vec<f32> = (0..len).map(|i| wave(i, 0.53).abs()).collect();
        let s = AdamStep {
            lr_t: 1e-3,
            beta1: 0.5,
            beta2: 0.999,
            epsilon: 1e-7,
        };
        let (mut p, mut m, mut v) = (p0.clone(), m0.clone(), v0.clone());
        adam_step(&mut p, &g, &mut m, &mut v, len, s).unwrap();
        let (mut pw, mut mw, mut vw) = (p0, m0, v0);
        adam_loop(&mut pw, &mut mw, &mut vw, &g, s);
        let bits = |x: &[f32]| x.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&p), bits(&pw));
        assert_eq!(bits(&m), bits(&mw));
        assert_eq!(bits(&v), bits(&vw));
        // And the portable loop is Adam: element 0 by hand (g = 0.01, p = 0.01, m = 0.01,
        // v = 0.01 from sin(0) = 0).
        let m1 = 0.5f64 * 0.01 + 0.5 * 0.01;
        let v1 = 0.999f64 * 0.01 + 0.001 * 0.01 * 0.01;
        let p1 = 0.01 - 1e-3 * m1 / (v1.sqrt() + 1e-7);
        assert!((pw[0] as f64 - p1).abs() < 1e-7, "{} vs {p1}", pw[0]);
    }

    #[test]
    fn rmsprop_matches_the_unfused_ops_by_hand() {
        // Above the threading threshold with an odd tail; element by element, the
        // scalar operations of the tensor ops RmsProp ran before (a * rho + (g * g) *
        // (1 - rho); p - (g * lr) / denominator), bit for bit, both epsilon placements.
        let len = PAR_THRESHOLD + 13;
        let wave = |i: usize, f: f32| ((i as f32 * f).sin() * 0.7) + 0.01;
        let g: Vec<f32> = (0..len).map(|i| wave(i, 0.37)).collect();
        let p0: Vec<f32> = (0..len).map(|i| wave(i, 1.3)).collect();
        let a0: Vec<f32> = (0..len).map(|i| wave(i, 0.53).abs()).collect();
        for outside in [false, true] {
            let s = RmsPropStep {
                lr: 1e-3,
                rho: 0.9,
                epsilon: 1e-7,
                epsilon_outside_sqrt: outside,
            };
            let (mut p, mut a) = (p0.clone(), a0.clone());
            rmsprop_step(&mut p, &g, &mut a, len, s).unwrap();
            for i in 0..len {
                let want_a = a0[i] * 0.9 + (g[i] * g[i]) * (1.0 - 0.9f32);
                let denom = if outside {
                    want_a.sqrt() + 1e-7
                } else {
                    (want_a + 1e-7).sqrt()
                };
                let want_p = p0[i] - (g[i] * 1e-3) / denom;
                assert_eq!(a[i].to_bits(), want_a.to_bits(), "acc {i}");
                assert_eq!(p[i].to_bits(), want_p.to_bits(), "param {i}");
            }
        }
        // Element 0 in f64: g = p = a = 0.01 (sin 0 = 0).
        let a1 = 0.9f64 * 0.01 + 0.1 * 0.01 * 0.01;
        let p1 = 0.01 - 0.01 * 1e-3 / (a1 + 1e-7).sqrt();
        let (mut p, mut a) = (p0.clone(), a0.clone());
        let s = RmsPropStep {
            lr: 1e-3,
            rho: 0.9,
            epsilon: 1e-7,
            epsilon_outside_sqrt: false,
        };
        rmsprop_step(&mut p, &g, &mut a, len, s).unwrap();
        assert!((p[0] as f64 - p1).abs() < 1e-8, "{} vs {p1}", p[0]);
        assert!(rmsprop_step(&mut p, &g[..3], &mut a, len, s).is_err());
    }

    #[test]
    fn axpby_by_hand() {
        let mut y = [1.0, 2.0, 3.0, 7.0];
        axpby(&mut y, 0.5, &[4.0, 5.0, 6.0, 9.0], 2.0, 3).unwrap();
        // 0.5 * 1 + 2 * 4, ...; the fourth element is past `len` and stays.
        assert_eq!(y, [8.5, 11.0, 13.5, 7.0]);
        assert!(axpby(&mut y, 1.0, &[1.0], 1.0, 3).is_err());
    }
}
