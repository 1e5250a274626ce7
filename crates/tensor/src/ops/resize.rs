//! Bilinear resizing of NHWC images (the resize family), with its backward rule.

use crate::{Backend, Error, Result, Shape, Tensor};

impl<B: Backend> Tensor<B> {
    /// `tf.image.resize(x, (out_h, out_w), "bilinear")` on NHWC input: half-pixel
    /// centres, edges clamped, no antialiasing; up or down in each axis.
    pub fn resize_bilinear(&self, out_h: usize, out_w: usize) -> Result<Self> {
        if self.rank() != 4 || out_h == 0 || out_w == 0 {
            return Err(Error::shape(
                "resize_bilinear",
                &[self.shape()],
                format!("need NHWC input and a positive size, got ({out_h}, {out_w})"),
            ));
        }
        let d = self.dims();
        let dims = [d[0], d[1], d[2], d[3]];
        if (dims[1] == 0 || dims[2] == 0) && dims[0] * dims[3] > 0 {
            return Err(Error::shape(
                "resize_bilinear",
                &[self.shape()],
                "an image with no pixels has nothing to sample",
            ));
        }
        let out_shape = Shape::checked(vec![dims[0], out_h, out_w, dims[3]], "resize_bilinear")?;
        let storage = self
            .backend()
            .resize_bilinear(self.storage(), dims, out_h, out_w)?;
        Ok(Tensor::from_op(
            self.backend(),
            storage,
            out_shape,
            "resize_bilinear",
            &[self],
            move |dy, _| {
                let be = dy.backend();
                let s = be.resize_bilinear_backward(dy.storage(), dims, out_h, out_w)?;
                Ok(vec![Some(Tensor::from_storage(be, s, dims))])
            },
        ))
    }
}
