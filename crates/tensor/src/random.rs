//! Counter-based random numbers shared by every backend.
//!
//! Element `i` of a random fill depends only on `(seed, i)`, and the arithmetic is
//! 32-bit integer only, so a WGSL kernel computes exactly the same bits as the CPU.
//! That makes dropout masks and initial weights identical on every backend.

/// A 32-bit integer finaliser with low bias (xorshift-multiply, two rounds).
#[inline]
pub fn mix32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

/// The per-fill key derived from a 64-bit seed and a stream number.
#[inline]
pub fn key(seed: u64, stream: u32) -> u32 {
    let lo = seed as u32;
    let hi = (seed >> 32) as u32;
    mix32(lo ^ mix32(hi ^ stream.wrapping_mul(0x9e37_79b9)))
}

/// Random bits for element `index` under `key`.
#[inline]
pub fn bits(key: u32, index: u32) -> u32 {
    mix32(mix32(index ^ key).wrapping_add(key))
}

/// Uniform on `[0, 1)` with 24 bits of resolution (exact in f32).
#[inline]
pub fn unit(bits: u32) -> f32 {
    (bits >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// Uniform on `(0, 1]`, safe to take the logarithm of.
#[inline]
pub fn unit_open(bits: u32) -> f32 {
    ((bits >> 8) + 1) as f32 * (1.0 / 16_777_216.0)
}

/// The value of element `index` of a fill with distribution `dist` and `seed`.
///
/// Uniform and Bernoulli use stream 0; Normal uses Box-Muller on streams 0 and 1.
pub fn sample(dist: crate::Distribution, seed: u64, index: u32) -> f32 {
    use crate::Distribution::*;
    match dist {
        Uniform { low, high } => low + (high - low) * unit(bits(key(seed, 0), index)),
        Bernoulli { p } => {
            if unit(bits(key(seed, 0), index)) < p {
                1.0
            } else {
                0.0
            }
        }
        Normal { mean, std } => {
            let u1 = unit_open(bits(key(seed, 0), index));
            let u2 = unit(bits(key(seed, 1), index));
            let r = (-2.0 * u1.ln()).sqrt();
            mean + std * r * (std::f32::consts::TAU * u2).cos()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Distribution;

    #[test]
    fn uniform_moments() {
        let n = 100_000u32;
        let xs: Vec<f32> = (0..n)
            .map(|i| {
                sample(
                    Distribution::Uniform {
                        low: 0.0,
                        high: 1.0,
                    },
                    7,
                    i,
                )
            })
            .collect();
        let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n as f64;
        let var = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        // Standard error of the mean is sqrt(1/12/n) ~ 0.0009; allow 5 sigma.
        assert!((mean - 0.5).abs() < 0.0046, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.002, "var {var}");
        assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
    }

    #[test]
    fn normal_moments() {
        let n = 100_000u32;
        let xs: Vec<f64> = (0..n)
            .map(|i| {
                sample(
                    Distribution::Normal {
                        mean: 1.0,
                        std: 2.0,
                    },
                    3,
                    i,
                ) as f64
            })
            .collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.035, "mean {mean}");
        assert!((var.sqrt() - 2.0).abs() < 0.03, "std {}", var.sqrt());
    }

    #[test]
    fn seeds_give_different_streams() {
        let a: Vec<u32> = (0..64).map(|i| bits(key(1, 0), i)).collect();
        let b: Vec<u32> = (0..64).map(|i| bits(key(2, 0), i)).collect();
        let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
        assert_eq!(same, 0);
    }
}
