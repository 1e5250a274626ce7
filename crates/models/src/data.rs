//! The data the MNIST models train on.

use std::path::Path;
use train::Result;

/// MNIST from `--data-dir` (standard file names, raw or .gz), else the bundled subset.
pub fn load_mnist(data_dir: Option<&Path>) -> Result<datasets::Mnist> {
    Ok(match data_dir {
        Some(dir) => datasets::Mnist::from_dir(dir),
        None => datasets::Mnist::bundled(),
    }?)
}
