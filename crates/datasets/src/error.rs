//! The one error type of this crate.

use std::path::{Path, PathBuf};

/// Everything that can go wrong while loading, generating or writing data.
///
/// File-related variants carry the path so the message alone tells the user which
/// file is at fault and why.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The operating system refused to read or write the file.
    #[error("{}: {action} failed: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// A directory was given where a file was expected.
    #[error("{}: is a directory, expected a file", path.display())]
    IsDirectory { path: PathBuf },

    /// The file (or its decompressed content) has no bytes at all.
    #[error("{}: file is empty", path.display())]
    EmptyFile { path: PathBuf },

    /// The file starts like gzip but does not decompress (corrupt or cut short).
    #[error("{}: gzip stream is corrupt or cut short: {source}", path.display())]
    Gzip {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file is shorter than its fixed-size header.
    #[error("{}: header truncated: {len} bytes, an IDX {what} header needs {needed}", path.display())]
    TruncatedHeader {
        path: PathBuf,
        what: &'static str,
        len: usize,
        needed: usize,
    },

    /// The magic number is not the one of the expected IDX kind.
    #[error(
        "{}: bad magic number 0x{found:08x}, expected 0x{expected:08x} (IDX {what})",
        path.display()
    )]
    BadMagic {
        path: PathBuf,
        what: &'static str,
        found: u32,
        expected: u32,
    },

    /// A header field is impossible (for example a dimension too large to address).
    #[error("{}: bad header: {reason}", path.display())]
    BadHeader { path: PathBuf, reason: String },

    /// The payload is shorter than the header declares.
    #[error(
        "{}: payload truncated: header declares dims {dims:?} = {expected} bytes, file holds {actual}",
        path.display()
    )]
    TruncatedPayload {
        path: PathBuf,
        dims: Vec<u32>,
        expected: u64,
        actual: u64,
    },

    /// The payload is longer than the header declares.
    #[error(
        "{}: trailing bytes: header declares dims {dims:?} = {expected} bytes, file holds {actual}",
        path.display()
    )]
    TrailingBytes {
        path: PathBuf,
        dims: Vec<u32>,
        expected: u64,
        actual: u64,
    },

    /// A label is not a valid class index.
    #[error(
        "{}: label {label} at index {index} is out of range for {num_classes} classes",
        path.display()
    )]
    LabelOutOfRange {
        path: PathBuf,
        index: usize,
        label: u8,
        num_classes: usize,
    },

    /// Image and label files disagree on the number of samples.
    #[error(
        "count mismatch: {} holds {images} images but {} holds {labels} labels",
        images_path.display(),
        labels_path.display()
    )]
    CountMismatch {
        images_path: PathBuf,
        labels_path: PathBuf,
        images: usize,
        labels: usize,
    },

    /// A fixed-record file (CIFAR) whose length is not a whole number of records.
    #[error(
        "{}: length {len} is not a multiple of the {record_len}-byte record ({what})",
        path.display()
    )]
    RecordLength {
        path: PathBuf,
        what: &'static str,
        len: usize,
        record_len: usize,
    },

    /// Images of another size than the data set's (MNIST digits are 28x28).
    #[error("{}: images are {rows}x{cols}, {what} needs {expected_rows}x{expected_cols}", path.display())]
    WrongImageSize {
        path: PathBuf,
        rows: usize,
        cols: usize,
        expected_rows: usize,
        expected_cols: usize,
        what: &'static str,
    },

    /// None of the accepted names of a required file exists.
    #[error("{what} not found in {}: looked for {}", dir.display(), tried.join(", "))]
    MissingFile {
        dir: PathBuf,
        what: String,
        tried: Vec<String>,
    },

    /// An environment variable that names a data directory is not set.
    #[error("environment variable {var} is not set (it should name a directory holding {what})")]
    EnvVarNotSet {
        var: &'static str,
        what: &'static str,
    },

    /// The directory an environment variable names does not hold the data set.
    #[error("the environment variable {var} names {}, which does not hold the data set: {source}", dir.display())]
    FromEnv {
        var: &'static str,
        dir: PathBuf,
        source: Box<DatasetError>,
    },

    /// A file's SHA-256 differs from the expected one.
    #[error("{}: SHA-256 mismatch: expected {expected}, got {actual}", path.display())]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },

    /// A file is not in the cache and could not (or may not) be downloaded.
    #[error("{}: not available: {reason}", path.display())]
    NotCached { path: PathBuf, reason: String },

    /// A caller passed arguments that cannot be satisfied.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// Shorthand used throughout the crate.
pub type Result<T, E = DatasetError> = std::result::Result<T, E>;

impl DatasetError {
    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        DatasetError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        DatasetError::InvalidArgument(msg.into())
    }
}
