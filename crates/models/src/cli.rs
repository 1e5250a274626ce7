//! Command-line options shared by every model binary.

use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Which device runs the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// The reference CPU backend (multi-threaded GEMM).
    Cpu,
    /// The GPU backend on wgpu (Vulkan, Metal, DX12 or GL; a software driver works too).
    Wgpu,
}

/// Options every training binary accepts.
#[derive(Args, Clone, Debug)]
pub struct CommonArgs {
    /// Device to run on.
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: BackendKind,
    /// Number of training steps (iterations, at least 1); overrides the model's default.
    #[arg(long, value_parser = positive_u64)]
    pub steps: Option<u64>,
    /// Number of passes over the training data (at least 1); converted to steps.
    #[arg(long, conflicts_with = "steps", value_parser = positive_u64)]
    pub epochs: Option<u64>,
    /// Examples per training step (at least 1); the model's default when omitted.
    #[arg(long, value_parser = positive_usize)]
    pub batch_size: Option<usize>,
    /// Learning rate (a finite number above 0); the model's default when omitted.
    #[arg(long, value_parser = positive_f32)]
    pub lr: Option<f32>,
    /// Seed for weights, noise, dropout and data order: the same seed gives the same run.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Directory of the data set's files under their standard names: MNIST's
    /// train-images-idx3-ubyte[.gz], ... (the bundled 10,000-digit subset when omitted);
    /// CIFAR-10's data_batch_1.bin .. data_batch_5.bin and test_batch.bin (cifar10_cnn).
    /// Not read by models that generate their own data.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Run directory for samples, metrics and checkpoints [default: runs/<model>/<timestamp>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue training from this checkpoint (weights, optimizer state and step count),
    /// in the checkpoint's own run directory unless --out names another.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Replace the run already in --out (its metrics, checkpoint and samples) instead of
    /// refusing to touch it.
    #[arg(long)]
    pub overwrite: bool,
    /// Save a sample grid every N steps (0: only at the end).
    #[arg(long)]
    pub sample_every: Option<u64>,
    /// Save a checkpoint every N steps (0: only at the end).
    #[arg(long, default_value_t = 1000)]
    pub checkpoint_every: u64,
    /// Append metrics to metrics.jsonl every N steps (at least 1).
    #[arg(long, default_value_t = 50, value_parser = positive_u64)]
    pub log_every: u64,
    /// No progress bar (for logs and CI); a line is printed every --log-every steps instead.
    #[arg(long)]
    pub quiet: bool,
}

/// `--steps` if given, else `--epochs` times the batches per epoch (checked), else the
/// model's default.
pub fn total_steps(args: &CommonArgs, per_epoch: u64, default: u64) -> train::Result<u64> {
    match (args.steps, args.epochs) {
        (Some(s), _) => Ok(s),
        (None, Some(e)) => e.checked_mul(per_epoch).ok_or_else(|| {
            train::Error::argument(
                "--epochs",
                format!("{e} epochs of {per_epoch} steps overflow a 64-bit step count"),
            )
        }),
        (None, None) => Ok(default),
    }
}

/// Refuses work whose memory would not fit: `bytes` is the estimate for `what`.
///
/// The limit is the memory the system says is available (`MemAvailable` of
/// `/proc/meminfo`), or 16 GiB where it does not say.
pub fn check_fits(what: &str, bytes: u128) -> train::Result<()> {
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u128>().ok())
        })
        .map_or(16 << 30, |kib| kib * 1024);
    if bytes > available {
        let gib = |b: u128| b as f64 / (1u128 << 30) as f64;
        return Err(train::Error::argument(
            "memory",
            format!(
                "{what} needs about {:.1} GiB, more than the {:.1} GiB available",
                gib(bytes),
                gib(available)
            ),
        ));
    }
    Ok(())
}

/// The picture written beside a `sample` command's IDX `output`: `<name>-grid.png` in
/// the same directory. Refused when `output` is itself a PNG (the IDX file would be
/// replaced by the picture) or when the picture's path already exists (it may be a
/// run's `samples.png` or another export's grid).
pub fn grid_path_for(
    output: &std::path::Path,
    checkpoint: &std::path::Path,
) -> train::Result<PathBuf> {
    check_sample_output(output, checkpoint)?;
    let grid = grid_name(output);
    check_new_output(&grid, "the grid picture")?;
    Ok(grid)
}

/// `<name>-grid.png` beside `output` (see [`grid_path_for`]).
pub fn grid_name(output: &std::path::Path) -> PathBuf {
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "samples".into());
    output.with_file_name(format!("{stem}-grid.png"))
}

/// Refuses a `sample` command's IDX `output` that is the checkpoint read from, another
/// checkpoint, or a PNG.
pub fn check_sample_output(
    output: &std::path::Path,
    checkpoint: &std::path::Path,
) -> train::Result<()> {
    let same_file = match (
        std::fs::canonicalize(output),
        std::fs::canonicalize(checkpoint),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => output == checkpoint,
    };
    let is_checkpoint = output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"));
    if same_file || is_checkpoint {
        return Err(train::Error::argument(
            "--output",
            format!(
                "{} is a checkpoint, not an IDX file of digits: name the output *.idx3-ubyte",
                output.display()
            ),
        ));
    }
    let is_png = output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if is_png {
        return Err(train::Error::argument(
            "--output",
            format!(
                "{} is the IDX file of the digits, not a picture: name it *.idx3-ubyte \
                 (the grid picture is written beside it as <name>-grid.png)",
                output.display()
            ),
        ));
    }
    Ok(())
}

