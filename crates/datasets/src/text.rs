//! Characters as class indices: a character table, one-hot encoding, and
//! (window, next character) training pairs for a character-level LSTM.

use std::collections::HashMap;

use crate::error::{DatasetError, Result};

/// A fixed alphabet: character `chars[i]` has index `i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharTable {
    chars: Vec<char>,
    index: HashMap<char, usize>,
}

impl CharTable {
    /// A table whose indices follow the order of `alphabet`; duplicates are refused.
    pub fn new(alphabet: &str) -> Result<CharTable> {
        let chars: Vec<char> = alphabet.chars().collect();
        let mut index = HashMap::with_capacity(chars.len());
        for (i, &c) in chars.iter().enumerate() {
            if index.insert(c, i).is_some() {
                return Err(DatasetError::invalid(format!(
                    "character {c:?} appears twice in the alphabet"
                )));
            }
        }
        if chars.is_empty() {
            return Err(DatasetError::invalid("empty alphabet"));
        }
        Ok(CharTable { chars, index })
    }

    /// The vocabulary of a corpus: its distinct characters, sorted.
    pub fn from_corpus(text: &str) -> Result<CharTable> {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        Self::new(&chars.into_iter().collect::<String>())
    }

    /// Number of characters.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Always false: a table has at least one character.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The characters in index order.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The index of `c`, if it is in the table.
    pub fn index_of(&self, c: char) -> Option<usize> {
        self.index.get(&c).copied()
    }

    /// The character at `i`, if any.
    pub fn char_at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    /// The index of every character of `text`; an unknown character is an error.
    pub fn to_indices(&self, text: &str) -> Result<Vec<usize>> {
        text.chars()
            .enumerate()
            .map(|(pos, c)| {
                self.index_of(c).ok_or_else(|| {
                    DatasetError::invalid(format!(
                        "character {c:?} at position {pos} is not in the table"
                    ))
                })
            })
            .collect()
    }

    /// The characters at `indices`; an index past the table is an error.
    pub fn from_indices(&self, indices: &[usize]) -> Result<String> {
        indices
            .iter()
            .map(|&i| {
                self.char_at(i).ok_or_else(|| {
                    DatasetError::invalid(format!(
                        "index {i} is past the {}-character table",
                        self.len()
                    ))
                })
            })
            .collect()
    }

    /// One-hot encodes `text` as `[maxlen, len()]` (row-major). `text` must have
    /// exactly `maxlen` characters: pad it first, as Keras does.
    pub fn encode(&self, text: &str, maxlen: usize) -> Result<Vec<f32>> {
        let ids = self.to_indices(text)?;
        if ids.len() != maxlen {
            return Err(DatasetError::invalid(format!(
                "{text:?} has {} characters, expected {maxlen}",
                ids.len()
            )));
        }
        Ok(self.one_hot(&ids))
    }

    /// One-hot encodes indices as `[indices.len(), len()]`; indices past the
    /// table give an all-zero row.
    pub fn one_hot(&self, indices: &[usize]) -> Vec<f32> {
        let n = self.len();
        let mut out = vec![0.0f32; indices.len() * n];
        for (row, &i) in indices.iter().enumerate() {
            if i < n {
                out[row * n + i] = 1.0;
            }
        }
        out
    }

    /// Decodes `[steps, len()]` scores (probabilities or one-hot) by taking the
    /// arg-max of each row; the first maximum wins ties.
    pub fn decode(&self, scores: &[f32]) -> Result<String> {
        let n = self.len();
        if !scores.len().is_multiple_of(n) {
            return Err(DatasetError::invalid(format!(
                "{} scores are not a whole number of rows of {n}",
                scores.len()
            )));
        }
        Ok(scores
            .chunks_exact(n)
            .map(|row| self.chars[argmax(row)])
            .collect())
    }
}

/// Index of the largest value (first on ties; NaN never wins).
pub fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] || row[best].is_nan() && !v.is_nan() {
            best = i;
        }
    }
    best
}

