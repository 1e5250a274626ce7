//! `text_lstm`: a character-level LSTM language model (SEEDS.md section 7), Keras'
//! `lstm_text_generation` example.
//!
//! Windows of 40 characters every 3 characters of the text, one-hot, predict the next
//! character (many-to-one): LSTM(128) -> Dense(vocabulary) logits; RMSprop lr 0.01,
//! batch 128. After every epoch it generates 400 characters at temperatures 0.2, 0.5,
//! 1.0 and 1.2 from a window of the held-out text, sampling each next character from
//! the model's distribution and feeding it back (the window slides, as in Keras). The
//! last 10% of the text is held out: its loss in nats and bits per character is
//! reported every epoch.

use crate::cli::CommonArgs;
use crate::supervised::{configure, print_summary};
use datasets::CharTable;
use nn::{Checkpoint, Dense, Lstm, Mode, Module, RmsProp, Seeds, Sequential};
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use tensor::{Backend, Tensor, no_grad};
use train::{
    Accuracy, Batch, Control, Dataset, Error, Fit, FitContext, FitEnd, Length, Logs, Metric,
    OnEpoch, Predictions, Result,
};

/// The model's name in checkpoints.
pub const NAME: &str = "text_lstm";
/// Characters a window holds (Keras' `maxlen`).
pub const WINDOW: usize = 40;
/// Characters between the starts of two training windows (Keras' `step`).
pub const STEP: usize = 3;
pub const UNITS: usize = 128;
pub const DEFAULT_BATCH: usize = 128;
pub const DEFAULT_LR: f32 = 0.01;
pub const DEFAULT_EPOCHS: u64 = 5;
/// Share of the text, at its end, held out.
pub const HOLDOUT: f64 = 0.1;
/// Characters generated per temperature after every epoch (`--sample-length`).
pub const GENERATE: usize = 400;
/// The temperatures of the samples.
pub const TEMPERATURES: [f32; 4] = [0.2, 0.5, 1.0, 1.2];

/// The network for a vocabulary of `vocab` characters.
pub fn network<B: Backend>(be: &B, vocab: usize, seed: u64) -> Result<Sequential<B>> {
    let mut seeds = Seeds::new(seed);
    Ok(Sequential::new()
        .add(Lstm::new(be, vocab, UNITS, &mut seeds)?)
        .add(Dense::new(be, UNITS, vocab, &mut seeds)?))
}

/// Windows of a text as one-hot inputs, each labelled with the character after it.
pub struct TextWindows {
    ids: Vec<usize>,
    starts: Vec<usize>,
    vocab: usize,
}

impl TextWindows {
    /// Windows of [`WINDOW`] characters every `step` characters of `ids`.
    pub fn new(ids: Vec<usize>, vocab: usize, step: usize) -> Self {
        let starts = (0..)
            .map(|k| k * step.max(1))
            .take_while(|s| s + WINDOW < ids.len())
            .collect();
        TextWindows { ids, starts, vocab }
    }
}

impl Dataset for TextWindows {
    fn len(&self) -> usize {
        self.starts.len()
    }

    fn input_shape(&self) -> Vec<usize> {
        vec![WINDOW, self.vocab]
    }

    fn batch(&self, indices: &[usize], _augment: Option<u64>) -> Result<Batch> {
        let mut inputs = vec![0.0; indices.len() * WINDOW * self.vocab];
        let mut labels = Vec::with_capacity(indices.len());
        for (b, &k) in indices.iter().enumerate() {
            let start = *self.starts.get(k).ok_or_else(|| {
                Error::argument("text windows", format!("no window {k} of {}", self.len()))
            })?;
            for (t, &id) in self.ids[start..start + WINDOW].iter().enumerate() {
                inputs[(b * WINDOW + t) * self.vocab + id] = 1.0;
            }
            labels.push(self.ids[start + WINDOW]);
        }
        Ok(Batch { inputs, labels })
    }
}

/// Cross-entropy of the next character in bits (base 2), averaged over characters:
/// the loss in nats divided by ln 2.
#[derive(Clone, Copy, Debug, Default)]
pub struct BitsPerChar {
    bits: f64,
    count: f64,
}

impl Metric for BitsPerChar {
    fn name(&self) -> String {
        "bits_per_char".into()
    }
    fn update(&mut self, p: &Predictions) {
        for (i, &label) in p.labels.iter().enumerate() {
            let row = p.row(i);
            let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
            let sum: f64 = row.iter().map(|&x| (x as f64 - max).exp()).sum();
            let log_p = row[label] as f64 - max - sum.ln();
            self.bits -= log_p / std::f64::consts::LN_2;
            self.count += 1.0;
        }
    }
    fn result(&self) -> f64 {
        if self.count > 0.0 {
            self.bits / self.count
        } else {
            0.0
        }
    }
    fn reset(&mut self) {
        *self = BitsPerChar::default();
    }
    fn state(&self) -> Vec<f64> {
        vec![self.bits, self.count]
    }
    fn set_state(&mut self, state: &[f64]) -> Result<()> {
        match state {
            [b, c] if b.is_finite() && c.is_finite() && *c >= 0.0 => {
                self.bits = *b;
                self.count = *c;
                Ok(())
            }
            _ => Err(Error::argument(
                "checkpoint",
                format!("bad state {state:?} of metric bits_per_char"),
            )),
        }
    }
    fn fresh(&self) -> Box<dyn Metric> {
        Box::new(BitsPerChar::default())
    }
}

