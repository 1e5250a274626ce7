//! The gather family: index_select and its backward index_add (`shaders/gather.wgsl`).

use crate::buffer_pool::WgpuStorage;
use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use tensor::{Error, GatherOps, Result};

static SHADER: Shader = Shader {
    name: "gather",
    parts: &[COMMON_WGSL, include_str!("../../../../shaders/gather.wgsl")],
    generated: &[],
};
static INDEX_SELECT: Kernel = Kernel {
    shader: &SHADER,
    entry: "index_select",
    storage: &[Read, Read, ReadWrite],
};

static INDEX_ADD: Kernel = Kernel {
    shader: &SHADER,
    entry: "index_add",
    storage: &[Read, Read, ReadWrite],
};

params! {
    struct IndexParams {
        len: u32,
        outer: u32,
        axis_len: u32,
        inner: u32,
        n_idx: u32,
        pos_base: u32,
    }
}

impl Wgpu {
    fn check_indices(&self, op: &'static str, indices: &[usize], axis_len: usize) -> Result<()> {
        if let Some(bad) = indices.iter().find(|&&i| i >= axis_len) {
            return Err(Error::argument(
                op,
                format!("index {bad} out of range for an axis of length {axis_len}"),
            ));
        }
        Ok(())
    }
}

impl GatherOps for Wgpu {
    fn index_select(
        &self,
        x: &WgpuStorage,
        outer: usize,
        axis_len: usize,
        inner: usize,
        indices: &[usize],
    ) -> Result<WgpuStorage> {
        self.check_indices("index_select", indices, axis_len)?;
        let len = outer * indices.len() * inner;
        let out = self.alloc("index_select", len)?;
        if len == 0 {
            return Ok(out);
        }
        let idx: Vec<u32> = indices.iter().map(|&i| i as u32).collect();
        let idx = self.upload("index_select", &idx)?;
        let params = IndexParams {
            len: len as u32,
            outer: outer as u32,
            axis_len: axis_len as u32,
            inner: inner as u32,
            n_idx: indices.len() as u32,
            pos_base: 0,
        };
        self.launch(
            &INDEX_SELECT,
            &[],
            &params,
            &[x, &idx, &out],
            self.grid(len)?,
        )?;
        Ok(out)
    }

    fn index_add(
        &self,
        dy: &WgpuStorage,
        outer: usize,
        axis_len: usize,
        inner: usize,
        indices: &[usize],
    ) -> Result<WgpuStorage> {
        self.check_indices("index_add", indices, axis_len)?;
        let len = outer * axis_len * inner;
        let out = self.alloc("index_add", len)?;
        if len == 0 {
            return Ok(out);
        }
        // CSR inverse of `indices`: row starts, then positions in ascending order.
        let mut csr = vec![0u32; axis_len + 1 + indices.len()];
        for &i in indices {
            csr[i + 1] += 1;
        }
        for a in 0..axis_len {
            csr[a + 1] += csr[a];
        }
        let mut next: Vec<u32> = csr[..axis_len].to_vec();
        for (j, &i) in indices.iter().enumerate() {
            csr[axis_len + 1 + next[i] as usize] = j as u32;
            next[i] += 1;
        }
        let csr = self.upload("index_add", &csr)?;
        let params = IndexParams {
            len: len as u32,
            outer: outer as u32,
            axis_len: axis_len as u32,
            inner: inner as u32,
            n_idx: indices.len() as u32,
            pos_base: (axis_len + 1) as u32,
        };
        self.launch(&INDEX_ADD, &[], &params, &[dy, &csr, &out], self.grid(len)?)?;
        Ok(out)
    }
}

#[cfg(test)]
mod params_layout {
    #[test]
    fn params_structs_match_their_wgsl_declarations() {
        crate::ops::params::check_against_wgsl::<super::IndexParams>(&super::SHADER);
    }
}
