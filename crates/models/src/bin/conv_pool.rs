//! `conv_pool`: the Conv2D / MaxPool2D worked example of SEEDS.md section 4.

use clap::Parser;
use models::{BackendKind, conv_pool, with_backend};
use std::path::PathBuf;
use std::process::ExitCode;

/// Print the Conv2D and MaxPool2D worked example (SEEDS.md section 4), computed with
/// the framework's own ops.
///
/// A 6x6 image and a 3x3 filter that picks out top-left to bottom-right diagonals
/// (NHWC input [1, 6, 6, 1], HWIO filter [3, 3, 1, 1]): the VALID convolution with
/// stride 1 (4x4), its 2x2 max pool with stride 2 (2x2), the SAME convolution (6x6,
/// zero padding of one cell on every side) and the 2x2 average pool of the VALID output,
/// printed as tables.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Device to compute on.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: BackendKind,
    /// Also draw the maps (image, filter, VALID, max pool, SAME, average pool) side by
    /// side into this PNG file: grey cells from black (the map's minimum) to white (its
    /// maximum) with their values, and each map's grey scale. Written atomically; an
    /// existing file is refused unless --overwrite is given.
    #[arg(long, value_name = "FILE")]
    png: Option<PathBuf>,
    /// Replace the --png file if it already exists.
    #[arg(long, requires = "png")]
    overwrite: bool,
}

fn run(cli: &Cli) -> train::Result<()> {
    // Refuse the picture's path before computing anything.
    if let Some(png) = &cli.png {
        models::cli::check_output("--png", png, cli.overwrite)?;
    }
    let maps = with_backend!(cli.backend, be => conv_pool::compute(&be))?;
    print!("{}", maps.to_text());
    if let Some(png) = &cli.png {
        maps.write_png(png, cli.overwrite)?;
        eprintln!("wrote {}", png.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conv_pool: error: {e}");
            ExitCode::FAILURE
        }
    }
}
