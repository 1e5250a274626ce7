//! `impl tensor::Backend for Wgpu`: each method forwards to its launcher in `ops/`.

use crate::context::Wgpu;
use crate::pool::WgpuStorage;
use tensor::{
    AdamStep, Backend, BinaryOp, BroadcastLayout, Conv2dGeom, Distribution, MatmulDims, Pool2dGeom,
    ReduceOp, Result, StridedLayout, UnaryOp,
};

impl Backend for Wgpu {
    type Storage = WgpuStorage;

    fn name(&self) -> String {
        self.describe()
    }

    fn from_vec(&self, data: Vec<f32>) -> Result<WgpuStorage> {
        self.upload("from_vec", &data)
    }

    fn to_vec(&self, x: &WgpuStorage, len: usize) -> Result<Vec<f32>> {
        self.read(x, len)
    }

    fn fill(&self, len: usize, value: f32) -> Result<WgpuStorage> {
        self.fill_impl(len, value)
    }

    fn random(&self, len: usize, dist: Distribution, seed: u64) -> Result<WgpuStorage> {
        self.random_impl(len, dist, seed)
    }

    fn unary(&self, op: UnaryOp, x: &WgpuStorage, len: usize) -> Result<WgpuStorage> {
        self.unary_impl(op, x, len)
    }

    fn binary(
        &self,
        op: BinaryOp,
        a: &WgpuStorage,
        b: &WgpuStorage,
        layout: &BroadcastLayout,
    ) -> Result<WgpuStorage> {
        self.binary_impl(op, a, b, layout)
    }

    fn strided_copy(&self, x: &WgpuStorage, layout: &StridedLayout) -> Result<WgpuStorage> {
        self.strided_copy_impl(x, layout)
    }

    fn pad(
        &self,
        x: &WgpuStorage,
        x_dims: &[usize],
        out_dims: &[usize],
        offsets: &[usize],
    ) -> Result<WgpuStorage> {
        self.pad_impl(x, x_dims, out_dims, offsets)
    }

    fn concat(
        &self,
        parts: &[&WgpuStorage],
        dims: &[Vec<usize>],
        axis: usize,
        out_dims: &[usize],
    ) -> Result<WgpuStorage> {
        self.concat_impl(parts, dims, axis, out_dims)
    }

    fn reduce(
        &self,
        op: ReduceOp,
        x: &WgpuStorage,
        dims: &[usize],
        axes: &[usize],
    ) -> Result<WgpuStorage> {
        self.reduce_impl(op, x, dims, axes)
    }

    fn argmax(&self, x: &WgpuStorage, dims: &[usize], axis: usize) -> Result<WgpuStorage> {
        self.argmax_impl(x, dims, axis)
    }

    fn softmax(&self, x: &WgpuStorage, rows: usize, cols: usize, log: bool) -> Result<WgpuStorage> {
        self.softmax_impl(x, rows, cols, log)
    }

    fn matmul(&self, a: &WgpuStorage, b: &WgpuStorage, dims: MatmulDims) -> Result<WgpuStorage> {
        self.matmul_impl(a, b, dims)
    }

    fn conv2d(&self, x: &WgpuStorage, w: &WgpuStorage, g: &Conv2dGeom) -> Result<WgpuStorage> {
        self.conv2d_impl(x, w, g)
    }

    fn conv2d_backward_input(
        &self,
        dy: &WgpuStorage,
        w: &WgpuStorage,
        g: &Conv2dGeom,
    ) -> Result<WgpuStorage> {
        self.conv2d_backward_input_impl(dy, w, g)
    }

    fn conv2d_backward_filter(
        &self,
        x: &WgpuStorage,
        dy: &WgpuStorage,
        g: &Conv2dGeom,
    ) -> Result<WgpuStorage> {
        self.conv2d_backward_filter_impl(x, dy, g)
    }

    fn max_pool2d(&self, x: &WgpuStorage, g: &Pool2dGeom) -> Result<(WgpuStorage, WgpuStorage)> {
        self.max_pool2d_impl(x, g)
    }

    fn max_pool2d_backward(
        &self,
        dy: &WgpuStorage,
        argmax: &WgpuStorage,
        g: &Pool2dGeom,
    ) -> Result<WgpuStorage> {
        self.max_pool2d_backward_impl(dy, argmax, g)
    }

    fn avg_pool2d(&self, x: &WgpuStorage, g: &Pool2dGeom) -> Result<WgpuStorage> {
        self.avg_pool2d_impl(x, g)
    }

    fn avg_pool2d_backward(&self, dy: &WgpuStorage, g: &Pool2dGeom) -> Result<WgpuStorage> {
        self.avg_pool2d_backward_impl(dy, g)
    }

    fn upsample_nearest2d(
        &self,
        x: &WgpuStorage,
        dims: [usize; 4],
        scale_h: usize,
        scale_w: usize,
    ) -> Result<WgpuStorage> {
        self.upsample_impl(x, dims, scale_h, scale_w)
    }

    fn upsample_nearest2d_backward(
        &self,
        dy: &WgpuStorage,
        dims: [usize; 4],
        scale_h: usize,
        scale_w: usize,
    ) -> Result<WgpuStorage> {
        self.upsample_backward_impl(dy, dims, scale_h, scale_w)
    }

    fn index_select(
        &self,
        x: &WgpuStorage,
        outer: usize,
        axis_len: usize,
        inner: usize,
        indices: &[usize],
    ) -> Result<WgpuStorage> {
        self.index_select_impl(x, outer, axis_len, inner, indices)
    }

    fn index_add(
        &self,
        dy: &WgpuStorage,
        outer: usize,
        axis_len: usize,
        inner: usize,
        indices: &[usize],
    ) -> Result<WgpuStorage> {
        self.index_add_impl(dy, outer, axis_len, inner, indices)
    }

    fn lstm_gates(
        &self,
        gates: &WgpuStorage,
        c_prev: &WgpuStorage,
        n: usize,
        hidden: usize,
        forget_bias: f32,
    ) -> Result<(WgpuStorage, WgpuStorage)> {
        self.lstm_gates_impl(gates, c_prev, n, hidden, forget_bias)
    }

    fn lstm_gates_backward(
        &self,
        gates: &WgpuStorage,
        c_prev: &WgpuStorage,
        d_c: &WgpuStorage,
        d_h: &WgpuStorage,
        n: usize,
        hidden: usize,
        forget_bias: f32,
    ) -> Result<(WgpuStorage, WgpuStorage)> {
        self.lstm_gates_backward_impl(gates, c_prev, d_c, d_h, n, hidden, forget_bias)
    }

    fn adam_step(
        &self,
        param: &mut WgpuStorage,
        grad: &WgpuStorage,
        m: &mut WgpuStorage,
        v: &mut WgpuStorage,
        len: usize,
        step: AdamStep,
    ) -> Result<()> {
        self.adam_step_impl(param, grad, m, v, len, step)
    }

    fn axpby(
        &self,
        y: &mut Self::Storage,
        a: f32,
        x: &Self::Storage,
        b: f32,
        len: usize,
    ) -> Result<()> {
        self.axpby_impl(y, a, x, b, len)
    }
}
