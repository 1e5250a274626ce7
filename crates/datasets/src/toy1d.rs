//! One-dimensional target distributions for the toy GAN: a Gaussian and a
//! weighted mixture of Gaussians (the "two curves" target), with densities for
//! plotting, plus the generator's stratified noise and a density histogram.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

use crate::error::{DatasetError, Result};

/// A real-valued distribution that can be sampled and whose density is known.
pub trait Distribution1d {
    /// One sample.
    fn sample_one(&self, rng: &mut StdRng) -> f64;

    /// Probability density at `x`.
    fn pdf(&self, x: f64) -> f64;

    /// `n` samples drawn with `rng` (to continue a seeded stream across batches).
    fn sample_with(&self, n: usize, rng: &mut StdRng) -> Vec<f32> {
        (0..n).map(|_| self.sample_one(rng) as f32).collect()
    }

    /// `n` samples, reproducible from `seed`.
    fn sample(&self, n: usize, seed: u64) -> Vec<f32> {
        self.sample_with(n, &mut StdRng::seed_from_u64(seed))
    }

    /// The density at each of `xs` (for plotting a curve).
    fn pdf_curve(&self, xs: &[f64]) -> Vec<f64> {
        xs.iter().map(|&x| self.pdf(x)).collect()
    }
}

/// The normal distribution N(mean, std^2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gaussian {
    pub mean: f64,
    pub std: f64,
}

impl Gaussian {
    /// A Gaussian; `std` must be finite and positive.
    pub fn new(mean: f64, std: f64) -> Result<Gaussian> {
        if !(std.is_finite() && std > 0.0 && mean.is_finite()) {
            return Err(DatasetError::invalid(format!(
                "Gaussian needs a finite mean and a finite positive std, got mean {mean}, std {std}"
            )));
        }
        Ok(Gaussian { mean, std })
    }
}

impl Distribution1d for Gaussian {
    fn sample_one(&self, rng: &mut StdRng) -> f64 {
        // `new` guarantees a valid std, so `Normal::new` cannot fail.
        Normal::new(self.mean, self.std)
            .expect("validated std")
            .sample(rng)
    }

    fn pdf(&self, x: f64) -> f64 {
        let z = (x - self.mean) / self.std;
        (-0.5 * z * z).exp() / (self.std * (2.0 * std::f64::consts::PI).sqrt())
    }
}

/// A weighted mixture of Gaussians; weights are normalised to sum to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianMixture {
    components: Vec<(f64, Gaussian)>,
}

impl GaussianMixture {
    /// A mixture of `(weight, component)` pairs; weights must be non-negative with a positive sum.
    pub fn new(components: Vec<(f64, Gaussian)>) -> Result<GaussianMixture> {
        let total: f64 = components.iter().map(|(w, _)| *w).sum();
        if components.is_empty()
            || components
                .iter()
                .any(|(w, _)| !(w.is_finite() && *w >= 0.0))
            || !(total.is_finite() && total > 0.0)
        {
            return Err(DatasetError::invalid(
                "mixture weights must be finite, non-negative and sum to more than 0",
            ));
        }
        Ok(GaussianMixture {
            components: components
                .into_iter()
                .map(|(w, g)| (w / total, g))
                .collect(),
        })
    }

    /// The two-curve target: `w1 * N(m1, s1) + w2 * N(m2, s2)`.
    pub fn two(w1: f64, first: Gaussian, w2: f64, second: Gaussian) -> Result<GaussianMixture> {
        Self::new(vec![(w1, first), (w2, second)])
    }

    /// The normalised `(weight, component)` pairs.
    pub fn components(&self) -> &[(f64, Gaussian)] {
        &self.components
    }
}

impl Distribution1d for GaussianMixture {
    fn sample_one(&self, rng: &mut StdRng) -> f64 {
        let u: f64 = rng.random();
        let mut acc = 0.0;
        for (w, g) in &self.components {
            acc += w;
            if u < acc {
                return g.sample_one(rng);
            }
        }
        // Rounding can leave `acc` a hair below 1.
        self.components[self.components.len() - 1].1.sample_one(rng)
    }

    fn pdf(&self, x: f64) -> f64 {
        self.components.iter().map(|(w, g)| w * g.pdf(x)).sum()
    }
}

/// The toy GAN's generator input: `n` evenly spaced points over
/// `[-range, range]`, each jittered by up to `0.01`, reproducible from `seed`.
pub fn stratified_noise(n: usize, range: f64, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let t = if n > 1 {
                i as f64 / (n - 1) as f64
            } else {
                0.5
            };
            (-range + 2.0 * range * t + rng.random::<f64>() * 0.01) as f32
        })
        .collect()
}

