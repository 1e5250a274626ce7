//! `text_lstm`: a character-level LSTM language model, and sampling from it.

use clap::{Parser, Subcommand};
use models::{CommonArgs, text_lstm, with_backend};
use std::path::PathBuf;
use std::process::ExitCode;

/// Train a character-level LSTM language model (Keras' lstm_text_generation: windows
/// of 40 characters every 3, LSTM 128, Dense to the vocabulary; RMSprop lr 0.01, batch
/// 128) on any UTF-8 text, by default the bundled 251,000 characters of the Python
/// documentation. The last 10% of the text is held out; after every epoch it prints
/// the held-out loss in nats and bits per character and 400 generated characters at
/// temperatures 0.2, 0.5, 1.0 and 1.2 (also appended to samples.txt).
///
/// Writes metrics.jsonl, loss.png, accuracy.png, samples.txt, checkpoint.safetensors
/// and model.safetensors (with the vocabulary) into the run directory.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// A UTF-8 text file (raw or gzip) to learn instead of the bundled corpus.
    #[arg(long)]
    text: Option<PathBuf>,
    /// Characters generated per temperature after every epoch.
    #[arg(long, default_value_t = text_lstm::GENERATE, value_parser = models::cli::positive_usize)]
    sample_length: usize,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Export a trained model: ONNX (--onnx), PyTorch-layout weights (--pytorch), a
    /// batch of reference outputs (--reference).
    Export(models::export::ExportArgs),
    /// Generate text from a trained model.
    Sample {
        /// A run's checkpoint.safetensors or model.safetensors.
        #[arg(long)]
        checkpoint: PathBuf,
        /// The text to continue (its last 40 characters are the first window; shorter
        /// ones are padded with spaces on the left).
        #[arg(long)]
        seed_text: String,
        /// Characters to generate.
        #[arg(long, default_value_t = 400, value_parser = models::cli::positive_usize)]
        length: usize,
        /// Sampling temperature: low is conservative, high is inventive.
        #[arg(long, default_value_t = 0.5, value_parser = models::cli::positive_f32)]
        temperature: f32,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Export(args)) => {
            return models::export::run_cli("text_lstm", args, models::export::text_lstm);
        }
        Some(Command::Sample {
            checkpoint,
            seed_text,
            length,
            temperature,
        }) => with_backend!(cli.common.backend, be => text_lstm::sample(
            &be, checkpoint, seed_text, *length, *temperature, cli.common.seed
        ))
        .map(|text| println!("{seed_text}{text}")),
        None => with_backend!(cli.common.backend, be => text_lstm::train(be, &cli.common, cli.text.as_deref(), cli.sample_length))
            .map(|r| {
                let bits = r.validation.get("bits_per_char").unwrap_or(f64::NAN);
                println!(
                    "held-out text: loss {:.4} nats, {bits:.4} bits per character, next-character accuracy {:.2}%",
                    r.validation.get("loss").unwrap_or(f64::NAN),
                    100.0 * r.validation.get("accuracy").unwrap_or(f64::NAN)
                );
                eprintln!(
                    "text_lstm: {} steps, {:.1} s ({:.1} steps/s); run directory {}",
                    r.end.steps,
                    r.end.seconds,
                    r.end.steps_per_sec,
                    r.dir.display()
                );
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("text_lstm: error: {e}");
            ExitCode::FAILURE
        }
    }
}