/// Samples an index from `softmax(logits / temperature)`.
pub fn sample_index(logits: &[f32], temperature: f32, rng: &mut impl Rng) -> usize {
    let t = temperature.max(1e-6) as f64;
    let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
    let weights: Vec<f64> = logits
        .iter()
        .map(|&x| ((x as f64 - max) / t).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let mut r = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if r < *w {
            return i;
        }
        r -= w;
    }
    weights.len() - 1
}

/// `length` characters generated after `seed` (its last [`WINDOW`] characters, padded
/// on the left with spaces when shorter) at `temperature`.
pub fn generate<B: Backend>(
    be: &B,
    model: &Sequential<B>,
    table: &CharTable,
    seed: &str,
    length: usize,
    temperature: f32,
    rng: &mut impl Rng,
) -> Result<String> {
    let vocab = table.len();
    let mut ids = table.to_indices(seed)?;
    if ids.len() < WINDOW {
        let space = table.index_of(' ').ok_or_else(|| {
            Error::argument(
                "--seed-text",
                format!(
                    "shorter than {WINDOW} characters and the vocabulary has no space to pad it"
                ),
            )
        })?;
        let mut padded = vec![space; WINDOW - ids.len()];
        padded.extend(ids);
        ids = padded;
    }
    let mut out = Vec::with_capacity(length);
    for _ in 0..length {
        let window = &ids[ids.len() - WINDOW..];
        let mut x = vec![0.0; WINDOW * vocab];
        for (t, &id) in window.iter().enumerate() {
            x[t * vocab + id] = 1.0;
        }
        let x = Tensor::from_vec(be, x, [1, WINDOW, vocab])?;
        let logits = no_grad(|| model.forward(&x, Mode::Eval)?.to_vec())?;
        let next = sample_index(&logits, temperature, rng);
        ids.push(next);
        out.push(next);
    }
    Ok(table.from_indices(&out)?)
}

/// The text of a run: `--text FILE` or the bundled corpus, checked to hold a window
/// of training and of held-out text.
pub fn load_text(path: Option<&Path>) -> Result<(String, String)> {
    let (text, name) = match path {
        Some(p) => (datasets::read_corpus(p)?, p.display().to_string()),
        None => (
            datasets::bundled_corpus()?,
            datasets::text::BUNDLED_CORPUS_NAME.to_string(),
        ),
    };
    let chars = text.chars().count();
    // Both parts need one window and the character after it.
    let need = ((WINDOW + 1) as f64 / HOLDOUT).ceil() as usize;
    if chars < need {
        return Err(Error::argument(
            "--text",
            format!(
                "{name}: {chars} characters; a run needs at least {need} (a window of \
                 {WINDOW} and the next character in the held-out last 10%)"
            ),
        ));
    }
    Ok((text, name))
}

/// What a run reports.
pub struct TextReport {
    pub dir: PathBuf,
    pub end: FitEnd,
    /// Held-out figures after the run (`loss` in nats, `bits_per_char`, `accuracy`).
    pub validation: Logs,
}

/// Trains as the binary does.
pub fn train<B: Backend>(
    be: B,
    args: &CommonArgs,
    text_path: Option<&Path>,
    sample_length: usize,
) -> Result<TextReport> {
    let (text, name) = load_text(text_path)?;
    let table = CharTable::from_corpus(&text)?;
    let ids = table.to_indices(&text)?;
    let split = ids.len() - (ids.len() as f64 * HOLDOUT).round() as usize;
    let train_set = TextWindows::new(ids[..split].to_vec(), table.len(), STEP);
    let val_set = TextWindows::new(ids[split..].to_vec(), table.len(), STEP);
    let vocabulary: String = table.chars().iter().collect();
    let model = network(&be, table.len(), args.seed)?;
    print_summary(&model, &be, &[WINDOW, table.len()])?;
    let mut opt = RmsProp::new(args.lr.unwrap_or(DEFAULT_LR));
    let seed = args.seed;
    let val_ids = ids[split..].to_vec();
    let generate_after = OnEpoch(|ctx: &mut FitContext<B>, logs: &Logs| {
        let bits = logs.get("val_bits_per_char").unwrap_or(f64::NAN);
        println!(
            "epoch {}: validation loss {:.4} nats, {bits:.4} bits per character",
            ctx.epoch,
            logs.get("val_loss").unwrap_or(f64::NAN)
        );
        let mut rng = rand::rngs::StdRng::seed_from_u64(Seeds::new(seed ^ ctx.epoch).next());
        let start = rng.random_range(0..val_ids.len() - WINDOW);
        let seed_text = table.from_indices(&val_ids[start..start + WINDOW])?;
        let mut report = format!("----- epoch {}, seed: {seed_text:?}\n", ctx.epoch);
        for t in TEMPERATURES {
            let s = generate(
                ctx.backend,
                &model,
                &table,
                &seed_text,
                sample_length,
                t,
                &mut rng,
            )?;
            report += &format!("----- temperature {t}\n{seed_text}{s}\n");
        }
        println!("{report}");
        if let Some(dir) = ctx.dir {
            append(&dir.join("samples.txt"), &report)?;
        }
        Ok(Control::Continue)
    });
    let mut fit = configure(
        Fit::new(NAME, &be, &model, &mut opt),
        args,
        Length::Epochs(DEFAULT_EPOCHS),
        DEFAULT_BATCH,
    )
    .metric(Accuracy::default())
    .metric(BitsPerChar::default())
    .setting("vocabulary", &vocabulary)
    .setting("text", &name)
    .callback(generate_after);
    let dir = fit.open_run(&args.run_options())?;
    eprintln!(
        "{NAME}: backend {}, {name}: {} characters, vocabulary of {}, {} training windows, \
         {} held-out, run directory {}",
        be.name(),
        ids.len(),
        table.len(),
        train_set.len(),
        val_set.len(),
        dir.display()
    );
    let end = fit.run(&train_set, Some(&val_set), &dir)?;
    let validation = fit.evaluate(&val_set)?;
    drop(fit);
    Ok(TextReport {
        dir: dir.path().to_path_buf(),
        end,
        validation,
    })
}

