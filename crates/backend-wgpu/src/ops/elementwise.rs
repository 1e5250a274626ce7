//! Fill, unary and broadcasting binary ops (`shaders/elementwise.wgsl`).

use super::{MAX_RANK, collapse, pack8, split_leading};
use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use crate::pool::WgpuStorage;
use bytemuck::{Pod, Zeroable};
use tensor::{BinaryOp, BroadcastLayout, Result, UnaryOp};

static SHADER: Shader = Shader {
    name: "elementwise",
    parts: &[
        COMMON_WGSL,
        include_str!("../../../../shaders/elementwise.wgsl"),
    ],
};
static FILL: Kernel = Kernel {
    shader: &SHADER,
    entry: "fill",
    storage: &[ReadWrite],
};
static UNARY: Kernel = Kernel {
    shader: &SHADER,
    entry: "unary",
    storage: &[Read, ReadWrite],
};
static BINARY: Kernel = Kernel {
    shader: &SHADER,
    entry: "binary",
    storage: &[Read, Read, ReadWrite],
};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct FillParams {
    len: u32,
    value: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct UnaryParams {
    len: u32,
    op: u32,
    p0: f32,
    p1: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct BinaryParams {
    dims: [u32; MAX_RANK],
    a_strides: [u32; MAX_RANK],
    b_strides: [u32; MAX_RANK],
    len: u32,
    rank: u32,
    op: u32,
    a_offset: u32,
    b_offset: u32,
    y_offset: u32,
}

/// `(op code in unary_op, p0, p1)`.
fn unary_code(op: UnaryOp) -> (u32, f32, f32) {
    use UnaryOp::*;
    match op {
        Neg => (0, 0.0, 0.0),
        Abs => (1, 0.0, 0.0),
        Exp => (2, 0.0, 0.0),
        Log => (3, 0.0, 0.0),
        Sqrt => (4, 0.0, 0.0),
        Recip => (5, 0.0, 0.0),
        Square => (6, 0.0, 0.0),
        Relu => (7, 0.0, 0.0),
        LeakyRelu(alpha) => (8, alpha, 0.0),
        Sigmoid => (9, 0.0, 0.0),
        Tanh => (10, 0.0, 0.0),
        Powf(p) => (11, p, 0.0),
        AddScalar(c) => (12, c, 0.0),
        MulScalar(c) => (13, c, 0.0),
        Clamp(lo, hi) => (14, lo, hi),
        GtScalar(c) => (15, c, 0.0),
        InRange(lo, hi) => (16, lo, hi),
        Sign => (17, 0.0, 0.0),
    }
}

fn binary_code(op: BinaryOp) -> u32 {
    use BinaryOp::*;
    match op {
        Add => 0,
        Sub => 1,
        Mul => 2,
        Div => 3,
        Pow => 4,
        Maximum => 5,
        Minimum => 6,
        Eq => 7,
        Gt => 8,
        Ge => 9,
    }
}

impl Wgpu {
    pub(crate) fn fill_impl(&self, len: usize, value: f32) -> Result<WgpuStorage> {
        let out = self.alloc("fill", len)?;
        let params = FillParams {
            len: len as u32,
            value,
        };
        self.launch(&FILL, &[], &params, &[&out], self.grid(len)?)?;
        Ok(out)
    }

    pub(crate) fn unary_impl(
        &self,
        op: UnaryOp,
        x: &WgpuStorage,
        len: usize,
    ) -> Result<WgpuStorage> {
        let out = self.alloc("unary", len)?;
        let (code, p0, p1) = unary_code(op);
        let params = UnaryParams {
            len: len as u32,
            op: code,
            p0,
            p1,
        };
        self.launch(&UNARY, &[], &params, &[x, &out], self.grid(len)?)?;
        Ok(out)
    }

    pub(crate) fn binary_impl(
        &self,
        op: BinaryOp,
        a: &WgpuStorage,
        b: &WgpuStorage,
        layout: &BroadcastLayout,
    ) -> Result<WgpuStorage> {
        let len: usize = layout.out_dims.iter().product();
        let out = self.alloc("binary", len)?;
        let (dims, strides) = collapse(&layout.out_dims, &[&layout.a_strides, &layout.b_strides]);
        // More than MAX_RANK dims: one launch per index of the leading ones.
        let (dims, strides, blocks) = split_leading(&dims, &strides);
        let inner_len: usize = dims.iter().product();
        for block in blocks {
            let params = BinaryParams {
                dims: pack8(&dims),
                a_strides: pack8(&strides[0]),
                b_strides: pack8(&strides[1]),
                len: inner_len as u32,
                rank: dims.len() as u32,
                op: binary_code(op),
                a_offset: block.offsets[0] as u32,
                b_offset: block.offsets[1] as u32,
                y_offset: block.out_offset as u32,
            };
            self.launch(&BINARY, &[], &params, &[a, b, &out], self.grid(inner_len)?)?;
        }
        Ok(out)
    }
}
