//! Fused LSTM gate step, forward and backward (`shaders/lstm.wgsl`).

use crate::buffer_pool::WgpuStorage;
use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use tensor::{LstmOps, Result};

static SHADER: Shader = Shader {
    name: "lstm",
    parts: &[COMMON_WGSL, include_str!("../../../../shaders/lstm.wgsl")],
    generated: &[],
};
static FORWARD: Kernel = Kernel {
    shader: &SHADER,
    entry: "lstm_forward",
    storage: &[Read, Read, ReadWrite, ReadWrite],
};
static BACKWARD: Kernel = Kernel {
    shader: &SHADER,
    entry: "lstm_backward",
    storage: &[Read, Read, Read, Read, ReadWrite, ReadWrite],
};

params! {
    struct LstmParams {
        len: u32,
        hidden: u32,
        forget_bias: f32,
    }
}

impl LstmOps for Wgpu {
    fn lstm_gates(
        &self,
        gates: &WgpuStorage,
        c_prev: &WgpuStorage,
        n: usize,
        hidden: usize,
        forget_bias: f32,
    ) -> Result<(WgpuStorage, WgpuStorage)> {
        let len = n * hidden;
        self.check_binding_size("lstm_gates", 4 * len)?;
        let c = self.alloc("lstm_gates", len)?;
        let h = self.alloc("lstm_gates", len)?;
        let params = LstmParams {
            len: len as u32,
            hidden: hidden as u32,
            forget_bias,
        };
        self.launch(
            &FORWARD,
            &[],
            &params,
            &[gates, c_prev, &c, &h],
            self.grid(len)?,
        )?;
        Ok((c, h))
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
        let len = n * hidden;
        let d_gates = self.alloc("lstm_gates_backward", 4 * len)?;
        let d_c_prev = self.alloc("lstm_gates_backward", len)?;
        let params = LstmParams {
            len: len as u32,
            hidden: hidden as u32,
            forget_bias,
        };
        self.launch(
            &BACKWARD,
            &[],
            &params,
            &[gates, c_prev, d_c, d_h, &d_gates, &d_c_prev],
            self.grid(len)?,
        )?;
        Ok((d_gates, d_c_prev))
    }
}

#[cfg(test)]
mod params_layout {
    #[test]
    fn params_structs_match_their_wgsl_declarations() {
        crate::ops::params::check_against_wgsl::<super::LstmParams>(&super::SHADER);
    }
}
