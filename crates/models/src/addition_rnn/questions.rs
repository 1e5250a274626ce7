//! The validation questions `addition_rnn` shows after every epoch, answered by the
//! model and marked right or wrong as the Keras example prints them.

use datasets::{AdditionProblems, addition_table};
use nn::{Mode, Module, Seeds};
use tensor::{Backend, Tensor, no_grad};
use train::Result;

/// One question put to the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answered {
    /// The question as a person reads it (un-reversed), padded as the model sees it.
    pub question: String,
    /// The right answer, padded.
    pub truth: String,
    /// The model's answer (the top character of each step).
    pub guess: String,
}

impl Answered {
    /// Whether the whole answer is right.
    pub fn is_right(&self) -> bool {
        self.truth == self.guess
    }

    /// `Q 123+45  T 168  ☑ 168` (`☒` when wrong), the Keras example's line.
    pub fn line(&self) -> String {
        let mark = if self.is_right() { '☑' } else { '☒' };
        format!("Q {} T {} {mark} {}", self.question, self.truth, self.guess)
            .trim_end()
            .to_string()
    }
}

/// `count` random question indices below `len` for `epoch` (with repeats, as the Keras
/// example's `randint`): the same seed and epoch give the same questions, so a resumed
/// run shows what the uninterrupted one would have.
pub fn pick(len: usize, count: usize, seed: u64, epoch: u64) -> Vec<usize> {
    if len == 0 {
        return Vec::new();
    }
    let mut seeds = Seeds::new(seed ^ 0x5eed_a11d ^ epoch.wrapping_mul(0x2545_f491_4f6c_dd1d));
    (0..count)
        .map(|_| (seeds.next() % len as u64) as usize)
        .collect()
}

/// The model's answers to the questions `indices` of `problems` (evaluation mode).
pub fn answer<B: Backend, M: Module<B> + ?Sized>(
    be: &B,
    model: &M,
    problems: &AdditionProblems,
    indices: &[usize],
) -> Result<Vec<Answered>> {
    let table = addition_table();
    let (qlen, alen) = (problems.question_len(), problems.answer_len());
    let mut inputs = Vec::with_capacity(indices.len() * qlen * table.len());
    for &i in indices {
        inputs.extend(table.encode(&problems.questions[i], qlen)?);
    }
    let x = Tensor::from_vec(be, inputs, [indices.len(), qlen, table.len()])?;
    let scores = no_grad(|| model.forward(&x, Mode::Eval)?.to_vec())?;
    let per_answer = alen * table.len();
    indices
        .iter()
        .zip(scores.chunks_exact(per_answer))
        .map(|(&i, s)| {
            let q = &problems.questions[i];
            Ok(Answered {
                question: if problems.reversed {
                    q.chars().rev().collect()
                } else {
                    q.clone()
                },
                truth: problems.answers[i].clone(),
                guess: table.decode(s)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_as_the_keras_example_prints_them() {
        let right = Answered {
            question: "123+45 ".into(),
            truth: "168 ".into(),
            guess: "168 ".into(),
        };
        assert_eq!(right.line(), "Q 123+45  T 168  ☑ 168");
        let wrong = Answered {
            guess: "167 ".into(),
            ..right
        };
        assert_eq!(wrong.line(), "Q 123+45  T 168  ☒ 167");
    }

    #[test]
    fn picks_are_reproducible_and_change_with_the_epoch() {
        assert_eq!(pick(5000, 10, 42, 3), pick(5000, 10, 42, 3));
        assert_ne!(pick(5000, 10, 42, 3), pick(5000, 10, 42, 4));
        assert!(pick(7, 10, 1, 1).iter().all(|&i| i < 7));
        assert!(pick(0, 10, 1, 1).is_empty());
    }
}
