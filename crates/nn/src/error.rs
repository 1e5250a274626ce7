//! Errors of `nn`: a tensor op's, or a file's.

/// What can go wrong in `nn`: an op (shapes, device) or a checkpoint file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tensor op or the backend failed.
    #[error(transparent)]
    Tensor(#[from] tensor::Error),
    /// Reading or writing a file failed, or the file is not what it should be.
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    /// A checkpoint does not fit the model it is loaded into (missing, extra or
    /// mis-shaped tensors, all listed).
    #[error("{file}: checkpoint does not fit the model: {reason}")]
    Mismatch { file: String, reason: String },
}

impl Error {
    /// A file error naming the path.
    pub fn file(path: &std::path::Path, reason: impl std::fmt::Display) -> Self {
        Error::File {
            path: path.display().to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Result with `nn`'s [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
