//! The run directory and its timestamped default name.

use crate::{Error, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

fn io_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(path, e)
}

/// Where a run writes and how it may treat what is already there.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The run directory; `runs/<model>/<timestamp>` when `None` (or, when resuming,
    /// the directory of the checkpoint resumed from).
    pub out: Option<PathBuf>,
    /// The checkpoint the run continues from.
    pub resume: Option<PathBuf>,
    /// Replace a previous run in `out` (its metrics, checkpoint and samples go).
    pub overwrite: bool,
}

/// File names a run writes that `--overwrite` removes before it starts.
const RUN_OUTPUTS: [&str; 3] = ["metrics.jsonl", "checkpoint.safetensors", "samples"];
/// The lock file that marks a directory in use.
pub const LOCK_FILE: &str = "run.lock";
/// The checkpoint a run writes into its directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";

/// A run directory held for the life of a run: no other run can write into it.
///
/// The hold is an operating-system lock on `run.lock` (which names this process for
/// messages): it ends with the process however the process ends, so a run killed by
/// kill -9 or a second Ctrl-C never leaves the directory locked.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    lock: PathBuf,
    /// Holds the lock while open.
    _held: fs::File,
}

impl RunDir {
    /// Opens the directory of a new or resumed run of `model`.
    ///
    /// A directory that already holds a run is refused unless the run resumes from a
    /// checkpoint in that same directory or `overwrite` is set; a directory another
    /// live process holds is always refused. The directory is created if needed.
    pub fn open(model: &str, options: &RunOptions) -> Result<RunDir> {
        let resume_dir = options.resume.as_deref().map(|ck| {
            ck.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
        });
        let path = match (&options.out, resume_dir) {
            (Some(d), _) => d.clone(),
            (None, Some(d)) => d.to_path_buf(),
            (None, None) => fresh_default_dir(model),
        };
        fs::create_dir_all(&path)
            .map_err(|e| io_err(&path, format!("cannot create run directory: {e}")))?;
        let (lock, held) = take_lock(&path)?;
        let dir = RunDir {
            path,
            lock,
            _held: held,
        };
        // Only the run's own checkpoint continues it; an older copy kept beside it would
        // cut its log back and overwrite the newer checkpoint.
        let continues_here = options.resume.as_deref().is_some_and(|ck| {
            resume_dir.is_some_and(|d| same_dir(d, &dir.path))
                && ck.file_name() == Some(std::ffi::OsStr::new(CHECKPOINT_FILE))
        });
        if !continues_here {
            let previous = previous_run(&dir.path)?;
            if !previous.is_empty() {
                if !options.overwrite {
                    return Err(Error::argument(
                        "run directory",
                        format!(
                            "{} already holds a run ({}): pass --resume {} to continue it, \
                             --overwrite to replace it, or another --out",
                            dir.path.display(),
                            previous.join(", "),
                            dir.path.join("checkpoint.safetensors").display()
                        ),
                    ));
                }
                for name in RUN_OUTPUTS {
                    let p = dir.path.join(name);
                    let removed = if p.is_dir() {
                        fs::remove_dir_all(&p)
                    } else {
                        fs::remove_file(&p)
                    };
                    match removed {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            return Err(io_err(&p, format!("cannot remove for --overwrite: {e}")));
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Holds an existing run directory to continue the run in it, without the check
    /// for a previous run (the caller resumes that run, e.g. from a checkpoint in one
    /// of the directory's stage folders). Another live process's hold is still refused.
    pub fn open_existing(path: &Path) -> Result<RunDir> {
        if !path.is_dir() {
            return Err(io_err(path, "no such run directory"));
        }
        let (lock, held) = take_lock(path)?;
        Ok(RunDir {
            path: path.to_path_buf(),
            lock,
            _held: held,
        })
    }

    /// Makes the directory agree with a run resumed at `step`: metrics rows past it
    /// (logged after the last checkpoint by a run that was killed) and temporary files
    /// of interrupted writes are removed.
    pub fn prepare_resume(&self, step: u64) -> Result<()> {
        prepare_resume_in(&self.path, step)
    }
}

/// [`RunDir::prepare_resume`] for a directory of the run (the run directory, or a
/// stage folder inside it).
pub fn prepare_resume_in(path: &Path, step: u64) -> Result<()> {
    let metrics = path.join("metrics.jsonl");
    if let Ok(text) = fs::read_to_string(&metrics) {
        // Rows past the checkpoint, and a row cut short by the kill, go.
        let keep: Vec<&str> = text
            .lines()
            .filter(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .ok()
                    .and_then(|v| v["step"].as_u64())
                    .is_some_and(|s| s <= step)
            })
            .collect();
        let mut kept = keep.join("\n");
        if !kept.is_empty() {
            kept.push('\n');
        }
        if kept != text {
            nn::checkpoint::write_atomic(&metrics, kept.as_bytes())?;
        }
    }
    for dir in [path.to_path_buf(), path.join("samples")] {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_orphan_temporary(&name) {
                fs::remove_file(entry.path())
                    .map_err(|e| io_err(&entry.path(), format!("cannot remove: {e}")))?;
            }
        }
    }
    Ok(())
}

/// Whether `name` is a temporary file of an interrupted write: write_atomic's
/// `.<file>.<pid>.<n>.tmp` of a process that no longer runs, or a chart's
/// `.<file>.tmp.png`.
fn is_orphan_temporary(name: &str) -> bool {
    if !name.starts_with('.') {
        return false;
    }
    if name.ends_with(".tmp.png") {
        return true;
    }
    let Some(stem) = name.strip_suffix(".tmp") else {
        return false;
    };
    let mut parts = stem.rsplitn(3, '.');
    let (Some(n), Some(pid), Some(_file)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    match (n.parse::<u64>(), pid.parse::<u32>()) {
        (Ok(_), Ok(pid)) => {
            pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists()
        }
        _ => false,
    }
}

impl std::ops::Deref for RunDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunDir {
    /// Removes the lock file while still holding it (the lock itself goes with the
    /// file handle right after).
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.lock);
    }
}

/// What of a previous run `dir` holds (files other than the lock).
fn previous_run(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map_err(|e| io_err(dir, format!("cannot read run directory: {e}")))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != LOCK_FILE)
        .collect();
    names.sort();
    if names.len() > 4 {
        let more = names.len() - 3;
        names.truncate(3);
        names.push(format!("{more} more"));
    }
    Ok(names)
}

/// `runs/<model>/<timestamp>`, with `-2`, `-3`, ... when runs start in the same second.
fn fresh_default_dir(model: &str) -> PathBuf {
    let base = Path::new("runs").join(model);
    let stamp = timestamp();
    let mut dir = base.join(&stamp);
    let mut n = 2;
    while dir.exists() {
        dir = base.join(format!("{stamp}-{n}"));
        n += 1;
    }
    dir
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Locks `dir/run.lock` (an operating-system lock, released when the process ends)
/// and writes this process's id into it; a directory whose lock another process holds
/// is an error naming that process.
fn take_lock(dir: &Path) -> Result<(PathBuf, fs::File)> {
    use std::io::{Read, Seek, Write};
    let lock = dir.join(LOCK_FILE);
    let mut file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
        .map_err(|e| io_err(&lock, format!("cannot open lock file: {e}")))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim() {
                "" => "another process".to_string(),
                pid => format!("process {pid}"),
            };
            return Err(Error::argument(
                "run directory",
                format!(
                    "{} is in use by another run ({holder}); wait for it, stop it, \
                     or choose another --out",
                    dir.display()
                ),
            ));
        }
        Err(fs::TryLockError::Error(e)) => {
            return Err(io_err(&lock, format!("cannot lock: {e}")));
        }
    }
    let written = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}", std::process::id()));
    written.map_err(|e| io_err(&lock, e))?;
    Ok((lock, file))
}

/// `YYYYMMDD-HHMMSS` in UTC, from the system clock (no time-zone database needed).
pub fn timestamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Opens the run directory of `model` as [`RunDir::open`] does, resuming `model` from
/// `options.resume` first (so a bad checkpoint leaves no directory behind) and then
/// cleaning up what a killed run left there ([`RunDir::prepare_resume`]).
pub fn open_run<M: crate::Checkpointed + ?Sized>(
    model: &mut M,
    options: &RunOptions,
) -> Result<RunDir> {
    if let Some(ck) = &options.resume {
        crate::resume(model, ck)?;
    }
    let dir = RunDir::open(M::MODEL, options)?;
    if options.resume.is_some() {
        dir.prepare_resume(model.steps_done())?;
    }
    Ok(dir)
}