/// Appends `text` to `path` (the samples of a run, epoch after epoch).
fn append(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Error::io(path, e))
}

/// `text_lstm sample`: `length` characters after `seed_text` at `temperature`, from a
/// run's `checkpoint.safetensors` or `model.safetensors` (both record the vocabulary).
pub fn sample<B: Backend>(
    be: &B,
    checkpoint: &Path,
    seed_text: &str,
    length: usize,
    temperature: f32,
    seed: u64,
) -> Result<String> {
    let ck = Checkpoint::load(checkpoint)?;
    if ck.metadata.get(train::MODEL_KEY).map(String::as_str) != Some(NAME) {
        return Err(Error::argument(
            "--checkpoint",
            format!("{}: not written by a text_lstm run", checkpoint.display()),
        ));
    }
    let vocabulary = ck.metadata.get("setting.vocabulary").ok_or_else(|| {
        Error::argument(
            "--checkpoint",
            format!("{}: records no vocabulary", checkpoint.display()),
        )
    })?;
    let table = CharTable::new(vocabulary)?;
    let model = network(be, table.len(), 0)?;
    train::load_weights(&model, be, checkpoint)?;
    if seed_text.is_empty() {
        return Err(Error::argument(
            "--seed-text",
            "give at least one character",
        ));
    }
    if let Some(c) = seed_text.chars().find(|&c| table.index_of(c).is_none()) {
        return Err(Error::argument(
            "--seed-text",
            format!(
                "{c:?} is not in the model's vocabulary of {} characters",
                table.len()
            ),
        ));
    }
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(Error::argument(
            "--temperature",
            format!("{temperature} must be a finite number above 0"),
        ));
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    generate(be, &model, &table, seed_text, length, temperature, &mut rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_by_hand() {
        // 45 ids, windows of 40 every 3: starts 0 and 3 (3 + 40 < 45; 6 + 40 is not).
        let ids: Vec<usize> = (0..45).map(|i| i % 5).collect();
        let w = TextWindows::new(ids, 5, 3);
        assert_eq!(w.len(), 2);
        let b = w.batch(&[1], None).unwrap();
        // Window 1 starts at id 3 (3 % 5 = 3); its label is ids[43] = 3.
        assert_eq!(b.labels, vec![3]);
        assert_eq!(b.inputs[3], 1.0);
        assert_eq!(b.inputs.iter().sum::<f32>(), 40.0);
        assert!(w.batch(&[2], None).is_err());
    }

    #[test]
    fn bits_per_char_by_hand() {
        // Uniform scores over 4 classes: 2 bits; a row with p(label) = e/(e+3) is
        // log2((e+3)/e) = 1.1047 bits.
        let mut m = BitsPerChar::default();
        let e = std::f64::consts::E;
        m.update(&Predictions {
            outputs: &[0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
            classes: 4,
            labels: &[2, 0],
            examples: 2,
        });
        let want = (2.0 + ((e + 3.0) / e).log2()) / 2.0;
        assert!((m.result() - want).abs() < 1e-6, "{}", m.result());
    }

    #[test]
    fn sampling_follows_the_temperature() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        // Scores 1 and 0: p = e/(1+e) = 0.731 at T = 1; at T = 0.2, e^5/(1+e^5) = 0.9933.
        let draws = 20_000;
        for (t, p) in [(1.0f32, 0.7310586), (0.2, 0.9933071)] {
            let hits = (0..draws)
                .filter(|_| sample_index(&[1.0, 0.0], t, &mut rng) == 0)
                .count();
            let share = hits as f64 / draws as f64;
            assert!((share - p).abs() < 0.01, "T {t}: {share} vs {p}");
        }
    }
}
