//! The base family: uploads, downloads and fills (`shaders/storage.wgsl`).

use crate::buffer_pool::WgpuStorage;
use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use tensor::{Result, StorageOps};

static SHADER: Shader = Shader {
    name: "storage",
    parts: &[
        COMMON_WGSL,
        include_str!("../../../../shaders/storage.wgsl"),
    ],
    generated: &[],
};
static FILL: Kernel = Kernel {
    shader: &SHADER,
    entry: "fill",
    storage: &[ReadWrite],
};

params! {
    struct FillParams {
        len: u32,
        value: f32,
    }
}

impl StorageOps for Wgpu {
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
        let out = self.alloc("fill", len)?;
        let params = FillParams {
            len: len as u32,
            value,
        };
        self.launch(&FILL, &[], &params, &[&out], self.grid(len)?)?;
        Ok(out)
    }
}

#[cfg(test)]
mod params_layout {
    #[test]
    fn params_structs_match_their_wgsl_declarations() {
        crate::ops::params::check_against_wgsl::<super::FillParams>(&super::SHADER);
    }
}
