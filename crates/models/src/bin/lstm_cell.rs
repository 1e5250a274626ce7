//! `lstm_cell`: one LSTM step (TensorFlow BasicLSTMCell) worked through on `--backend`.

use clap::Parser;
use models::{BackendKind, lstm_cell, with_backend};
use std::process::ExitCode;
use tensor::Backend;

/// Work through one LSTM step (SEEDS.md section 3, TensorFlow's BasicLSTMCell) on small
/// fixed numbers: x_t (2 features), h_{t-1} and c_{t-1} (2 units), their concatenation,
/// W (4 x 8) and b, the four gate blocks i, j, f, o, then
/// c_t = c_{t-1} sigmoid(f + 1) + sigmoid(i) tanh(j) and h_t = tanh(c_t) sigmoid(o),
/// computed on the chosen backend with the framework's fused LSTM cell op.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Device to run on.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: BackendKind,
}

fn run<B: Backend>(be: B) -> train::Result<String> {
    let step = lstm_cell::step(&be, &lstm_cell::CellInputs::default())?;
    Ok(lstm_cell::table(&step, &be.name()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match with_backend!(cli.backend, be => run(be)) {
        Ok(table) => {
            print!("{table}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lstm_cell: error: {e}");
            ExitCode::FAILURE
        }
    }
}
