//! Stable softmax and log-softmax over rows (`shaders/softmax.wgsl`).

use crate::buffer_pool::WgpuStorage;
use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use tensor::{Result, SoftmaxOps};

static SHADER: Shader = Shader {
    name: "softmax",
    parts: &[
        COMMON_WGSL,
        include_str!("../../../../shaders/softmax.wgsl"),
    ],
    generated: &[],
};
static SOFTMAX_THREAD: Kernel = Kernel {
    shader: &SHADER,
    entry: "softmax_thread",
    storage: &[Read, ReadWrite],
};
static SOFTMAX_GROUP: Kernel = Kernel {
    shader: &SHADER,
    entry: "softmax_group",
    storage: &[Read, ReadWrite],
};

params! {
    struct SoftmaxParams {
        rows: u32,
        cols: u32,
        log_out: u32,
    }
}

/// Rows at least this long get a workgroup each.
const GROUP_MIN_COLS: usize = 64;

impl SoftmaxOps for Wgpu {
    fn softmax(&self, x: &WgpuStorage, rows: usize, cols: usize, log: bool) -> Result<WgpuStorage> {
        let out = self.alloc("softmax", rows * cols)?;
        if rows * cols == 0 {
            return Ok(out);
        }
        let params = SoftmaxParams {
            rows: rows as u32,
            cols: cols as u32,
            log_out: log as u32,
        };
        if cols >= GROUP_MIN_COLS {
            let grid = self.grid_groups(rows)?;
            self.launch(&SOFTMAX_GROUP, &[], &params, &[x, &out], grid)?;
        } else {
            self.launch(&SOFTMAX_THREAD, &[], &params, &[x, &out], self.grid(rows)?)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod params_layout {
    #[test]
    fn params_structs_match_their_wgsl_declarations() {
        crate::ops::params::check_against_wgsl::<super::SoftmaxParams>(&super::SHADER);
    }
}
