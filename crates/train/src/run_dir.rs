//! The run directory and its timestamped default name.

use crate::{Error, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

fn io_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(path, e)
}

/// `runs/<model>/<UTC timestamp>` unless the user chose a directory; created on the spot.
pub fn run_dir(model: &str, chosen: Option<&Path>) -> Result<PathBuf> {
    let dir = match chosen {
        Some(d) => d.to_path_buf(),
        None => Path::new("runs").join(model).join(timestamp()),
    };
    fs::create_dir_all(&dir)
        .map_err(|e| io_err(&dir, format!("cannot create run directory: {e}")))?;
    Ok(dir)
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
