//! The elementwise family: unary and broadcasting binary ops
//! (`shaders/elementwise.wgsl` plus the `unary_op` / `binary_op` switches generated
//! from the op table in `tensor::backend`, so op codes cannot drift).

use super::{MAX_RANK, collapse, pack8, split_leading};
use crate::buffer_pool::WgpuStorage;
use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use tensor::{BinaryOp, BroadcastLayout, ElementwiseOps, Result, UnaryOp};

static SHADER: Shader = Shader {
    name: "elementwise",
    parts: &[
        COMMON_WGSL,
        include_str!("../../../../shaders/elementwise.wgsl"),
    ],
    // The op switches, generated from the table in tensor::backend::elementwise.
    generated: &[UnaryOp::wgsl_function, BinaryOp::wgsl_function],
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

params! {
    struct UnaryParams {
        len: u32,
        op: u32,
        p0: f32,
        p1: f32,
    }
}

params! {
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
}

impl ElementwiseOps for Wgpu {
    fn unary(&self, op: UnaryOp, x: &WgpuStorage, len: usize) -> Result<WgpuStorage> {
        let out = self.alloc("unary", len)?;
        let [p0, p1] = op.params();
        let params = UnaryParams {
            len: len as u32,
            op: op.code(),
            p0,
            p1,
        };
        self.launch(&UNARY, &[], &params, &[x, &out], self.grid(len)?)?;
        Ok(out)
    }

    fn binary(
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
                op: op.code(),
                a_offset: block.offsets[0] as u32,
                b_offset: block.offsets[1] as u32,
                y_offset: block.out_offset as u32,
            };
            self.launch(&BINARY, &[], &params, &[a, b, &out], self.grid(inner_len)?)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod params_layout {
    #[test]
    fn params_structs_match_their_wgsl_declarations() {
        crate::ops::params::check_against_wgsl::<super::UnaryParams>(&super::SHADER);
        crate::ops::params::check_against_wgsl::<super::BinaryParams>(&super::SHADER);
    }

    /// `UnaryParams` with `p0` and `p1` swapped: the check must catch it.
    struct SwappedUnaryParams;
    impl crate::ops::params::Described for SwappedUnaryParams {
        const NAME: &'static str = "UnaryParams";
        fn fields() -> Vec<(&'static str, usize, usize)> {
            vec![("len", 0, 4), ("op", 4, 4), ("p1", 8, 4), ("p0", 12, 4)]
        }
    }

    #[test]
    #[should_panic(expected = "UnaryParams (name, offset, size)")]
    fn a_field_out_of_order_is_caught() {
        crate::ops::params::check_against_wgsl::<SwappedUnaryParams>(&super::SHADER);
    }
}
