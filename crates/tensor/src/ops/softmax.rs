//! Softmax and log-softmax (the softmax family), with their backward rules.

use crate::{Backend, Result, Tensor};

impl<B: Backend> Tensor<B> {
    /// Softmax over `axis`, computed stably in one fused kernel.
    pub fn softmax(&self, axis: isize) -> Result<Self> {
        self.softmax_impl(axis, false)
    }

    /// Log-softmax over `axis`, computed stably in one fused kernel.
    pub fn log_softmax(&self, axis: isize) -> Result<Self> {
        self.softmax_impl(axis, true)
    }

    fn softmax_impl(&self, axis: isize, log: bool) -> Result<Self> {
        let name = if log { "log_softmax" } else { "softmax" };
        let a = self.shape().axis(axis, name)?;
        let last = self.rank() - 1;
        if a != last {
            // Move the axis last, apply, move it back.
            let mut axes: Vec<usize> = (0..self.rank()).collect();
            axes.swap(a, last);
            return self.permute(&axes)?.softmax_impl(-1, log)?.permute(&axes);
        }
        let cols = self.dims()[last];
        let rows = self.numel().checked_div(cols).unwrap_or(0);
        let storage = self.backend().softmax(self.storage(), rows, cols, log)?;
        Ok(Tensor::from_op(
            self.backend(),
            storage,
            self.shape().clone(),
            name,
            &[self],
            move |g, out| {
                if g.numel() == 0 {
                    // Empty: the row sums below would still be one per (huge) row.
                    return Ok(vec![Some(g.clone())]);
                }
                let grad = if log {
                    // d/dx log_softmax: g - softmax * sum(g)
                    g.sub(&out.exp()?.mul(&g.sum(&[-1], true)?)?)?
                } else {
                    // d/dx softmax: y * (g - sum(g * y))
                    out.mul(&g.sub(&g.mul(out)?.sum(&[-1], true)?)?)?
                };
                Ok(vec![Some(grad)])
            },
        ))
    }
}