/// Refuses a path derived from `--output` that already exists (it may belong to a
/// run or to another export).
pub fn check_new_output(path: &std::path::Path, what: &str) -> train::Result<()> {
    if path.exists() {
        return Err(train::Error::argument(
            "--output",
            format!(
                "{what} {} already exists and would be overwritten: \
                 remove it or choose another --output",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// A digit, 0 to 9.
pub fn digit(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(v) if v < 10 => Ok(v),
        Ok(v) => Err(format!("{v} is not a digit (0-9)")),
        Err(e) => Err(format!("{e} (expected a digit, 0-9)")),
    }
}

/// A whole number of at least 1.
pub fn positive_u64(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(v) if v >= 1 => Ok(v),
        Ok(_) => Err("must be at least 1".into()),
        Err(e) => Err(format!("{e} (expected a whole number of at least 1)")),
    }
}

/// A whole number of at least 1.
pub fn positive_usize(s: &str) -> Result<usize, String> {
    positive_u64(s).and_then(|v| usize::try_from(v).map_err(|e| e.to_string()))
}

/// A whole number of at least 0.
pub fn whole_usize(s: &str) -> Result<usize, String> {
    s.parse::<usize>()
        .map_err(|e| format!("{e} (expected a whole number of at least 0)"))
}

/// A finite number above 0.
pub fn positive_f32(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(v) => Err(format!(
            "{v} is out of range: must be a finite number above 0"
        )),
        Err(e) => Err(format!("{e} (expected a finite number above 0)")),
    }
}

/// A finite number above 0.
pub fn positive_f64(s: &str) -> Result<f64, String> {
    positive_f32(s)?;
    s.parse::<f64>().map_err(|e| e.to_string())
}

/// A finite number.
pub fn finite_f64(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(v) => Err(format!("{v} is out of range: must be finite")),
        Err(e) => Err(format!("{e} (expected a finite number)")),
    }
}

/// A weight-average decay in [0, 1) (0: no average).
pub fn decay(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        Ok(v) => Err(format!(
            "{v} is out of range: must be at least 0 and below 1"
        )),
        Err(e) => Err(format!("{e} (expected a number in [0, 1))")),
    }
}

impl CommonArgs {
    /// Where the run writes, from `--out`, `--resume` and `--overwrite`.
    pub fn run_options(&self) -> train::RunOptions {
        train::RunOptions {
            out: self.out.clone(),
            resume: self.resume.clone(),
            overwrite: self.overwrite,
        }
    }

    /// The training loop's schedule from these options; `sample_every` is the model's
    /// default when `--sample-every` is not given.
    pub fn loop_options(&self, sample_every: u64) -> train::LoopOptions {
        train::LoopOptions {
            log_every: self.log_every.max(1),
            checkpoint_every: self.checkpoint_every,
            sample_every,
            quiet: self.quiet,
        }
    }
}

/// Refuses an output path that is a directory, or that exists when `overwrite` is off.
pub fn check_output(flag: &'static str, path: &Path, overwrite: bool) -> train::Result<()> {
    if path.is_dir() {
        return Err(train::Error::argument(
            flag,
            format!("{} is a directory, not a file", path.display()),
        ));
    }
    if !overwrite && std::fs::symlink_metadata(path).is_ok() {
        return Err(refuse(flag, path));
    }
    Ok(())
}

fn refuse(flag: &'static str, path: &Path) -> train::Error {
    train::Error::argument(
        flag,
        format!(
            "{} already exists: pass --overwrite to replace it",
            path.display()
        ),
    )
}

/// Writes `bytes` to `path` atomically: a temporary file beside it is written and
/// synced, then renamed over `path` (with `overwrite`) or hard-linked to `path`, which
/// fails if the file appeared meanwhile, so an existing file is never replaced without
/// `overwrite`. Missing parent directories are created; the temporary file is removed
/// whatever happens.
pub fn write_new_file(
    flag: &'static str,
    path: &Path,
    bytes: &[u8],
    overwrite: bool,
) -> train::Result<()> {
    check_output(flag, path, overwrite)?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|e| train::Error::io(dir, e))?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let tmp_name = format!(".{name}.tmp-{}", std::process::id());
    let tmp = dir.map_or_else(|| PathBuf::from(&tmp_name), |d| d.join(&tmp_name));
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    let placed = written.and_then(|()| {
        if overwrite {
            return std::fs::rename(&tmp, path);
        }
        match std::fs::hard_link(&tmp, path) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
            // A file system without hard links: the check above has to do.
            Err(_) => std::fs::rename(&tmp, path),
            Ok(()) => Ok(()),
        }
    });
    let _ = std::fs::remove_file(&tmp);
    match placed {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(refuse(flag, path)),
        Err(e) => Err(train::Error::io(path, e)),
    }
}
