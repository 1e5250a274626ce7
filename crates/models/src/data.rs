//! The data the MNIST models train on.

use std::path::Path;
use train::Result;

/// MNIST from `--data-dir` (standard file names, raw or .gz), else from the directory
/// named by `MNIST_DIR` when it is set, else the bundled subset ([`datasets::Mnist::load`]).
pub fn load_mnist(data_dir: Option<&Path>) -> Result<datasets::Mnist> {
    Ok(datasets::Mnist::load(data_dir)?)
}
