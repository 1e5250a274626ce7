//! Mini-batches of sample indices, optionally shuffled with a seed, and gathering
//! the rows of a batch out of a flat buffer.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::error::{DatasetError, Result};

/// Plans the batches of each epoch over `count` samples.
///
/// ```
/// use datasets::BatchSampler;
/// let sampler = BatchSampler::new(10, 4).unwrap().shuffle(42).drop_last(true);
/// let epoch0: Vec<Vec<usize>> = sampler.epoch(0).collect();
/// assert_eq!(epoch0.len(), 2); // 10 / 4, the partial batch of 2 dropped
/// assert_eq!(epoch0, sampler.epoch(0).collect::<Vec<_>>()); // reproducible
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSampler {
    count: usize,
    batch_size: usize,
    seed: Option<u64>,
    drop_last: bool,
}

impl BatchSampler {
    /// In-order batches of `batch_size` over `count` samples, keeping the last
    /// partial batch. `batch_size` must be positive.
    pub fn new(count: usize, batch_size: usize) -> Result<BatchSampler> {
        if batch_size == 0 {
            return Err(DatasetError::invalid("batch_size must be positive"));
        }
        Ok(BatchSampler {
            count,
            batch_size,
            seed: None,
            drop_last: false,
        })
    }

    /// Shuffle every epoch; the order of epoch `e` depends only on `(seed, e)`.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Drop the last batch when it is smaller than `batch_size`.
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// Number of samples.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Samples per full batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Batches per epoch.
    pub fn num_batches(&self) -> usize {
        if self.drop_last {
            self.count / self.batch_size
        } else {
            self.count.div_ceil(self.batch_size)
        }
    }

    /// The sample order of epoch `epoch` (identity when not shuffling).
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        match self.seed {
            Some(seed) => permutation(self.count, seed, epoch),
            None => (0..self.count).collect(),
        }
    }

    /// The batches of epoch `epoch`.
    pub fn epoch(&self, epoch: u64) -> Batches {
        Batches {
            order: self.order(epoch),
            batch_size: self.batch_size,
            next: 0,
            end: self.num_batches() * self.batch_size,
        }
    }
}

/// The index batches of one epoch, in order.
#[derive(Debug, Clone)]
pub struct Batches {
    order: Vec<usize>,
    batch_size: usize,
    next: usize,
    end: usize,
}

impl Iterator for Batches {
    type Item = Vec<usize>;

    fn next(&mut self) -> Option<Vec<usize>> {
        let end = self.end.min(self.order.len());
        if self.next >= end {
            return None;
        }
        let stop = (self.next + self.batch_size).min(end);
        let batch = self.order[self.next..stop].to_vec();
        self.next = stop;
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.end.min(self.order.len()).saturating_sub(self.next);
        let n = left.div_ceil(self.batch_size);
        (n, Some(n))
    }
}

impl ExactSizeIterator for Batches {}

/// A seeded permutation of `0..count` for epoch `epoch`. The seed and the epoch
/// are mixed (SplitMix64) so nearby pairs such as (1, 0) and (0, 1) differ.
pub fn permutation(count: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..count).collect();
    let mut rng = StdRng::seed_from_u64(mix(seed, epoch));
    order.shuffle(&mut rng);
    order
}

fn mix(seed: u64, epoch: u64) -> u64 {
    let mut z = seed ^ epoch.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Copies rows `indices` of a row-major buffer with `row_len` values per row,
/// in order: the batch `[indices.len(), row_len]`.
pub fn gather_rows<T: Copy>(data: &[T], row_len: usize, indices: &[usize]) -> Result<Vec<T>> {
    if row_len == 0 || !data.len().is_multiple_of(row_len) {
        return Err(DatasetError::invalid(format!(
            "buffer of {} values is not a whole number of rows of {row_len}",
            data.len()
        )));
    }
    let rows = data.len() / row_len;
    let mut out = Vec::with_capacity(indices.len() * row_len);
    for &i in indices {
        if i >= rows {
            return Err(DatasetError::invalid(format!(
                "row {i} out of range for {rows} rows"
            )));
        }
        out.extend_from_slice(&data[i * row_len..(i + 1) * row_len]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_batches_by_hand() {
        let s = BatchSampler::new(7, 3).unwrap();
        let b: Vec<_> = s.epoch(0).collect();
        assert_eq!(b, vec![vec![0, 1, 2], vec![3, 4, 5], vec![6]]);
        assert_eq!(s.num_batches(), 3);
        let d: Vec<_> = s.drop_last(true).epoch(5).collect();
        assert_eq!(d, vec![vec![0, 1, 2], vec![3, 4, 5]]);
        assert_eq!(s.epoch(0).len(), 3);
    }

    #[test]
    fn shuffled_epochs_are_permutations_and_reproducible() {
        let s = BatchSampler::new(100, 16).unwrap().shuffle(9);
        let e0: Vec<usize> = s.epoch(0).flatten().collect();
        let e1: Vec<usize> = s.epoch(1).flatten().collect();
        let mut sorted = e0.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(e0, e1);
        assert_eq!(e0, s.epoch(0).flatten().collect::<Vec<_>>());
        assert_ne!(e0, (0..100).collect::<Vec<_>>());
        assert_ne!(permutation(50, 1, 0), permutation(50, 0, 1));
    }

    #[test]
    fn empty_and_zero() {
        assert!(BatchSampler::new(5, 0).is_err());
        assert_eq!(BatchSampler::new(0, 4).unwrap().epoch(0).count(), 0);
    }

    #[test]
    fn gather_by_hand() {
        let data = [0., 1., 10., 11., 20., 21.];
        assert_eq!(
            gather_rows(&data, 2, &[2, 0]).unwrap(),
            vec![20., 21., 0., 1.]
        );
        assert!(gather_rows(&data, 2, &[3]).is_err());
        assert!(gather_rows(&data, 4, &[0]).is_err());
        assert_eq!(gather_rows(&[1u8, 2, 3], 1, &[1]).unwrap(), vec![2]);
    }
}
