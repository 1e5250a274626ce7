//! Max and average pooling, nearest upsampling (NHWC).

use super::Padding;
use crate::{Backend, Error, Pool2dGeom, Result, Shape, Tensor};

impl<B: Backend> Tensor<B> {
    fn pool_geom(
        &self,
        op: &'static str,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
    ) -> Result<Pool2dGeom> {
        if self.rank() != 4 {
            return Err(Error::shape(
                op,
                &[self.shape()],
                "need NHWC input [n, h, w, c]",
            ));
        }
        let [n, h, w, c] = [
            self.dims()[0],
            self.dims()[1],
            self.dims()[2],
            self.dims()[3],
        ];
        let out = padding
            .output_and_pad(h, kernel.0, stride.0)
            .zip(padding.output_and_pad(w, kernel.1, stride.1));
        let Some(((out_h, pad_top), (out_w, pad_left))) = out else {
            return Err(Error::shape(
                op,
                &[self.shape()],
                format!("window {kernel:?}, stride {stride:?} and {padding:?} leave no output"),
            ));
        };
        Shape::checked(vec![n, out_h, out_w, c], op)?;
        Ok(Pool2dGeom {
            n,
            h,
            w,
            c,
            kh: kernel.0,
            kw: kernel.1,
            stride_h: stride.0,
            stride_w: stride.1,
            pad_top,
            pad_left,
            out_h,
            out_w,
        })
    }

    /// Max pooling over `kernel` windows moved by `stride`.
    pub fn max_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
    ) -> Result<Self> {
        let g = self.pool_geom("max_pool2d", kernel, stride, padding)?;
        let (storage, argmax) = self.backend().max_pool2d(self.storage(), &g)?;
        Ok(Tensor::from_op(
            self.backend(),
            storage,
            Shape::new(&[g.n, g.out_h, g.out_w, g.c]),
            "max_pool2d",
            &[self],
            move |dy, _| {
                let be = dy.backend();
                let s = be.max_pool2d_backward(dy.storage(), &argmax, &g)?;
                Ok(vec![Some(Tensor::from_storage(
                    be,
                    s,
                    [g.n, g.h, g.w, g.c],
                ))])
            },
        ))
    }

    /// Average pooling; padded cells are not counted (TensorFlow semantics).
    pub fn avg_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
    ) -> Result<Self> {
        let g = self.pool_geom("avg_pool2d", kernel, stride, padding)?;
        let storage = self.backend().avg_pool2d(self.storage(), &g)?;
        Ok(Tensor::from_op(
            self.backend(),
            storage,
            Shape::new(&[g.n, g.out_h, g.out_w, g.c]),
            "avg_pool2d",
            &[self],
            move |dy, _| {
                let be = dy.backend();
                let s = be.avg_pool2d_backward(dy.storage(), &g)?;
                Ok(vec![Some(Tensor::from_storage(
                    be,
                    s,
                    [g.n, g.h, g.w, g.c],
                ))])
            },
        ))
    }

    /// Nearest-neighbour upsampling of NHWC by integer factors (Keras `UpSampling2D`).
    pub fn upsample_nearest2d(&self, scale_h: usize, scale_w: usize) -> Result<Self> {
        if self.rank() != 4 || scale_h == 0 || scale_w == 0 {
            return Err(Error::shape(
                "upsample_nearest2d",
                &[self.shape()],
                format!("need NHWC input and positive factors, got ({scale_h}, {scale_w})"),
            ));
        }
        let dims = [
            self.dims()[0],
            self.dims()[1],
            self.dims()[2],
            self.dims()[3],
        ];
        let big = || {
            Error::size_of(
                "upsample_nearest2d",
                format!("{} scaled by ({scale_h}, {scale_w})", self.shape()),
            )
        };
        let out_shape = Shape::checked(
            vec![
                dims[0],
                dims[1].checked_mul(scale_h).ok_or_else(big)?,
                dims[2].checked_mul(scale_w).ok_or_else(big)?,
                dims[3],
            ],
            "upsample_nearest2d",
        )?;
        let storage = self
            .backend()
            .upsample_nearest2d(self.storage(), dims, scale_h, scale_w)?;
        Ok(Tensor::from_op(
            self.backend(),
            storage,
            out_shape,
            "upsample_nearest2d",
            &[self],
            move |dy, _| {
                let be = dy.backend();
                let s = be.upsample_nearest2d_backward(dy.storage(), dims, scale_h, scale_w)?;
                Ok(vec![Some(Tensor::from_storage(be, s, dims))])
            },
        ))
    }
}
