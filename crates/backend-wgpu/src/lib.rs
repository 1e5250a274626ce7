//! The GPU backend: wgpu with hand-written WGSL kernels.
