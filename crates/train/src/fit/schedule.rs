//! Learning-rate schedules: the rate of each step from the optimizer's base rate.

use crate::{Error, Result};

/// How the learning rate changes as training goes (on top of any decay the optimizer
/// applies itself, such as RMSprop's legacy `decay`). `ReduceLrOnPlateau`, a callback,
/// scales the result further.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum LrSchedule {
    /// The base rate throughout.
    #[default]
    Constant,
    /// Step decay: the base rate times `factor` after every `every_epochs` epochs,
    /// `lr * factor^floor(epoch / every_epochs)` (epochs counted from 0).
    StepDecay { every_epochs: u64, factor: f32 },
    /// Keras `ExponentialDecay`: `lr * rate^(step / decay_steps)`, the exponent whole
    /// with `staircase` (steps counted from 0: the first step uses `lr`).
    Exponential {
        decay_steps: u64,
        rate: f32,
        staircase: bool,
    },
    /// Exponential decay over the whole run, whatever its length: `lr *
    /// factor^(step / total_steps)`, from `lr` at the first step to `lr * factor` at the
    /// end (`Exponential` with `decay_steps` the run's step count).
    ExponentialOverRun { factor: f32 },
}

impl LrSchedule {
    /// Checks the schedule's numbers.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| Err(Error::argument("learning-rate schedule", reason));
        match *self {
            LrSchedule::Constant => Ok(()),
            LrSchedule::StepDecay {
                every_epochs,
                factor,
            } => {
                if every_epochs == 0 || !(factor.is_finite() && factor > 0.0) {
                    bad(format!(
                        "step decay needs every_epochs >= 1 and a factor above 0 \
                         (got {every_epochs}, {factor})"
                    ))
                } else {
                    Ok(())
                }
            }
            LrSchedule::ExponentialOverRun { factor } => {
                if factor.is_finite() && factor > 0.0 {
                    Ok(())
                } else {
                    bad(format!(
                        "decay over the run needs a factor above 0 (got {factor})"
                    ))
                }
            }
            LrSchedule::Exponential {
                decay_steps, rate, ..
            } => {
                if decay_steps == 0 || !(rate.is_finite() && rate > 0.0) {
                    bad(format!(
                        "exponential decay needs decay_steps >= 1 and a rate above 0 \
                         (got {decay_steps}, {rate})"
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// The rate of step `step` (0-based) in epoch `epoch` (0-based) of a run of
    /// `total` steps, from base rate `lr`.
    pub fn rate(&self, lr: f32, step: u64, epoch: u64, total: u64) -> f32 {
        match *self {
            LrSchedule::ExponentialOverRun { factor } => LrSchedule::Exponential {
                decay_steps: total.max(1),
                rate: factor,
                staircase: false,
            }
            .rate(lr, step, epoch, total),
            LrSchedule::Constant => lr,
            LrSchedule::StepDecay {
                every_epochs,
                factor,
            } => (lr as f64 * (factor as f64).powi((epoch / every_epochs) as i32)) as f32,
            LrSchedule::Exponential {
                decay_steps,
                rate,
                staircase,
            } => {
                let mut p = step as f64 / decay_steps as f64;
                if staircase {
                    p = p.floor();
                }
                (lr as f64 * (rate as f64).powf(p)) as f32
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_by_hand() {
        let c = LrSchedule::Constant;
        assert_eq!(c.rate(0.1, 1000, 9, 1000), 0.1);
        let s = LrSchedule::StepDecay {
            every_epochs: 10,
            factor: 0.5,
        };
        assert_eq!(s.rate(0.1, 0, 9, 1000), 0.1);
        assert_eq!(s.rate(0.1, 0, 10, 1000), 0.05);
        assert_eq!(s.rate(0.1, 0, 25, 1000), 0.025);
        let e = LrSchedule::Exponential {
            decay_steps: 100,
            rate: 0.5,
            staircase: false,
        };
        assert_eq!(e.rate(1.0, 0, 0, 1000), 1.0);
        assert!((e.rate(1.0, 50, 0, 1000) - 0.5f32.sqrt()).abs() < 1e-7);
        assert_eq!(e.rate(1.0, 200, 0, 1000), 0.25);
        let st = LrSchedule::Exponential {
            decay_steps: 100,
            rate: 0.5,
            staircase: true,
        };
        assert_eq!(st.rate(1.0, 199, 0, 1000), 0.5);
        // Over a run of 400 steps, to a tenth: 1 at step 0, 0.1^(1/2) halfway.
        let over = LrSchedule::ExponentialOverRun { factor: 0.1 };
        assert_eq!(over.rate(1.0, 0, 0, 400), 1.0);
        assert!((over.rate(1.0, 200, 0, 400) - 0.1f32.sqrt()).abs() < 1e-7);
        assert!(
            LrSchedule::ExponentialOverRun { factor: 0.0 }
                .validate()
                .is_err()
        );
        assert!(
            LrSchedule::StepDecay {
                every_epochs: 0,
                factor: 0.5
            }
            .validate()
            .is_err()
        );
        assert!(
            LrSchedule::Exponential {
                decay_steps: 10,
                rate: f32::NAN,
                staircase: false
            }
            .validate()
            .is_err()
        );
    }
}
