//! Dropout layer.

use crate::{Mode, Module, Params, Seeds};
use std::sync::atomic::{AtomicU64, Ordering};
use tensor::{Backend, Error, Result, Tensor};

/// Keras `Dropout(rate)`: in training, zeroes each element with probability `rate`
/// and scales the others by `1 / (1 - rate)`; the identity in evaluation.
///
/// Every training call draws a new mask: its seed mixes the layer's seed with a call
/// counter, so a run is reproducible from the model seed, and on every backend.
#[derive(Debug)]
pub struct Dropout {
    rate: f32,
    seed: u64,
    calls: AtomicU64,
}

impl Dropout {
    /// Dropout with `rate` in `[0, 1)`, seeded from `seeds`.
    pub fn new(rate: f32, seeds: &mut Seeds) -> Result<Self> {
        if !(0.0..1.0).contains(&rate) {
            return Err(Error::argument(
                "Dropout",
                format!("rate {rate} must be in [0, 1)"),
            ));
        }
        Ok(Dropout {
            rate,
            seed: seeds.next(),
            calls: AtomicU64::new(0),
        })
    }

    /// The fraction of elements dropped in training.
    pub fn rate(&self) -> f32 {
        self.rate
    }

    /// How many masks have been drawn so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Sets the mask counter, to replay the masks of a run (resuming from a checkpoint).
    pub fn set_calls(&self, calls: u64) {
        self.calls.store(calls, Ordering::Relaxed);
    }

    fn next_seed(&self) -> u64 {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        // splitmix64 is a bijection, so distinct calls give distinct, well-mixed seeds.
        Seeds::new(
            self.seed
                .wrapping_add(call.wrapping_mul(0xd1b5_4a32_d192_ed03)),
        )
        .next()
    }
}

impl<B: Backend> Params<B> for Dropout {}

impl<B: Backend> Module<B> for Dropout {
    fn forward(&self, x: &Tensor<B>, mode: Mode) -> Result<Tensor<B>> {
        if !mode.is_train() || self.rate == 0.0 {
            return Ok(x.clone());
        }
        x.dropout(self.rate, self.next_seed(), true)
    }

    fn kind(&self) -> String {
        "Dropout".into()
    }

    fn draw_counters(&self) -> Vec<(String, &AtomicU64)> {
        vec![(String::new(), &self.calls)]
    }
}
