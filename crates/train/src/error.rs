//! The error of a training run: any layer's error, plus the run's own.

/// What can stop a run: an op, a checkpoint, a data set, a file, a bad option, a
/// non-finite loss.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tensor op or the backend failed.
    #[error(transparent)]
    Tensor(#[from] tensor::Error),
    /// A layer, optimizer or checkpoint failed.
    #[error(transparent)]
    Nn(#[from] nn::Error),
    /// A data set could not be read.
    #[error(transparent)]
    Data(#[from] datasets::DatasetError),
    /// Reading or writing a run file failed.
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    /// An option or setting is out of range or does not fit the run.
    #[error("{what}: {reason}")]
    Argument { what: &'static str, reason: String },
    /// A loss (or another value that must be finite) is NaN or infinite.
    #[error("non-finite value: {0}")]
    NonFinite(String),
}

impl Error {
    /// A file error naming the path.
    pub fn io(path: &std::path::Path, reason: impl std::fmt::Display) -> Self {
        Error::Io {
            path: path.display().to_string(),
            reason: reason.to_string(),
        }
    }

    /// An option or setting error naming what it is about (a model, an option).
    pub fn argument(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Argument {
            what,
            reason: reason.into(),
        }
    }
}

/// Result with the run's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
