//! The data the MNIST models train on.

use std::path::Path;
use train::Result;

/// MNIST from `--data-dir` (standard file names, raw or .gz), else from the directory
/// named by `MNIST_DIR` when it is set, else the bundled subset.
pub fn load_mnist(data_dir: Option<&Path>) -> Result<datasets::Mnist> {
    match (data_dir, datasets::mnist::mnist_dir_from_env()) {
        (Some(dir), _) => Ok(datasets::Mnist::from_dir(dir)?),
        (None, Some(dir)) => datasets::Mnist::from_dir(&dir).map_err(|e| {
            train::Error::argument(
                "MNIST_DIR",
                format!(
                    "the environment variable MNIST_DIR names {}, which does not hold MNIST: {e}",
                    dir.display()
                ),
            )
        }),
        (None, None) => Ok(datasets::Mnist::bundled()?),
    }
}
