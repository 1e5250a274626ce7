//! The example models of the project, each a library module generic over
//! `B: Backend` plus a thin binary in `src/bin/`.
//!
//! - [`gan`]: the MLP GAN on MNIST (the headline binary, `cargo run --release -p models --bin gan`).

pub mod classifier;
pub mod cli;
pub mod gan;
pub mod gan_run;
pub mod plot;
pub mod run;

pub use cli::{BackendKind, CommonArgs};

/// Runs `$body` with `$be` bound to the backend chosen on the command line.
///
/// ```ignore
/// with_backend!(args.common.backend, be => gan_run::train(be, &args.common))
/// ```
#[macro_export]
macro_rules! with_backend {
    ($kind:expr, $be:ident => $body:expr) => {
        match $kind {
            $crate::BackendKind::Cpu => {
                let $be = backend_cpu::Cpu;
                $body
            }
            #[cfg(feature = "wgpu")]
            $crate::BackendKind::Wgpu => match backend_wgpu::Wgpu::new() {
                Ok($be) => $body,
                Err(e) => Err(e),
            },
            #[cfg(not(feature = "wgpu"))]
            $crate::BackendKind::Wgpu => Err(tensor::Error::backend(
                "wgpu",
                "this binary was built without the `wgpu` feature",
            )),
        }
    };
}
