//! `metrics.jsonl`: one JSON object per logged step.

use crate::{Error, Result};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

fn io_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(path, e)
}

/// Appends one JSON object per line to `metrics.jsonl`.
pub struct MetricsLog {
    path: PathBuf,
}

impl MetricsLog {
    /// The log in `dir`.
    pub fn new(dir: &Path) -> Self {
        MetricsLog {
            path: dir.join("metrics.jsonl"),
        }
    }

    /// Appends a record.
    pub fn append(&self, record: &serde_json::Value) -> Result<()> {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| io_err(&self.path, e))?;
        writeln!(f, "{record}").map_err(|e| io_err(&self.path, e))
    }

    /// Every record so far (for the loss curve at the end); none before the first.
    pub fn read_all(&self) -> Result<Vec<serde_json::Value>> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&self.path, e)),
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }
}
