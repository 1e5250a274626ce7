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

/// A run directory held for the life of a run: no other run can write into it (a
/// `run.lock` naming this process, removed when this value is dropped).
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    lock: PathBuf,
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
            (None, None) => Path::new("runs").join(model).join(timestamp()),
        };
        fs::create_dir_all(&path)
            .map_err(|e| io_err(&path, format!("cannot create run directory: {e}")))?;
        let lock = take_lock(&path)?;
        let dir = RunDir { path, lock };
        let continues_here = resume_dir.is_some_and(|d| same_dir(d, &dir.path));
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

    /// Makes the directory agree with a run resumed at `step`: metrics rows past it
    /// (logged after the last checkpoint by a run that was killed) and temporary files
    /// of interrupted writes are removed.
    pub fn prepare_resume(&self, step: u64) -> Result<()> {
        let metrics = self.path.join("metrics.jsonl");
        if let Ok(text) = fs::read_to_string(&metrics) {
            let keep: Vec<&str> = text
                .lines()
                .filter(|l| {
                    serde_json::from_str::<serde_json::Value>(l)
                        .ok()
                        .and_then(|v| v["step"].as_u64())
                        .is_none_or(|s| s <= step)
                })
                .collect();
            if keep.len() != text.lines().count() {
                let mut kept = keep.join("\n");
                if !kept.is_empty() {
                    kept.push('\n');
                }
                nn::checkpoint::write_atomic(&metrics, kept.as_bytes())?;
            }
        }
        for dir in [self.path.clone(), self.path.join("samples")] {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                // What write_atomic and the charts name their temporary files.
                if name.starts_with('.') && (name.ends_with(".tmp") || name.ends_with(".tmp.png")) {
                    fs::remove_file(entry.path())
                        .map_err(|e| io_err(&entry.path(), format!("cannot remove: {e}")))?;
                }
            }
        }
        Ok(())
    }
}

impl std::ops::Deref for RunDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunDir {
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

fn same_dir(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Creates `dir/run.lock` holding this process's id; a lock of a process that no longer
/// runs is taken over, one of a live process is an error naming it.
fn take_lock(dir: &Path) -> Result<PathBuf> {
    let lock = dir.join(LOCK_FILE);
    for _ in 0..2 {
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(mut f) => {
                use std::io::Write;
                writeln!(f, "{}", std::process::id()).map_err(|e| io_err(&lock, e))?;
                return Ok(lock);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = fs::read_to_string(&lock).unwrap_or_default();
                let pid = holder.trim().parse::<u32>().ok();
                if let Some(pid) = pid.filter(|&p| process_alive(p)) {
                    return Err(Error::argument(
                        "run directory",
                        format!(
                            "{} is in use by another run (process {pid}); wait for it, stop it, \
                             or choose another --out",
                            dir.display()
                        ),
                    ));
                }
                // Left by a run that was killed: take it over.
                fs::remove_file(&lock)
                    .map_err(|e| io_err(&lock, format!("cannot remove stale lock: {e}")))?;
            }
            Err(e) => return Err(io_err(&lock, format!("cannot create lock file: {e}"))),
        }
    }
    Err(io_err(&lock, "another run keeps taking the lock"))
}

/// Whether process `pid` is alive (where the platform tells; elsewhere assumed alive,
/// so a stale lock must then be removed by hand). This process counts as alive: a
/// directory already open in it is in use.
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    if proc.is_dir() {
        proc.join(pid.to_string()).exists()
    } else {
        true
    }
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
