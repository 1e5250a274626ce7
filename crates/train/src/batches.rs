//! The mini-batch of each step, from the step number alone.

use crate::{Error, Result};

/// The mini-batch of every training step: a seeded shuffle per epoch, whole batches
/// only, derived from the step number alone so a resumed run sees the same data.
pub struct StepBatches {
    sampler: datasets::BatchSampler,
    batch_size: usize,
    per_epoch: u64,
    order: Option<(u64, Vec<usize>)>,
}

impl StepBatches {
    /// Batches of `batch_size` out of `count` examples, shuffled from `seed`.
    pub fn new(model: &'static str, count: usize, batch_size: usize, seed: u64) -> Result<Self> {
        if batch_size == 0 || batch_size > count {
            return Err(Error::argument(
                model,
                format!(
                    "--batch-size {batch_size} must be between 1 and the {count} training examples"
                ),
            ));
        }
        let sampler = datasets::BatchSampler::new(count, batch_size)?
            .shuffle(seed)
            .drop_last(true);
        Ok(StepBatches {
            sampler,
            batch_size,
            per_epoch: (count / batch_size) as u64,
            order: None,
        })
    }

    /// Whole batches per epoch.
    pub fn per_epoch(&self) -> u64 {
        self.per_epoch
    }

    /// Example indices of the batch trained at `step`.
    pub fn indices(&mut self, step: u64) -> &[usize] {
        let epoch = step / self.per_epoch;
        if self.order.as_ref().is_none_or(|(e, _)| *e != epoch) {
            self.order = Some((epoch, self.sampler.order(epoch)));
        }
        let start = (step % self.per_epoch) as usize * self.batch_size;
        let order = &self.order.as_ref().expect("set above").1;
        &order[start..start + self.batch_size]
    }
}
