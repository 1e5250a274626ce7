//! In-place optimizer updates: the fused Adam step and `axpby`.

use crate::{PAR_CHUNK, PAR_THRESHOLD, check_len};
use rayon::prelude::*;
use tensor::{AdamStep, Result};

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
    // Zipped iterators carry no bounds checks, so the loop vectorises (sqrt and
    // division included); indexing four slices of unrelated lengths would not.
    let update = |p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]| {
        for (((p, m), v), &g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
            *m = s.beta1 * *m + (1.0 - s.beta1) * g;
            *v = s.beta2 * *v + (1.0 - s.beta2) * g * g;
            *p -= s.lr_t * *m / (v.sqrt() + s.epsilon);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axpby_by_hand() {
        let mut y = [1.0, 2.0, 3.0, 7.0];
        axpby(&mut y, 0.5, &[4.0, 5.0, 6.0, 9.0], 2.0, 3).unwrap();
        // 0.5 * 1 + 2 * 4, ...; the fourth element is past `len` and stays.
        assert_eq!(y, [8.5, 11.0, 13.5, 7.0]);
        assert!(axpby(&mut y, 1.0, &[1.0], 1.0, 3).is_err());
    }
}
