//! Conversions between tensors and `ndarray` arrays (feature `ndarray`, on by default).
//!
//! ```
//! use ndarray::{Array2, array};
//! use tensor::Tensor;
//! let be = backend_cpu::Cpu;
//! let a: Array2<f32> = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
//! // Any layout: a transposed (strided) view is read in its logical order.
//! let t = Tensor::from_ndarray(&be, &a.t())?;
//! assert_eq!(t.dims(), &[3, 2]);
//! assert_eq!(t.to_vec()?, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
//! let back = t.matmul(&Tensor::from_ndarray(&be, &a)?)?.to_ndarray()?;
//! assert_eq!(back.shape(), &[3, 3]);
//! assert_eq!(back[[0, 0]], 1.0 * 1.0 + 4.0 * 4.0);
//! # Ok::<(), tensor::Error>(())
//! ```

use crate::{Backend, Error, Result, Tensor};
use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn};

impl<B: Backend> Tensor<B> {
    /// A tensor with the shape and values of `array`: any dimension (0 to 8 and
    /// beyond), f32, contiguous or not (a standard-layout array is copied in one piece,
    /// any other, e.g. a transposed or sliced view, element by element in logical order).
    pub fn from_ndarray<S, D>(backend: &B, array: &ArrayBase<S, D>) -> Result<Self>
    where
        S: Data<Elem = f32>,
        D: Dimension,
    {
        let shape = array.shape().to_vec();
        let data = match array.as_slice() {
            Some(contiguous) => contiguous.to_vec(),
            None => array.iter().copied().collect(),
        };
        Tensor::from_vec(backend, data, shape)
    }

    /// The tensor's values as an owned `ndarray` array of its shape (read back from
    /// the device on a GPU backend).
    pub fn to_ndarray(&self) -> Result<ArrayD<f32>> {
        let data = self.to_vec()?;
        ArrayD::from_shape_vec(IxDyn(self.dims()), data)
            .map_err(|e| Error::argument("to_ndarray", e.to_string()))
    }
}
