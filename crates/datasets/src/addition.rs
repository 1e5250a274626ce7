//! The Keras `addition_rnn` data: unique questions like `"123+45"` and their
//! answers, as padded strings and one-hot tensors over the alphabet `"0123456789+ "`.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::error::{DatasetError, Result};
use crate::text::CharTable;

/// The 12 characters of the addition task; a character's index is its position here.
pub const ADDITION_ALPHABET: &str = "0123456789+ ";

/// Largest `digits` supported (sums must fit comfortably in `u64`).
pub const MAX_DIGITS: usize = 9;

/// Generating more than this many problems is refused (memory, not arithmetic).
const MAX_COUNT: u64 = 100_000_000;

/// The character table of [`ADDITION_ALPHABET`].
pub fn addition_table() -> CharTable {
    CharTable::new(ADDITION_ALPHABET).expect("the addition alphabet has no duplicate")
}

/// Unique addition problems. Two questions are the same when they add the same
/// two numbers in either order (Keras keys its `seen` set on the sorted pair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdditionProblems {
    /// Questions padded with spaces to `2*digits + 1` characters, then reversed
    /// when `reversed` is set (`"12+3   "` becomes `"   3+21"`).
    pub questions: Vec<String>,
    /// Answers padded with spaces to `digits + 1` characters (never reversed).
    pub answers: Vec<String>,
    /// The two numbers of each question, in the order they are written.
    pub operands: Vec<(u64, u64)>,
    pub digits: usize,
    pub reversed: bool,
}

impl AdditionProblems {
    /// `count` unique problems with operands of 1..=`digits` digits, reproducible
    /// from `seed`. Errors when `count` exceeds [`AdditionProblems::max_unique`].
    ///
    /// Operands are drawn as Keras draws them: a length in `1..=digits`, then that
    /// many random digits (so `"007"` is 7).
    pub fn generate(count: usize, digits: usize, seed: u64, reverse: bool) -> Result<Self> {
        if digits == 0 || digits > MAX_DIGITS {
            return Err(DatasetError::invalid(format!(
                "digits must be in 1..={MAX_DIGITS}, got {digits}"
            )));
        }
        let total = Self::max_unique(digits);
        if count as u64 > total {
            return Err(DatasetError::invalid(format!(
                "{count} unique questions requested, but only {total} exist with up to {digits} digits"
            )));
        }
        if count as u64 > MAX_COUNT {
            return Err(DatasetError::invalid(format!(
                "{count} questions requested; at most {MAX_COUNT} are generated"
            )));
        }
        let mut rng = StdRng::seed_from_u64(seed);
        // Rejection sampling slows down as the set fills up; past half of all
        // pairs, shuffling the full list is both faster and sure to finish.
        let operands = if count as u64 * 2 > total {
            all_pairs_shuffled(count, digits, &mut rng)
        } else {
            sample_pairs(count, digits, &mut rng)
        };
        Ok(Self::from_operands(operands, digits, reverse))
    }

    /// Number of distinct unordered pairs of numbers below `10^digits`:
    /// `n (n + 1) / 2` with `n = 10^digits` (500,500 for 3 digits).
    pub fn max_unique(digits: usize) -> u64 {
        let n = 10u64.pow(digits.min(MAX_DIGITS) as u32);
        n * (n + 1) / 2
    }

    /// Builds the padded strings for given operand pairs (no uniqueness check).
    pub fn from_operands(operands: Vec<(u64, u64)>, digits: usize, reverse: bool) -> Self {
        let qlen = question_len(digits);
        let alen = answer_len(digits);
        let mut questions = Vec::with_capacity(operands.len());
        let mut answers = Vec::with_capacity(operands.len());
        for &(a, b) in &operands {
            let q = format!("{:<qlen$}", format!("{a}+{b}"));
            questions.push(if reverse {
                q.chars().rev().collect()
            } else {
                q
            });
            answers.push(format!("{:<alen$}", a + b));
        }
        AdditionProblems {
            questions,
            answers,
            operands,
            digits,
            reversed: reverse,
        }
    }

    /// Number of problems.
    pub fn len(&self) -> usize {
        self.questions.len()
    }

    /// True when there is no problem.
    pub fn is_empty(&self) -> bool {
        self.questions.is_empty()
    }

    /// Characters per question: `2*digits + 1` (MAXLEN, 7 for 3 digits).
    pub fn question_len(&self) -> usize {
        question_len(self.digits)
    }

    /// Characters per answer: `digits + 1` (4 for 3 digits).
    pub fn answer_len(&self) -> usize {
        answer_len(self.digits)
    }

    /// All questions one-hot: `[len, question_len, 12]`.
    pub fn encode_questions(&self) -> Vec<f32> {
        encode_all(&self.questions, self.question_len())
    }