/// Training pairs for next-character prediction: row `k` of `inputs` is the
/// window `ids[k*step .. k*step + window]` and `targets[k]` the id after it
/// (the Keras `lstm_text_generation` recipe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequencePairs {
    /// `[count, window]` token ids, row-major.
    pub inputs: Vec<usize>,
    /// `[count]` next-token ids.
    pub targets: Vec<usize>,
    pub window: usize,
    pub count: usize,
}

impl SequencePairs {
    /// Cuts windows of `window` ids every `step` ids; the last window must still
    /// have a next id after it.
    pub fn new(ids: &[usize], window: usize, step: usize) -> Result<SequencePairs> {
        if window == 0 || step == 0 {
            return Err(DatasetError::invalid(format!(
                "window ({window}) and step ({step}) must be positive"
            )));
        }
        let mut inputs = Vec::new();
        let mut targets = Vec::new();
        let mut start = 0;
        while start + window < ids.len() {
            inputs.extend_from_slice(&ids[start..start + window]);
            targets.push(ids[start + window]);
            start += step;
        }
        Ok(SequencePairs {
            count: targets.len(),
            inputs,
            targets,
            window,
        })
    }

    /// The window of pair `k`.
    pub fn input(&self, k: usize) -> Option<&[usize]> {
        self.inputs.get(k * self.window..(k + 1) * self.window)
    }

    /// Inputs one-hot, `[count, window, vocab]`.
    pub fn inputs_one_hot(&self, table: &CharTable) -> Vec<f32> {
        table.one_hot(&self.inputs)
    }

    /// Targets one-hot, `[count, vocab]`.
    pub fn targets_one_hot(&self, table: &CharTable) -> Vec<f32> {
        table.one_hot(&self.targets)
    }
}

/// The bundled corpus: 251,055 characters of the Python documentation (PSF licence;
/// see `data/NOTICE`), gzip-compressed.
static BUNDLED_CORPUS: &[u8] = include_bytes!("../data/python-docs-topics.txt.gz");
/// Name of the bundled corpus in messages.
pub const BUNDLED_CORPUS_NAME: &str = "python-docs-topics.txt.gz";

/// The bundled text corpus (real prose, the Python documentation's topics; see
/// `data/NOTICE` for its source and licence), for the character language model.
pub fn bundled_corpus() -> Result<String> {
    let path = std::path::Path::new("<bundled>").join(BUNDLED_CORPUS_NAME);
    let bytes = crate::fileio::decompress_if_gzip(BUNDLED_CORPUS.to_vec(), &path)?;
    String::from_utf8(bytes)
        .map_err(|e| DatasetError::invalid(format!("{}: not UTF-8: {e}", path.display())))
}

/// Reads a UTF-8 text file (raw or gzip) as a corpus: an empty file, or one that is
/// not UTF-8, is an error naming the file (and, for bad UTF-8, the byte offset).
pub fn read_corpus(path: &std::path::Path) -> Result<String> {
    let bytes = crate::fileio::read_maybe_gzip(path)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        DatasetError::invalid(format!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })?;
    if text.is_empty() {
        return Err(DatasetError::invalid(format!(
            "{}: the file is empty",
            path.display()
        )));
    }
    Ok(text)
}

/// A short text written for this project (public domain), for trying the
/// character LSTM without any download. Longer texts train better.
pub const SAMPLE_TEXT: &str = "\
The lighthouse keeper kept a notebook of small things. On Monday the wind came from the west \
and the gulls sat low on the rocks. On Tuesday the wind turned and the boats stayed in the \
harbour, rocking on their ropes like sleepy horses. On Wednesday a child walked along the \
shore and counted the stones, one, two, three, and lost count at forty and began again.

Every evening the keeper climbed the stairs, one hundred and twelve of them, and lit the lamp. \
The light went round and round over the water, and the ships that saw it knew where the rocks \
were and where the harbour was. Nobody thanked the light, and the light did not mind.

