//! # datasets
//!
//! Data for the example models, as plain `Vec<u8>` / `Vec<f32>` buffers: this
//! crate depends on no other crate of the workspace.
//!
//! - **MNIST-style IDX files** (MNIST, Fashion-MNIST, EMNIST), raw or gzipped:
//!   [`idx`] reads and writes them, with every malformation reported as a
//!   [`DatasetError`] naming the file and the problem.
//! - **A real MNIST subset built in**: [`Mnist::bundled`] returns 10,000 digits
//!   (8,000 train, 2,000 test) embedded in the library, so binaries work offline
//!   from any directory. [`Mnist::from_dir`] reads the full standard files and
//!   [`Mnist::load`] picks a `--data-dir`, then `MNIST_DIR`, then the bundled set.
//! - **CIFAR-10 / CIFAR-100** binary batches, converted to channels-last ([`Cifar10`]), and
//!   a generated CIFAR-10-format directory for tests and demos ([`write_synthetic_cifar10`]).
//! - **Generated sets**: the Keras addition problems ([`AdditionProblems`]),
//!   1-D targets for the toy GAN ([`Gaussian`], [`GaussianMixture`]) and a
//!   character table for text models ([`CharTable`], [`SequencePairs`]).
//! - **Batching and scaling**: a seeded, reproducible [`BatchSampler`],
//!   [`gather_rows`], and the [`normalize`] helpers.
//! - **Augmentation**: Keras-style random shifts and horizontal flips ([`Augment`]).
//! - **A checksummed cache** ([`cache`]); the `download` feature fills it with `curl`.
//!
//! Images are NHWC (`[count, rows, cols, channels]`), as the framework is channels-last.
//!
//! ## Example
//!
//! ```
//! use datasets::{BatchSampler, Mnist, gather_rows};
//!
//! let mnist = Mnist::bundled()?;
//! assert_eq!(mnist.train.shape(), [8000, 28, 28, 1]);
//!
//! // Pixels in [-1, 1] for a tanh generator, and the labels one-hot.
//! let x = mnist.train.to_f32_signed();
//! let y = mnist.train.labels_one_hot();
//!
//! // Shuffled batches of 32, reproducible from the seed; a new order each epoch.
//! let sampler = BatchSampler::new(mnist.train.len(), 32)?.shuffle(7).drop_last(true);
//! for (step, batch) in sampler.epoch(0).enumerate().take(2) {
//!     let xb = gather_rows(&x, 28 * 28, &batch)?; // [32, 784]
//!     let yb = gather_rows(&y, 10, &batch)?; // [32, 10]
//!     assert_eq!((xb.len(), yb.len()), (32 * 784, 32 * 10));
//!     let _ = step;
//! }
//!
//! // Transfer learning: digits 5-9 relabelled 0-4.
//! let upper = mnist.train.filter_classes(&[5, 6, 7, 8, 9], true)?;
//! assert_eq!(upper.num_classes, 5);
//!
//! // The addition task, questions reversed as in Keras.
//! let problems = datasets::AdditionProblems::generate(1000, 3, 42, true)?;
//! let (train, val) = problems.split(0.1)?;
//! assert_eq!((train.len(), val.len()), (900, 100));
//! assert_eq!(train.encode_questions().len(), 900 * 7 * 12);
//! # Ok::<(), datasets::DatasetError>(())
//! ```

pub mod addition;
pub mod augment;
pub mod batch;
pub mod cache;
pub mod cifar;
pub mod error;
pub mod fileio;
pub mod idx;
pub mod image_set;
pub mod mnist;
pub mod normalize;
pub mod text;
pub mod toy1d;

pub use addition::{ADDITION_ALPHABET, AdditionProblems, addition_table};
pub use augment::Augment;
pub use batch::{BatchSampler, Batches, gather_rows, permutation};
pub use cifar::{CIFAR10_CLASSES, Cifar10, Cifar100, Cifar100Set, write_synthetic_cifar10};
pub use error::{DatasetError, Result};
pub use idx::{IdxImages, read_idx_images, read_idx_labels, write_idx_images, write_idx_labels};
pub use image_set::{ImageSet, one_hot};
pub use mnist::{MNIST_DIR_ENV, Mnist, load_image_set};
pub use normalize::ChannelStats;
pub use text::{CharTable, SAMPLE_TEXT, SequencePairs, argmax, bundled_corpus, read_corpus};
pub use toy1d::{Distribution1d, Gaussian, GaussianMixture};
