//! The resize family: bilinear resizing and its backward (`shaders/resize.wgsl`).

use crate::buffer_pool::WgpuStorage;
use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use tensor::backend::bilinear_taps;
use tensor::{ResizeOps, Result, StorageOps};

static SHADER: Shader = Shader {
    name: "resize",
    parts: &[COMMON_WGSL, include_str!("../../../../shaders/resize.wgsl")],
    generated: &[],
};
static FORWARD: Kernel = Kernel {
    shader: &SHADER,
    entry: "resize_bilinear",
    storage: &[Read, Read, ReadWrite],
};
static BACKWARD: Kernel = Kernel {
    shader: &SHADER,
    entry: "resize_bilinear_backward",
    storage: &[Read, Read, ReadWrite],
};

params! {
    struct ResizeParams {
        len: u32,
        n: u32,
        h: u32,
        w: u32,
        c: u32,
        out_h: u32,
        out_w: u32,
        y_offsets: u32,
        y_entries: u32,
        x_offsets: u32,
        x_entries: u32,
    }
}

/// Forward table of one axis: `(lower, upper, weight bits)` per output index.
fn forward_table(table: &mut Vec<u32>, in_len: usize, out_len: usize) {
    for (lo, hi, lerp) in bilinear_taps(in_len, out_len) {
        table.extend([lo as u32, hi as u32, lerp.to_bits()]);
    }
}

/// Backward table of one axis: CSR offsets per input index, then `(output index,
/// weight bits)` pairs; returns where the pairs start.
fn backward_table(table: &mut Vec<u32>, in_len: usize, out_len: usize) -> usize {
    let mut lists: Vec<Vec<(u32, f32)>> = vec![Vec::new(); in_len];
    for (o, (lo, hi, lerp)) in bilinear_taps(in_len, out_len).into_iter().enumerate() {
        lists[lo].push((o as u32, 1.0 - lerp));
        lists[hi].push((o as u32, lerp));
    }
    let mut offset = 0u32;
    for list in &lists {
        table.push(offset);
        offset += list.len() as u32;
    }
    table.push(offset);
    let entries = table.len();
    for (o, weight) in lists.into_iter().flatten() {
        table.extend([o, weight.to_bits()]);
    }
    entries
}

impl ResizeOps for Wgpu {
    fn resize_bilinear(
        &self,
        x: &WgpuStorage,
        dims: [usize; 4],
        out_h: usize,
        out_w: usize,
    ) -> Result<WgpuStorage> {
        let [n, h, w, c] = dims;
        let len = n * out_h * out_w * c;
        let out = self.alloc("resize_bilinear", len)?;
        if len == 0 {
            return Ok(out);
        }
        let mut table = Vec::new();
        forward_table(&mut table, h, out_h);
        let x_offsets = table.len();
        forward_table(&mut table, w, out_w);
        let table = self.upload("resize_bilinear", &table)?;
        let params = ResizeParams {
            len: len as u32,
            n: n as u32,
            h: h as u32,
            w: w as u32,
            c: c as u32,
            out_h: out_h as u32,
            out_w: out_w as u32,
            y_offsets: 0,
            y_entries: 0,
            x_offsets: x_offsets as u32,
            x_entries: 0,
        };
        self.launch(&FORWARD, &[], &params, &[x, &table, &out], self.grid(len)?)?;
        Ok(out)
    }

    fn resize_bilinear_backward(
        &self,
        dy: &WgpuStorage,
        dims: [usize; 4],
        out_h: usize,
        out_w: usize,
    ) -> Result<WgpuStorage> {
        let [n, h, w, c] = dims;
        let len = n * h * w * c;
        if len == 0 || out_h * out_w == 0 {
            return self.fill(len, 0.0);
        }
        let out = self.alloc("resize_bilinear_backward", len)?;
        let mut table = Vec::new();
        let y_entries = backward_table(&mut table, h, out_h);
        let x_offsets = table.len();
        let x_entries = backward_table(&mut table, w, out_w);
        let table = self.upload("resize_bilinear_backward", &table)?;
        let params = ResizeParams {
            len: len as u32,
            n: n as u32,
            h: h as u32,
            w: w as u32,
            c: c as u32,
            out_h: out_h as u32,
            out_w: out_w as u32,
            y_offsets: 0,
            y_entries: y_entries as u32,
            x_offsets: x_offsets as u32,
            x_entries: x_entries as u32,
        };
        self.launch(
            &BACKWARD,
            &[],
            &params,
            &[dy, &table, &out],
            self.grid(len)?,
        )?;
        Ok(out)
    }
}

#[cfg(test)]
mod params_layout {
    #[test]
    fn params_structs_match_their_wgsl_declarations() {
        crate::ops::params::check_against_wgsl::<super::ResizeParams>(&super::SHADER);
    }
}