In winter the sea grew loud and grey. Waves broke over the wall and left salt on the windows. \
The keeper wrote: the sea is loud today; the lamp is bright; the tea is hot. In spring the sea \
grew quiet and green, and the keeper wrote: the sea is quiet today; the lamp is bright; the \
tea is hot. Some things change with the seasons and some things do not.

One night a small boat lost its way in the fog. The sailor could not see the stars or the \
shore. Then, far away, a light turned slowly, round and round, and the sailor smiled and \
steered for home. In the morning the keeper wrote in the notebook: fog in the night; one boat \
came home; the lamp is bright; the tea is hot.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_corpus_is_real_prose_of_its_notice() {
        let text = bundled_corpus().unwrap();
        // The figures of data/NOTICE.
        assert_eq!(text.chars().count(), 251_055);
        assert!(text.starts_with("The \"assert\" statement"));
        // Mostly words: spaces and letters dominate.
        let letters = text
            .chars()
            .filter(|c| c.is_alphabetic() || *c == ' ')
            .count();
        assert!(letters * 10 > text.len() * 7, "{letters} of {}", text.len());
    }

    #[test]
    fn corpus_files_that_are_empty_or_not_utf8_are_named() {
        let dir = std::env::temp_dir().join(format!("corpus-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.txt");
        std::fs::write(&empty, b"").unwrap();
        let err = read_corpus(&empty).unwrap_err().to_string();
        assert!(err.contains("empty.txt") && err.contains("empty"), "{err}");
        let latin1 = dir.join("latin1.txt");
        std::fs::write(&latin1, b"caf\xe9 au lait").unwrap();
        let err = read_corpus(&latin1).unwrap_err().to_string();
        assert!(
            err.contains("latin1.txt") && err.contains("UTF-8") && err.contains("offset 3"),
            "{err}"
        );
        let good = dir.join("good.txt");
        std::fs::write(&good, "héllo").unwrap();
        assert_eq!(read_corpus(&good).unwrap(), "héllo");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn corpus_vocabulary_is_sorted_unique() {
        let t = CharTable::from_corpus("hello world").unwrap();
        assert_eq!(t.chars(), &[' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
        assert_eq!(t.to_indices("held").unwrap(), vec![3, 2, 4, 1]);
        assert_eq!(t.from_indices(&[7, 5, 6, 4, 1]).unwrap(), "world");
        assert!(t.to_indices("x").is_err());
        assert!(t.from_indices(&[8]).is_err());
    }

    #[test]
    fn pairs_by_hand() {
        // ids 0..6, window 3, step 2: windows at 0 and 2 (start 4 would need id 7).
        let ids: Vec<usize> = (0..7).collect();
        let p = SequencePairs::new(&ids, 3, 2).unwrap();
        assert_eq!(p.count, 2);
        assert_eq!(p.inputs, vec![0, 1, 2, 2, 3, 4]);
        assert_eq!(p.targets, vec![3, 5]);
        assert_eq!(p.input(1), Some(&[2usize, 3, 4][..]));
        // Start 4 has window 4,5,6 and needs id 7: not there.
        assert_eq!(SequencePairs::new(&ids, 7, 1).unwrap().count, 0);
        assert!(SequencePairs::new(&ids, 0, 1).is_err());
    }

    #[test]
    fn argmax_ties_and_nan() {
        assert_eq!(argmax(&[0.1, 0.7, 0.7]), 1);
        assert_eq!(argmax(&[f32::NAN, 0.2, 0.1]), 1);
    }

    #[test]
    fn sample_text_is_ascii_and_long_enough() {
        assert!(SAMPLE_TEXT.is_ascii());
        assert!(SAMPLE_TEXT.len() > 1000);
        let t = CharTable::from_corpus(SAMPLE_TEXT).unwrap();
        assert!(t.len() > 20);
    }
}
