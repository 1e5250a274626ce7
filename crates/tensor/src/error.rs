//! The error type of tensor ops and backends.

use crate::Shape;

/// Everything that can go wrong in a tensor operation or a backend. Files, runs and
/// NaN policies are the business of the crates above (`nn`, `train`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An op was given operands whose shapes do not fit together.
    #[error("{op}: incompatible shapes {shapes}: {reason}")]
    Shape {
        op: &'static str,
        shapes: String,
        reason: String,
    },
    /// An argument other than a shape was out of range (an axis, a stride, a probability...).
    #[error("{op}: invalid argument: {reason}")]
    Argument { op: &'static str, reason: String },
    /// A shape, or a size computed from user input, is too large to be a tensor
    /// (its element count overflows or passes [`crate::MAX_ELEMENTS`]).
    #[error("{op}: shape {shape} is too large: {reason}")]
    Size {
        op: &'static str,
        shape: String,
        reason: String,
    },
    /// `backward` or a gradient lookup was used wrongly.
    #[error("autograd: {0}")]
    Autograd(String),
    /// The backend failed (a device error, an out-of-memory, a driver that is missing).
    #[error("backend {backend}: {reason}")]
    Backend { backend: String, reason: String },
}

impl Error {
    /// Shape error naming the op and every shape involved.
    pub fn shape(op: &'static str, shapes: &[&Shape], reason: impl Into<String>) -> Self {
        let shapes = shapes
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(" and ");
        Error::Shape {
            op,
            shapes,
            reason: reason.into(),
        }
    }

    /// Size error naming the op and the shape that is too large.
    pub fn size(op: &'static str, shape: &Shape, reason: impl Into<String>) -> Self {
        Error::Size {
            op,
            shape: shape.to_string(),
            reason: reason.into(),
        }
    }

    /// Size error for a size that overflows before it is even a shape (the
    /// operands are named instead).
    pub fn size_of(op: &'static str, what: impl Into<String>) -> Self {
        Error::Size {
            op,
            shape: what.into(),
            reason: "the element count overflows usize".into(),
        }
    }

    /// Argument error naming the op.
    pub fn argument(op: &'static str, reason: impl Into<String>) -> Self {
        Error::Argument {
            op,
            reason: reason.into(),
        }
    }

    /// Backend error naming the backend.
    pub fn backend(backend: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Backend {
            backend: backend.into(),
            reason: reason.into(),
        }
    }
}

/// Result with the framework's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
