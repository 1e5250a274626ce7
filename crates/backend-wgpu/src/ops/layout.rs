//! The layout family: strided copy, pad and concat (`shaders/layout.wgsl`).

use super::{MAX_RANK, collapse, pack8, split_leading};
use crate::buffer_pool::WgpuStorage;
use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use tensor::{LayoutOps, Result, StridedLayout};

static SHADER: Shader = Shader {
    name: "layout",
    parts: &[COMMON_WGSL, include_str!("../../../../shaders/layout.wgsl")],
    generated: &[],
};
static STRIDED_COPY: Kernel = Kernel {
    shader: &SHADER,
    entry: "strided_copy",
    storage: &[Read, ReadWrite],
};
static PAD: Kernel = Kernel {
    shader: &SHADER,
    entry: "pad",
    storage: &[Read, ReadWrite],
};
static CONCAT_PART: Kernel = Kernel {
    shader: &SHADER,
    entry: "concat_part",
    storage: &[Read, ReadWrite],
};

params! {
    struct StridedParams {
        dims: [u32; MAX_RANK],
        strides: [u32; MAX_RANK],
        len: u32,
        rank: u32,
        offset: u32,
        y_offset: u32,
    }
}

params! {
    struct PadParams {
        x_dims: [u32; MAX_RANK],
        out_dims: [u32; MAX_RANK],
        offsets: [u32; MAX_RANK],
        len: u32,
        rank: u32,
    }
}

params! {
    struct ConcatParams {
        len: u32,
        src_cols: u32,
        dst_cols: u32,
        dst_col_offset: u32,
    }
}

/// Merges pad dimensions: dim `i + 1` folds into dim `i` when the box spans it
/// entirely (`x_dims == out_dims`, offset 0); size-1 dims are dropped.
fn collapse_pad(
    x_dims: &[usize],
    out_dims: &[usize],
    offsets: &[usize],
) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    let (mut xd, mut od, mut off) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..out_dims.len() {
        if out_dims[i] == 1 {
            continue;
        }
        let full = x_dims[i] == out_dims[i] && offsets[i] == 0;
        if full && !od.is_empty() {
            let last = od.len() - 1;
            xd[last] *= x_dims[i];
            off[last] *= out_dims[i];
            od[last] *= out_dims[i];
        } else {
            xd.push(x_dims[i]);
            od.push(out_dims[i]);
            off.push(offsets[i]);
        }
    }
    (xd, od, off)
}

impl LayoutOps for Wgpu {
    fn strided_copy(&self, x: &WgpuStorage, layout: &StridedLayout) -> Result<WgpuStorage> {
        let len: usize = layout.out_dims.iter().product();
        let out = self.alloc("strided_copy", len)?;
        let (dims, strides) = collapse(&layout.out_dims, &[&layout.strides]);
        // More than MAX_RANK dims: one launch per index of the leading ones.
        let (dims, strides, blocks) = split_leading(&dims, &strides);
        let inner_len: usize = dims.iter().product();
        for block in blocks {
            let params = StridedParams {
                dims: pack8(&dims),
                strides: pack8(&strides[0]),
                len: inner_len as u32,
                rank: dims.len() as u32,
                offset: (layout.offset + block.offsets[0]) as u32,
                y_offset: block.out_offset as u32,
            };
            self.launch(
                &STRIDED_COPY,
                &[],
                &params,
                &[x, &out],
                self.grid(inner_len)?,
            )?;
        }
        Ok(out)
    }

    fn pad(
        &self,
        x: &WgpuStorage,
        x_dims: &[usize],
        out_dims: &[usize],
        offsets: &[usize],
    ) -> Result<WgpuStorage> {
        let len: usize = out_dims.iter().product();
        let out = self.alloc("pad", len)?;
        let (xd, od, off) = collapse_pad(x_dims, out_dims, offsets);
        if od.len() > MAX_RANK {
            return Err(self.error(format!(
                "pad: {} non-mergeable dimensions (at most {MAX_RANK})",
                od.len()
            )));
        }
        let params = PadParams {
            x_dims: pack8(&xd),
            out_dims: pack8(&od),
            offsets: pack8(&off),
            len: len as u32,
            rank: od.len() as u32,
        };
        self.launch(&PAD, &[], &params, &[x, &out], self.grid(len)?)?;
        Ok(out)
    }

    fn concat(
        &self,
        parts: &[&WgpuStorage],
        dims: &[Vec<usize>],
        axis: usize,
        out_dims: &[usize],
    ) -> Result<WgpuStorage> {
        let len: usize = out_dims.iter().product();
        let out = self.alloc("concat", len)?;
        let outer: usize = out_dims[..axis].iter().product();
        let inner: usize = out_dims[axis + 1..].iter().product();
        let dst_cols = out_dims[axis] * inner;
        let mut col = 0;
        for (part, d) in parts.iter().zip(dims) {
            let src_cols = d[axis] * inner;
            let n = outer * src_cols;
            let params = ConcatParams {
                len: n as u32,
                src_cols: src_cols as u32,
                dst_cols: dst_cols as u32,
                dst_col_offset: col as u32,
            };
            self.launch(&CONCAT_PART, &[], &params, &[part, &out], self.grid(n)?)?;
            col += src_cols;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::collapse_pad;

    #[test]
    fn pad_dims_merge_when_the_box_spans_them() {
        // x [2, 3, 4] at offset [1, 0, 0] inside [5, 3, 4]: dims 1 and 2 fold into 0.
        let (xd, od, off) = collapse_pad(&[2, 3, 4], &[5, 3, 4], &[1, 0, 0]);
        assert_eq!((xd, od, off), (vec![24], vec![60], vec![12]));
        // A box that is partial in the last dim cannot merge it.
        let (xd, od, off) = collapse_pad(&[2, 3], &[2, 5], &[0, 1]);
        assert_eq!((xd, od, off), (vec![2, 3], vec![2, 5], vec![0, 1]));
    }
}

#[cfg(test)]
mod params_layout {
    #[test]
    fn params_structs_match_their_wgsl_declarations() {
        crate::ops::params::check_against_wgsl::<super::StridedParams>(&super::SHADER);
        crate::ops::params::check_against_wgsl::<super::PadParams>(&super::SHADER);
        crate::ops::params::check_against_wgsl::<super::ConcatParams>(&super::SHADER);
    }
}
