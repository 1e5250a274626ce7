//! The whole-answer metric of `addition_rnn`.

use train::fit::argmax;
use train::{Error, Metric, Predictions, Result};

/// The share of examples whose every row (every character of the answer) has its label
/// as the top score: an answer counts only when it is entirely right. Keras' `accuracy`
/// counts characters instead ([`train::Accuracy`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct ExactMatch {
    hits: f64,
    total: f64,
}

/// The metric's name in logs and `metrics.jsonl` (validation: `val_exact_match_accuracy`).
pub const EXACT_MATCH: &str = "exact_match_accuracy";

impl Metric for ExactMatch {
    fn name(&self) -> String {
        EXACT_MATCH.into()
    }

    fn update(&mut self, p: &Predictions) {
        let rows = p.rows_per_example().max(1);
        for example in 0..p.examples {
            let right = (example * rows..(example + 1) * rows)
                .all(|r| p.labels.get(r).is_some_and(|&l| argmax(p.row(r)) == l));
            self.hits += f64::from(u8::from(right));
            self.total += 1.0;
        }
    }

    fn result(&self) -> f64 {
        if self.total > 0.0 {
            self.hits / self.total
        } else {
            0.0
        }
    }

    fn reset(&mut self) {
        *self = ExactMatch::default();
    }

    fn state(&self) -> Vec<f64> {
        vec![self.hits, self.total]
    }

    fn set_state(&mut self, state: &[f64]) -> Result<()> {
        match state {
            [h, t] if h.is_finite() && t.is_finite() && *h >= 0.0 && *t >= *h => {
                self.hits = *h;
                self.total = *t;
                Ok(())
            }
            _ => Err(Error::argument(
                "checkpoint",
                format!("bad state {state:?} of metric {EXACT_MATCH}"),
            )),
        }
    }

    fn fresh(&self) -> Box<dyn Metric> {
        Box::new(ExactMatch::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_counts_only_when_every_character_is_right() {
        // Two examples of two rows over three classes. Example 0: both rows right
        // (labels 2, 0); example 1: the first row right (label 1), the second wrong
        // (label 2, top score at 0).
        let outputs = [
            0.0, 0.1, 0.9, /* row 0 */ 0.8, 0.1, 0.1, /* row 1 */
            0.1, 0.7, 0.2, /* row 2 */ 0.6, 0.3, 0.1, /* row 3 */
        ];
        let labels = [2, 0, 1, 2];
        let p = Predictions {
            outputs: &outputs,
            classes: 3,
            labels: &labels,
            examples: 2,
        };
        let mut m = ExactMatch::default();
        m.update(&p);
        assert_eq!(m.result(), 0.5);
        assert_eq!(m.state(), vec![1.0, 2.0]);
        m.reset();
        assert_eq!(m.result(), 0.0);
        assert!(m.set_state(&[3.0, 2.0]).is_err());
    }
}
