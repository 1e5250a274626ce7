//! How robust the generative models' default recipes are: `gan` and `acgan` with no
//! arguments but the seed, over several seeds, each scored as the binaries score
//! their export (the cached project classifier).
//!
//! `cargo run --release -p models --example seed_study -- [gan|acgan|both] [SEED ...]`
//! (defaults: both, seeds 42 1 2). Runs go to `runs/seed_study/<model>-seed<seed>/`
//! (replaced when they exist); the table is printed and written to
//! `runs/seed_study/<model>.md` and `.json`: training time, iterations per second, IS,
//! the share of confident classifications and, for the ACGAN, class fidelity overall
//! and for each digit.

use clap::Parser;
use models::CommonArgs;
use models::classifier::{CLASSIFIER_PATH, format_per_class, score_idx};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
struct Wrap {
    #[command(flatten)]
    common: CommonArgs,
}

/// The binary's defaults with this seed and run directory.
fn defaults(seed: u64, out: &Path) -> CommonArgs {
    let seed = seed.to_string();
    let args = [
        "seed_study",
        "--seed",
        &seed,
        "--quiet",
        "--overwrite",
        "--out",
    ];
    let mut argv: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    argv.push(out.into());
    Wrap::parse_from(argv).common
}

struct Row {
    seed: u64,
    seconds: f64,
    steps_per_sec: f64,
    score: models::classifier::SampleScore,
}

fn run_one(model: &str, seed: u64) -> train::Result<Row> {
    let out = PathBuf::from(format!("runs/seed_study/{model}-seed{seed}"));
    let args = defaults(seed, &out);
    let start = Instant::now();
    let (dir, steps_per_sec, labels) = match model {
        "gan" => {
            let r = models::gan::run::train_default(backend_cpu::Cpu, &args)?;
            (r.dir, r.steps_per_sec, None)
        }
        _ => {
            let opts = models::acgan::run::AcganOptions::default();
            let r = models::acgan::run::train(backend_cpu::Cpu, &args, &opts)?;
            let labels = r.dir.join("samples-labels.idx1-ubyte");
            (r.dir, r.steps_per_sec, Some(labels))
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let score = score_idx(
        &dir.join("samples.idx3-ubyte"),
        labels.as_deref(),
        Path::new(CLASSIFIER_PATH),
    )?;
    Ok(Row {
        seed,
        seconds,
        steps_per_sec,
        score,
    })
}

fn table(model: &str, rows: &[Row]) -> String {
    let mut t = format!(
        "| {model} seed | training s | it/s | IS | confident > 0.9 | class-faithful | by digit |\n|---|---|---|---|---|---|---|\n"
    );
    for r in rows {
        let s = &r.score;
        t += &format!(
            "| {} | {:.0} | {:.1} | {:.2} | {:.1}% | {} | {} |\n",
            r.seed,
            r.seconds,
            r.steps_per_sec,
            s.inception_score,
            100.0 * s.confident,
            s.class_faithful
                .map_or("-".into(), |f| format!("{:.1}%", 100.0 * f)),
            s.class_faithful_per_class
                .as_ref()
                .map_or("-".into(), format_per_class),
        );
    }
    t
}

fn main() -> ExitCode {
    backend_cpu::join_thread_pool();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let which = match args.first().map(String::as_str) {
        Some("gan") | Some("acgan") | Some("both") => args.remove(0),
        _ => "both".into(),
    };
    let seeds: Vec<u64> = if args.is_empty() {
        vec![42, 1, 2]
    } else {
        match args.iter().map(|s| s.parse()).collect() {
            Ok(s) => s,
            Err(_) => {
                eprintln!("usage: seed_study [gan|acgan|both] [SEED ...]");
                return ExitCode::FAILURE;
            }
        }
    };
    let models: &[&str] = match which.as_str() {
        "gan" => &["gan"],
        "acgan" => &["acgan"],
        _ => &["gan", "acgan"],
    };
    for model in models {
        let mut rows = Vec::new();
        for &seed in &seeds {
            eprintln!("seed_study: {model} seed {seed} ...");
            match run_one(model, seed) {
                Ok(row) => {
                    rows.push(row);
                    println!("{}", table(model, &rows));
                }
                Err(e) => {
                    eprintln!("seed_study: {model} seed {seed}: error: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        let json: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "seed": r.seed,
                    "seconds": r.seconds,
                    "steps_per_sec": r.steps_per_sec,
                    "inception_score": r.score.inception_score,
                    "confident": r.score.confident,
                    "class_faithful": r.score.class_faithful,
                    "class_faithful_per_class": r.score.class_faithful_per_class.map(|p| p.to_vec()),
                })
            })
            .collect();
        let base = Path::new("runs/seed_study");
        let written = std::fs::write(base.join(format!("{model}.md")), table(model, &rows))
            .and_then(|()| {
                std::fs::write(
                    base.join(format!("{model}.json")),
                    serde_json::to_string_pretty(&json).unwrap_or_default(),
                )
            });
        if let Err(e) = written {
            eprintln!(
                "seed_study: cannot write the summary under {}: {e}",
                base.display()
            );
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
