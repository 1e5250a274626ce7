//! In-place optimizer updates (`shaders/optim.wgsl`): the fused Adam and RMSprop
//! steps and `axpby`.

use crate::buffer_pool::WgpuStorage;
use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use tensor::{AdamStep, OptimOps, Result, RmsPropStep};

static SHADER: Shader = Shader {
    name: "optim",
    parts: &[COMMON_WGSL, include_str!("../../../../shaders/optim.wgsl")],
    generated: &[],
};
static ADAM: Kernel = Kernel {
    shader: &SHADER,
    entry: "adam_step",
    storage: &[ReadWrite, Read, ReadWrite, ReadWrite],
};

static RMSPROP: Kernel = Kernel {
    shader: &SHADER,
    entry: "rmsprop_step",
    storage: &[ReadWrite, Read, ReadWrite],
};

static AXPBY: Kernel = Kernel {
    shader: &SHADER,
    entry: "axpby",
    storage: &[ReadWrite, Read],
};

params! {
    struct AxpbyParams {
        len: u32,
        a: f32,
        b: f32,
    }
}

params! {
    struct AdamParams {
        len: u32,
        lr_t: f32,
        beta1: f32,
        beta2: f32,
        epsilon: f32,
    }
}

params! {
    struct RmsPropParams {
        len: u32,
        lr: f32,
        rho: f32,
        epsilon: f32,
        epsilon_outside_sqrt: u32,
    }
}

impl OptimOps for Wgpu {
    /// Updates `param`, `m` and `v` in place; a storage shared with another handle
    /// is copied first (clone-on-write), so no other tensor sees the change.
    fn adam_step(
        &self,
        param: &mut WgpuStorage,
        grad: &WgpuStorage,
        m: &mut WgpuStorage,
        v: &mut WgpuStorage,
        len: usize,
        step: AdamStep,
    ) -> Result<()> {
        for s in [&mut *param, &mut *m, &mut *v] {
            self.make_unique("adam_step", s)?;
        }
        let params = AdamParams {
            len: len as u32,
            lr_t: step.lr_t,
            beta1: step.beta1,
            beta2: step.beta2,
            epsilon: step.epsilon,
        };
        self.launch(&ADAM, &[], &params, &[param, grad, m, v], self.grid(len)?)
    }

    /// Updates `param` and `acc` in place (clone-on-write as `adam_step`).
    fn rmsprop_step(
        &self,
        param: &mut WgpuStorage,
        grad: &WgpuStorage,
        acc: &mut WgpuStorage,
        len: usize,
        step: RmsPropStep,
    ) -> Result<()> {
        for s in [&mut *param, &mut *acc] {
            self.make_unique("rmsprop_step", s)?;
        }
        let params = RmsPropParams {
            len: len as u32,
            lr: step.lr,
            rho: step.rho,
            epsilon: step.epsilon,
            epsilon_outside_sqrt: step.epsilon_outside_sqrt as u32,
        };
        self.launch(&RMSPROP, &[], &params, &[param, grad, acc], self.grid(len)?)
    }

    /// `y = a * y + b * x` in place; a shared `y` is copied first (clone-on-write).
    fn axpby(
        &self,
        y: &mut WgpuStorage,
        a: f32,
        x: &WgpuStorage,
        b: f32,
        len: usize,
    ) -> Result<()> {
        self.make_unique("axpby", y)?;
        let params = AxpbyParams {
            len: len as u32,
            a,
            b,
        };
        self.launch(&AXPBY, &[], &params, &[y, x], self.grid(len)?)
    }
}

#[cfg(test)]
mod params_layout {
    #[test]
    fn params_structs_match_their_wgsl_declarations() {
        crate::ops::params::check_against_wgsl::<super::AxpbyParams>(&super::SHADER);
        crate::ops::params::check_against_wgsl::<super::AdamParams>(&super::SHADER);
        crate::ops::params::check_against_wgsl::<super::RmsPropParams>(&super::SHADER);
    }
}
