//! The fused Adam update.

use crate::{PAR_CHUNK, PAR_THRESHOLD, check_len};
use rayon::prelude::*;
use tensor::{AdamStep, Result};

/// One Adam step over `len` parameters; returns new `(param, m, v)`.
///
/// The caller folded the bias corrections into `lr_t`, so this is exactly the
/// Keras update `p -= lr_t * m / (sqrt(v) + epsilon)`.
pub(crate) fn adam_step(
    param: &[f32],
    grad: &[f32],
    m: &[f32],
    v: &[f32],
    len: usize,
    s: AdamStep,
) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    for (name, buf) in [("param", param), ("grad", grad), ("m", m), ("v", v)] {
        check_len("adam_step", name, buf, len)?;
    }
    let mut p = param[..len].to_vec();
    let mut m = m[..len].to_vec();
    let mut v = v[..len].to_vec();
    let update = |p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]| {
        for k in 0..p.len() {
            m[k] = s.beta1 * m[k] + (1.0 - s.beta1) * g[k];
            v[k] = s.beta2 * v[k] + (1.0 - s.beta2) * g[k] * g[k];
            p[k] -= s.lr_t * m[k] / (v[k].sqrt() + s.epsilon);
        }
    };
    if len >= PAR_THRESHOLD {
        p.par_chunks_mut(PAR_CHUNK)
            .zip(m.par_chunks_mut(PAR_CHUNK))
            .zip(v.par_chunks_mut(PAR_CHUNK))
            .zip(grad[..len].par_chunks(PAR_CHUNK))
            .for_each(|(((p, m), v), g)| update(p, m, v, g));
    } else {
        update(&mut p, &mut m, &mut v, &grad[..len]);
    }
    Ok((p, m, v))
}