/// `n` evenly spaced points from `lo` to `hi` inclusive (x values for plots).
pub fn linspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![lo],
        _ => (0..n)
            .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
            .collect(),
    }
}

/// Density histogram of `samples` over `bins` equal bins of `[lo, hi)`: each
/// bin's count divided by `(number of samples * bin width)`, so it integrates
/// to the fraction of samples inside the range. Samples outside are ignored.
pub fn density_histogram(samples: &[f32], lo: f64, hi: f64, bins: usize) -> Result<Vec<f64>> {
    if bins == 0 || !lo.is_finite() || !hi.is_finite() || hi <= lo {
        return Err(DatasetError::invalid(format!(
            "histogram needs bins > 0 and finite lo < hi, got {bins} bins over [{lo}, {hi})"
        )));
    }
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &s in samples {
        let s = s as f64;
        if s >= lo && s < hi {
            let b = (((s - lo) / width) as usize).min(bins - 1);
            counts[b] += 1;
        }
    }
    let norm = samples.len().max(1) as f64 * width;
    Ok(counts.into_iter().map(|c| c as f64 / norm).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_pdf_by_hand() {
        let g = Gaussian::new(0.0, 1.0).unwrap();
        // 1/sqrt(2 pi) = 0.3989422804.
        assert!((g.pdf(0.0) - 0.398_942_280_4).abs() < 1e-9);
        // exp(-0.5)/sqrt(2 pi) = 0.2419707245.
        assert!((g.pdf(1.0) - 0.241_970_724_5).abs() < 1e-9);
        let h = Gaussian::new(4.0, 0.5).unwrap();
        assert!((h.pdf(4.0) - 0.797_884_560_8).abs() < 1e-9);
        assert!(Gaussian::new(0.0, 0.0).is_err());
    }

    #[test]
    fn mixture_pdf_is_weighted_sum() {
        let a = Gaussian::new(-2.0, 1.0).unwrap();
        let b = Gaussian::new(3.0, 0.5).unwrap();
        let m = GaussianMixture::two(1.0, a, 3.0, b).unwrap();
        assert!((m.pdf(-2.0) - (0.25 * a.pdf(-2.0) + 0.75 * b.pdf(-2.0))).abs() < 1e-12);
        assert!(GaussianMixture::two(0.0, a, 0.0, b).is_err());
    }

    #[test]
    fn sampling_is_seeded_and_moments_match() {
        let g = Gaussian::new(4.0, 0.5).unwrap();
        let s = g.sample(20_000, 7);
        assert_eq!(s, g.sample(20_000, 7));
        assert_ne!(s, g.sample(20_000, 8));
        let mean = s.iter().map(|&x| x as f64).sum::<f64>() / s.len() as f64;
        let var = s.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / s.len() as f64;
        // Standard error of the mean is 0.5/sqrt(20000) = 0.0035.
        assert!((mean - 4.0).abs() < 0.02, "{mean}");
        assert!((var.sqrt() - 0.5).abs() < 0.02, "{var}");
    }

    #[test]
    fn mixture_sample_weights() {
        let m = GaussianMixture::two(
            0.3,
            Gaussian::new(-5.0, 0.5).unwrap(),
            0.7,
            Gaussian::new(5.0, 0.5).unwrap(),
        )
        .unwrap();
        let s = m.sample(10_000, 1);
        let left = s.iter().filter(|&&x| x < 0.0).count() as f64 / 10_000.0;
        // Binomial standard error sqrt(0.21/10000) = 0.0046.
        assert!((left - 0.3).abs() < 0.025, "{left}");
    }

    #[test]
    fn histogram_by_hand() {
        let h = density_histogram(&[0.1, 0.2, 0.6, 5.0], 0.0, 1.0, 2).unwrap();
        // 4 samples, width 0.5: bin 0 has 2 -> 2/(4*0.5) = 1, bin 1 has 1 -> 0.5.
        assert_eq!(h, vec![1.0, 0.5]);
    }

    #[test]
    fn stratified_noise_spans_range() {
        let z = stratified_noise(5, 8.0, 0);
        assert_eq!(z.len(), 5);
        assert!((z[0] + 8.0).abs() <= 0.011);
        assert!((z[2] - 0.0).abs() <= 0.011);
        assert!((z[4] - 8.0).abs() <= 0.011);
        assert_eq!(linspace(0.0, 1.0, 3), vec![0.0, 0.5, 1.0]);
    }
}
