//! Shapes, strides and NumPy broadcasting.

use crate::{Error, Result};
use std::fmt;

/// The most elements one tensor may have: an f32 buffer of more than `isize::MAX`
/// bytes cannot be allocated on any machine, so such a shape is refused before
/// anything is allocated.
pub const MAX_ELEMENTS: usize = isize::MAX as usize / std::mem::size_of::<f32>();

/// The dimensions of a tensor, outermost first (row-major, NHWC for images).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(pub Vec<usize>);

impl Shape {
    /// Shape from a slice of dimensions.
    pub fn new(dims: &[usize]) -> Self {
        Shape(dims.to_vec())
    }

    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Number of elements (1 for a scalar of rank 0).
    ///
    /// Exact whenever the product fits in `usize`; a product that does not saturates
    /// to `usize::MAX` instead of wrapping (so it never equals a small count). Every
    /// tensor's shape has passed [`Shape::check`], so for a tensor this is exact.
    pub fn numel(&self) -> usize {
        self.0.iter().fold(1usize, |n, &d| n.saturating_mul(d))
    }

    /// Number of elements, or `None` when the product overflows `usize`.
    pub fn checked_numel(&self) -> Option<usize> {
        if self.0.contains(&0) {
            return Some(0);
        }
        self.0.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
    }

    /// The element count, or an error naming `op` and the shape when the shape
    /// cannot be a tensor: its dimensions multiply past [`MAX_ELEMENTS`].
    ///
    /// Zero dimensions are left out of that product, so an empty tensor still has
    /// strides that fit in `usize` (`[0, 2^40, 2^40]` is refused, `[0, 2^40]` is not).
    pub fn check(&self, op: &'static str) -> Result<usize> {
        let extent = self
            .0
            .iter()
            .filter(|&&d| d != 0)
            .try_fold(1usize, |n, &d| n.checked_mul(d));
        match extent {
            Some(e) if e <= MAX_ELEMENTS => Ok(self.numel()),
            _ => Err(Error::size(
                op,
                self,
                format!(
                    "its dimensions multiply past {MAX_ELEMENTS} elements (isize::MAX bytes of f32)"
                ),
            )),
        }
    }

    /// A shape from dimensions computed by an op, checked as [`Shape::check`].
    pub fn checked(dims: Vec<usize>, op: &'static str) -> Result<Shape> {
        let shape = Shape(dims);
        shape.check(op)?;
        Ok(shape)
    }

    /// Row-major (C-contiguous) strides in elements (saturating, like [`Shape::numel`],
    /// for a shape that is not a tensor's).
    pub fn strides(&self) -> Vec<usize> {
        let mut strides = vec![1usize; self.0.len()];
        for i in (0..self.0.len().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1].saturating_mul(self.0[i + 1]);
        }
        strides
    }

    /// Dimension `i`, where negative counts from the end.
    pub fn dim(&self, i: isize) -> Result<usize> {
        let axis = self.axis(i, "dim")?;
        Ok(self.0[axis])
    }

    /// Resolves a possibly negative axis into `0..rank`.
    pub fn axis(&self, axis: isize, op: &'static str) -> Result<usize> {
        let rank = self.rank() as isize;
        let a = if axis < 0 { axis + rank } else { axis };
        if a < 0 || a >= rank {
            return Err(Error::argument(
                op,
                format!("axis {axis} out of range for shape {self}"),
            ));
        }
        Ok(a as usize)
    }

    /// The NumPy broadcast of two shapes; an error when they do not broadcast or
    /// when the result is too large for a tensor (see [`Shape::check`]).
    pub fn broadcast(a: &Shape, b: &Shape, op: &'static str) -> Result<Shape> {
        let rank = a.rank().max(b.rank());
        let mut out = vec![0; rank];
        for i in 0..rank {
            let da = if i + a.rank() >= rank {
                a.0[i + a.rank() - rank]
            } else {
                1
            };
            let db = if i + b.rank() >= rank {
                b.0[i + b.rank() - rank]
            } else {
                1
            };
            out[i] = if da == db || db == 1 {
                da
            } else if da == 1 {
                db
            } else {
                return Err(Error::shape(
                    op,
                    &[a, b],
                    format!("dimension {i} is {da} vs {db}; they must be equal or one of them 1"),
                ));
            };
        }
        Shape::checked(out, op)
    }

    /// Strides with which to read a tensor of this shape as if broadcast to `out`
    /// (0 on broadcast dimensions). `out` must be a valid broadcast target.
    pub fn broadcast_strides(&self, out: &Shape) -> Vec<usize> {
        let own = self.strides();
        let offset = out.rank() - self.rank();
        (0..out.rank())
            .map(|i| {
                if i < offset || self.0[i - offset] == 1 {
                    0
                } else {
                    own[i - offset]
                }
            })
            .collect()
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{d}")?;
        }
        write!(f, "]")
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<&[usize]> for Shape {
    fn from(d: &[usize]) -> Self {
        Shape(d.to_vec())
    }
}

impl From<Vec<usize>> for Shape {
    fn from(d: Vec<usize>) -> Self {
        Shape(d)
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(d: [usize; N]) -> Self {
        Shape(d.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_are_row_major() {
        assert_eq!(Shape::new(&[2, 3, 4]).strides(), vec![12, 4, 1]);
        assert_eq!(Shape::new(&[]).strides(), Vec::<usize>::new());
    }

    #[test]
    fn broadcast_follows_numpy() {
        let a = Shape::new(&[4, 1, 3]);
        let b = Shape::new(&[5, 1]);
        assert_eq!(
            Shape::broadcast(&a, &b, "t").unwrap(),
            Shape::new(&[4, 5, 3])
        );
        assert_eq!(a.broadcast_strides(&Shape::new(&[4, 5, 3])), vec![3, 0, 1]);
        assert_eq!(b.broadcast_strides(&Shape::new(&[4, 5, 3])), vec![0, 1, 0]);
        let err = Shape::broadcast(&Shape::new(&[2, 3]), &Shape::new(&[4]), "add").unwrap_err();
        assert!(err.to_string().contains("add"));
        assert!(err.to_string().contains("[2, 3]"));
    }
}
