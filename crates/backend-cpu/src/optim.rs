//! The fused Adam update.

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
