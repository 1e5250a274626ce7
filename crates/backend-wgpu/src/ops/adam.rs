//! Fused Adam update (`shaders/adam.wgsl`).

use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use crate::pool::WgpuStorage;
use bytemuck::{Pod, Zeroable};
use tensor::{AdamStep, Result};

static SHADER: Shader = Shader {
    name: "adam",
    parts: &[COMMON_WGSL, include_str!("../../../../shaders/adam.wgsl")],
};
static ADAM: Kernel = Kernel {
    shader: &SHADER,
    entry: "adam_step",
    storage: &[Read, Read, Read, Read, ReadWrite, ReadWrite, ReadWrite],
};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct AdamParams {
    len: u32,
    lr_t: f32,
    beta1: f32,
    beta2: f32,
    epsilon: f32,
}

impl Wgpu {
    pub(crate) fn adam_step_impl(
        &self,
        param: &WgpuStorage,
        grad: &WgpuStorage,
        m: &WgpuStorage,
        v: &WgpuStorage,
        len: usize,
        step: AdamStep,
    ) -> Result<(WgpuStorage, WgpuStorage, WgpuStorage)> {
        let p_out = self.alloc("adam_step", len)?;
        let m_out = self.alloc("adam_step", len)?;
        let v_out = self.alloc("adam_step", len)?;
        let params = AdamParams {
            len: len as u32,
            lr_t: step.lr_t,
            beta1: step.beta1,
            beta2: step.beta2,
            epsilon: step.epsilon,
        };
        self.launch(
            &ADAM,
            &[],
            &params,
            &[param, grad, m, v, &p_out, &m_out, &v_out],
            self.grid(len)?,
        )?;
        Ok((p_out, m_out, v_out))
    }
}