    /// All answers one-hot: `[len, answer_len, 12]`.
    pub fn encode_answers(&self) -> Vec<f32> {
        encode_all(&self.answers, self.answer_len())
    }

    /// Question `i` as a person reads it: un-reversed, padding trimmed.
    pub fn question_text(&self, i: usize) -> Option<String> {
        let q = self.questions.get(i)?;
        let q: String = if self.reversed {
            q.chars().rev().collect()
        } else {
            q.clone()
        };
        Some(q.trim().to_string())
    }

    /// Splits off the last `holdout` fraction (rounded down) for validation,
    /// as Keras does with `holdout = 0.1`. Returns `(train, validation)`.
    pub fn split(&self, holdout: f64) -> Result<(Self, Self)> {
        if !(0.0..=1.0).contains(&holdout) {
            return Err(DatasetError::invalid(format!(
                "holdout must be in [0, 1], got {holdout}"
            )));
        }
        let val = (self.len() as f64 * holdout).floor() as usize;
        let cut = self.len() - val;
        let part = |range: std::ops::Range<usize>| AdditionProblems {
            questions: self.questions[range.clone()].to_vec(),
            answers: self.answers[range.clone()].to_vec(),
            operands: self.operands[range].to_vec(),
            digits: self.digits,
            reversed: self.reversed,
        };
        Ok((part(0..cut), part(cut..self.len())))
    }
}

/// `2*digits + 1`: two numbers and the plus sign.
pub fn question_len(digits: usize) -> usize {
    2 * digits + 1
}

/// `digits + 1`: a sum can carry one more digit.
pub fn answer_len(digits: usize) -> usize {
    digits + 1
}

fn encode_all(strings: &[String], maxlen: usize) -> Vec<f32> {
    let table = addition_table();
    let mut out = Vec::with_capacity(strings.len() * maxlen * table.len());
    for s in strings {
        // Generated strings only use the alphabet and have the right length.
        out.extend(
            table
                .encode(s, maxlen)
                .expect("generated strings fit the table"),
        );
    }
    out
}

/// A number of 1..=digits random digits, drawn as Keras draws it.
fn keras_number(digits: usize, rng: &mut StdRng) -> u64 {
    let len = rng.random_range(1..=digits);
    (0..len).fold(0u64, |acc, _| acc * 10 + rng.random_range(0..10u64))
}

fn sample_pairs(count: usize, digits: usize, rng: &mut StdRng) -> Vec<(u64, u64)> {
    let mut seen = HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let (a, b) = (keras_number(digits, rng), keras_number(digits, rng));
        if seen.insert((a.min(b), a.max(b))) {
            out.push((a, b));
        }
    }
    out
}

fn all_pairs_shuffled(count: usize, digits: usize, rng: &mut StdRng) -> Vec<(u64, u64)> {
    let n = 10u64.pow(digits as u32);
    let mut all = Vec::with_capacity(AdditionProblems::max_unique(digits) as usize);
    for a in 0..n {
        for b in a..n {
            all.push((a, b));
        }
    }
    all.shuffle(rng);
    all.truncate(count);
    for pair in &mut all {
        if rng.random_bool(0.5) {
            *pair = (pair.1, pair.0);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_and_reversal_by_hand() {
        let p = AdditionProblems::from_operands(vec![(12, 3), (999, 999)], 3, false);
        assert_eq!(p.questions, vec!["12+3   ", "999+999"]);
        assert_eq!(p.answers, vec!["15  ", "1998"]);
        let r = AdditionProblems::from_operands(vec![(12, 3)], 3, true);
        assert_eq!(r.questions, vec!["   3+21"]);
        assert_eq!(r.answers, vec!["15  "]);
        assert_eq!(r.question_text(0).unwrap(), "12+3");
    }

    #[test]
    fn max_unique_by_hand() {
        // One digit: numbers 0..9, unordered pairs with repeats = 10*11/2.
        assert_eq!(AdditionProblems::max_unique(1), 55);
        assert_eq!(AdditionProblems::max_unique(3), 500_500);
    }

    #[test]
    fn exhausting_all_pairs_finishes() {
        let p = AdditionProblems::generate(55, 1, 3, false).unwrap();
        let mut keys: Vec<_> = p
            .operands
            .iter()
            .map(|&(a, b)| (a.min(b), a.max(b)))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), 55);
        assert!(AdditionProblems::generate(56, 1, 3, false).is_err());
    }

    #[test]
    fn split_holds_out_ten_percent() {
        let p = AdditionProblems::generate(25, 2, 1, true).unwrap();
        let (train, val) = p.split(0.1).unwrap();
        assert_eq!((train.len(), val.len()), (23, 2));
        assert_eq!(val.questions[1], p.questions[24]);
    }
}
