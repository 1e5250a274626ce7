//! The example models of the project: one folder per model (the model, its training
//! step and its binary's driver), generic over `B: Backend`, plus a thin binary in
//! `src/bin/`. What runs a training (run directory, metrics, progress, the loop,
//! checkpoints, charts) is the `train` crate.
//!
//! - [`gan`]: the MLP GAN on MNIST (the headline binary, `cargo run --release -p models --bin gan`).
//! - [`toy_gan`]: a GAN learning a 1-D Gaussian or a mixture, with density and decision plots
//!   (`--bin toy_gan`).
//! - [`label_to_image`]: softmax regression run backwards, from a digit label to its picture
//!   (`--bin label_to_image`).
//! - [`acgan`]: the auxiliary-classifier GAN of Keras' `mnist_acgan`, digits on demand
//!   (`--bin acgan`).
//! - [`mnist_cnn`]: the MNIST CNN classifier of the original tutorial, trained with
//!   `train::Fit` (`--bin mnist_cnn`).
//! - [`cifar10_cnn`]: Keras' CIFAR-10 CNN with shift/flip augmentation (`--bin cifar10_cnn`).
//! - [`transfer_cnn`]: Keras' transfer-learning example, digits 0-4 then 5-9 with frozen
//!   features (`--bin transfer_cnn`).
//! - [`antirectifier`]: Keras' custom-layer example; the how-to for writing a layer
//!   (`--bin antirectifier`).
//! - [`conv_pool`]: SEEDS.md's convolution and pooling worked example (`--bin conv_pool`).
//! - [`addition_rnn`]: Keras' learn-to-add sequence-to-sequence LSTM (`--bin addition_rnn`).
//! - [`text_lstm`]: a character LSTM language model with sampling (`--bin text_lstm`).
//! - [`lstm_cell`]: SEEDS.md's LSTM step worked through (`--bin lstm_cell`).
//! - [`deep_dream`]: gradient ascent on a picture through the MNIST CNN, with octaves
//!   (`--bin deep_dream`).

pub mod acgan;
pub mod addition_rnn;
pub mod adversarial;
pub mod antirectifier;
pub mod cifar10_cnn;
pub mod classifier;
pub mod cli;
pub mod conv_pool;
pub mod data;
pub mod deep_dream;
pub mod export;
pub mod gan;
pub mod label_to_image;
pub mod lstm_cell;
pub mod mnist_cnn;
pub mod plot;
pub mod supervised;
pub mod text_lstm;
pub mod toy_gan;
pub mod transfer_cnn;

pub use cli::{BackendKind, CommonArgs};

/// Runs `$body` with `$be` bound to the backend chosen on the command line. For the CPU
/// backend the calling thread (a binary's main thread) first joins the thread pool
/// ([`backend_cpu::join_thread_pool`]).
///
/// ```ignore
/// with_backend!(args.common.backend, be => gan::run::train(be, &args.common))
/// ```
#[macro_export]
macro_rules! with_backend {
    ($kind:expr, $be:ident => $body:expr) => {
        match $kind {
            $crate::BackendKind::Cpu => {
                backend_cpu::join_thread_pool();
                let $be = backend_cpu::Cpu;
                $body
            }
            #[cfg(feature = "wgpu")]
            $crate::BackendKind::Wgpu => match backend_wgpu::Wgpu::new() {
                Ok($be) => $body,
                Err(e) => Err(train::Error::from(e)),
            },
            #[cfg(not(feature = "wgpu"))]
            $crate::BackendKind::Wgpu => Err(train::Error::from(tensor::Error::backend(
                "wgpu",
                "this binary was built without the `wgpu` feature",
            ))),
        }
    };
}
