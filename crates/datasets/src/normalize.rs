//! Pixel scaling and standardisation (channels-last data).

use crate::error::{DatasetError, Result};

/// Bytes to `[0, 1]`: `p / 255`.
pub fn u8_to_unit(pixels: &[u8]) -> Vec<f32> {
    pixels.iter().map(|&p| p as f32 / 255.0).collect()
}

/// Bytes to `[-1, 1]`: `p / 127.5 - 1` (0 -> -1, 255 -> 1).
pub fn u8_to_signed(pixels: &[u8]) -> Vec<f32> {
    pixels.iter().map(|&p| p as f32 / 127.5 - 1.0).collect()
}

/// `[0, 1]` values back to bytes, clamped and rounded (NaN becomes 0).
pub fn unit_to_u8(values: &[f32]) -> Vec<u8> {
    values.iter().map(|&v| to_byte(v * 255.0)).collect()
}

/// `[-1, 1]` values (a tanh generator's output) back to bytes, clamped and rounded.
pub fn signed_to_u8(values: &[f32]) -> Vec<u8> {
    values.iter().map(|&v| to_byte((v + 1.0) * 127.5)).collect()
}

fn to_byte(v: f32) -> u8 {
    // `as` saturates and maps NaN to 0.
    v.round().clamp(0.0, 255.0) as u8
}

/// Rescales `data` in place so its minimum maps to 0 and its maximum to 1;
/// returns the original `(min, max)`. A constant buffer becomes all 0.
pub fn min_max_scale(data: &mut [f32]) -> (f32, f32) {
    let (lo, hi) = data
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let range = hi - lo;
    for v in data.iter_mut() {
        *v = if range > 0.0 { (*v - lo) / range } else { 0.0 };
    }
    (lo, hi)
}

/// Maps `[0, 1]` values to `[-1, 1]` in place.
pub fn unit_to_signed_in_place(data: &mut [f32]) {
    for v in data {
        *v = *v * 2.0 - 1.0;
    }
}

/// Subtracts the mean of all values in place; returns that mean.
pub fn subtract_mean(data: &mut [f32]) -> f32 {
    if data.is_empty() {
        return 0.0;
    }
    let mean = (data.iter().map(|&v| v as f64).sum::<f64>() / data.len() as f64) as f32;
    for v in data.iter_mut() {
        *v -= mean;
    }
    mean
}

/// Per-channel mean and standard deviation of NHWC data, so test data can be
/// standardised with the training statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelStats {
    pub mean: Vec<f32>,
    /// Population standard deviation; a channel with none is recorded as 1.
    pub std: Vec<f32>,
}

impl ChannelStats {
    /// Computes the statistics of `data`, whose last axis has `channels` values.
    pub fn compute(data: &[f32], channels: usize) -> Result<ChannelStats> {
        check_channels(data, channels)?;
        let n = (data.len() / channels).max(1) as f64;
        let mut sum = vec![0f64; channels];
        for px in data.chunks_exact(channels) {
            for (s, &v) in sum.iter_mut().zip(px) {
                *s += v as f64;
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let mut sq = vec![0f64; channels];
        for px in data.chunks_exact(channels) {
            for ((s, &v), m) in sq.iter_mut().zip(px).zip(&mean) {
                *s += (v as f64 - m).powi(2);
            }
        }
        let std = sq
            .iter()
            .map(|s| {
                let sd = (s / n).sqrt();
                if sd > 1e-12 { sd as f32 } else { 1.0 }
            })
            .collect();
        Ok(ChannelStats {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        })
    }

    /// Applies `(x - mean[c]) / std[c]` in place.
    pub fn apply(&self, data: &mut [f32]) -> Result<()> {
        let channels = self.mean.len();
        check_channels(data, channels)?;
        for px in data.chunks_exact_mut(channels) {
            for ((v, m), s) in px.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
            }
        }
        Ok(())
    }
}

/// Standardises NHWC data per channel in place and returns the statistics used.
pub fn standardize_channels(data: &mut [f32], channels: usize) -> Result<ChannelStats> {
    let stats = ChannelStats::compute(data, channels)?;
    stats.apply(data)?;
    Ok(stats)
}

fn check_channels(data: &[f32], channels: usize) -> Result<()> {
    if channels == 0 || !data.len().is_multiple_of(channels) {
        return Err(DatasetError::invalid(format!(
            "{} values are not a whole number of pixels of {channels} channels",
            data.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_scaling_by_hand() {
        assert_eq!(u8_to_unit(&[0, 51, 255]), vec![0.0, 0.2, 1.0]);
        assert_eq!(u8_to_signed(&[0, 255]), vec![-1.0, 1.0]);
        assert_eq!(
            signed_to_u8(&[-1.0, 0.0, 1.0, 7.0, f32::NAN]),
            vec![0, 128, 255, 255, 0]
        );
        assert_eq!(unit_to_u8(&[0.0, 0.2, 1.0, -3.0]), vec![0, 51, 255, 0]);
    }

    #[test]
    fn min_max_and_mean() {
        let mut d = vec![2.0, 4.0, 6.0];
        assert_eq!(min_max_scale(&mut d), (2.0, 6.0));
        assert_eq!(d, vec![0.0, 0.5, 1.0]);
        let mut e = vec![1.0, 2.0, 6.0];
        assert_eq!(subtract_mean(&mut e), 3.0);
        assert_eq!(e, vec![-2.0, -1.0, 3.0]);
    }

    #[test]
    fn channel_stats_by_hand() {
        // Two pixels, two channels: channel 0 = {1, 3}, channel 1 = {10, 10}.
        let mut d = vec![1.0, 10.0, 3.0, 10.0];
        let stats = standardize_channels(&mut d, 2).unwrap();
        assert_eq!(stats.mean, vec![2.0, 10.0]);
        assert_eq!(stats.std, vec![1.0, 1.0]); // channel 1 has no spread: kept as 1
        assert_eq!(d, vec![-1.0, 0.0, 1.0, 0.0]);
        // The same statistics on new data.
        let mut t = vec![4.0, 12.0];
        stats.apply(&mut t).unwrap();
        assert_eq!(t, vec![2.0, 2.0]);
        assert!(ChannelStats::compute(&[1.0, 2.0, 3.0], 2).is_err());
    }
}
