//! MNIST and Fashion-MNIST: the bundled 10,000-digit subset, a directory of
//! the standard IDX files, or the directory named by `MNIST_DIR`.

use std::path::{Path, PathBuf};

use crate::cache;
use crate::error::{DatasetError, Result};
use crate::idx::{self, find_raw_or_gz};
use crate::image_set::ImageSet;

/// Environment variable naming a directory with the standard MNIST file names.
pub const MNIST_DIR_ENV: &str = "MNIST_DIR";

/// Standard file names (each may also carry a `.gz` suffix).
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// Number of images in the bundled subset, and how it is split.
pub const BUNDLED_COUNT: usize = 10_000;
pub const BUNDLED_TRAIN: usize = 8_000;
pub const BUNDLED_TEST: usize = 2_000;

const BUNDLED_IMAGES_NAME: &str = "mnist-10k-images-idx3-ubyte.gz";
const BUNDLED_LABELS_NAME: &str = "mnist-10k-labels-idx1-ubyte.gz";
static BUNDLED_IMAGES: &[u8] = include_bytes!("../data/mnist-10k-images-idx3-ubyte.gz");
static BUNDLED_LABELS: &[u8] = include_bytes!("../data/mnist-10k-labels-idx1-ubyte.gz");

/// MNIST-style digits (28x28x1, 10 classes) split into train and test sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mnist {
    pub train: ImageSet,
    pub test: ImageSet,
}

impl Mnist {
    /// The 10,000 real MNIST digits embedded in this crate (first 8,000 train,
    /// last 2,000 test). Needs no file and no configuration.
    pub fn bundled() -> Result<Mnist> {
        let images_path = Path::new("<bundled>").join(BUNDLED_IMAGES_NAME);
        let labels_path = Path::new("<bundled>").join(BUNDLED_LABELS_NAME);
        let images = idx::parse_idx_images(BUNDLED_IMAGES.to_vec(), &images_path)?;
        let labels = idx::parse_idx_labels(BUNDLED_LABELS.to_vec(), 10, &labels_path)?;
        let all = ImageSet::from_idx(images, labels, 10, &images_path, &labels_path)?;
        let (train, test) = all.split_at(BUNDLED_TRAIN);
        Ok(Mnist { train, test })
    }

    /// Reads the four standard files (`train-images-idx3-ubyte`, ... each raw or
    /// `.gz`) from `dir`. Works for Fashion-MNIST too, which uses the same names.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Mnist> {
        Self::from_dir_with_classes(dir, 10)
    }

    /// Like [`Mnist::from_dir`] with another class count (EMNIST variants).
    pub fn from_dir_with_classes(dir: impl AsRef<Path>, num_classes: usize) -> Result<Mnist> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(DatasetError::MissingFile {
                dir: dir.to_path_buf(),
                what: "MNIST directory".to_string(),
                tried: vec![format!("{} (not a directory)", dir.display())],
            });
        }
        let train = load_digits(dir, TRAIN_IMAGES, TRAIN_LABELS, num_classes)?;
        let test = load_digits(dir, TEST_IMAGES, TEST_LABELS, num_classes)?;
        Ok(Mnist { train, test })
    }

    /// Reads from the directory named by `MNIST_DIR`; an error if it is unset.
    pub fn from_env() -> Result<Mnist> {
        match mnist_dir_from_env() {
            Some(dir) => Self::from_dir(dir),
            None => Err(DatasetError::EnvVarNotSet {
                var: MNIST_DIR_ENV,
                what: "train-images-idx3-ubyte[.gz] and the other MNIST files",
            }),
        }
    }

    /// Makes sure the four official MNIST files are in `cache_dir/mnist`
    /// (checked by SHA-256; fetched with the `download` feature) and reads them.
    pub fn from_cache(cache_dir: impl AsRef<Path>) -> Result<Mnist> {
        let dir = cache::ensure_files(cache_dir.as_ref().join("mnist"), &cache::MNIST_FILES)?;
        Self::from_dir(dir)
    }

    /// Like [`Mnist::from_cache`] for Fashion-MNIST, in `cache_dir/fashion-mnist`.
    pub fn fashion_from_cache(cache_dir: impl AsRef<Path>) -> Result<Mnist> {
        let dir = cache::ensure_files(
            cache_dir.as_ref().join("fashion-mnist"),
            &cache::FASHION_MNIST_FILES,
        )?;
        Self::from_dir(dir)
    }

    /// The usual choice for a `--data-dir` flag: `Some(dir)` reads that directory,
    /// `None` reads `MNIST_DIR` if set (an error naming the variable when that directory
    /// does not hold MNIST), else the bundled subset.
    pub fn load(data_dir: Option<&Path>) -> Result<Mnist> {
        match data_dir {
            Some(dir) => Self::from_dir(dir),
            None => match mnist_dir_from_env() {
                Some(dir) => Self::from_dir(&dir).map_err(|e| DatasetError::FromEnv {
                    var: MNIST_DIR_ENV,
                    dir,
                    source: Box::new(e),
                }),
                None => Self::bundled(),
            },
        }
    }
}

/// The directory named by `MNIST_DIR`, if it is set and not empty.
pub fn mnist_dir_from_env() -> Option<PathBuf> {
    std::env::var_os(MNIST_DIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Loads one images/labels pair from `dir` by standard name, raw or `.gz`.
pub fn load_pair(
    dir: &Path,
    images_name: &str,
    labels_name: &str,
    num_classes: usize,
) -> Result<ImageSet> {
    let images_path = locate(dir, images_name)?;
    let labels_path = locate(dir, labels_name)?;
    load_image_set(&images_path, &labels_path, num_classes)
}

/// Loads one pair of digit files and checks that its images are 28x28, as every
/// MNIST-style set's are (a 14x14 or 56x14 file would otherwise train garbage or fail
/// far from the cause).
fn load_digits(
    dir: &Path,
    images_name: &str,
    labels_name: &str,
    num_classes: usize,
) -> Result<ImageSet> {
    let set = load_pair(dir, images_name, labels_name, num_classes)?;
    if (set.rows, set.cols, set.channels) != (28, 28, 1) {
        return Err(DatasetError::WrongImageSize {
            path: locate(dir, images_name)?,
            rows: set.rows,
            cols: set.cols,
            expected_rows: 28,
            expected_cols: 28,
            what: "MNIST",
        });
    }
    Ok(set)
}

/// Loads an IDX image file and an IDX label file as one set.
pub fn load_image_set(
    images_path: impl AsRef<Path>,
    labels_path: impl AsRef<Path>,
    num_classes: usize,
) -> Result<ImageSet> {
    let (images_path, labels_path) = (images_path.as_ref(), labels_path.as_ref());
    let images = idx::read_idx_images(images_path)?;
    let labels = idx::read_idx_labels(labels_path, num_classes)?;
    ImageSet::from_idx(images, labels, num_classes, images_path, labels_path)
}

fn locate(dir: &Path, name: &str) -> Result<PathBuf> {
    find_raw_or_gz(dir, name).ok_or_else(|| DatasetError::MissingFile {
        dir: dir.to_path_buf(),
        what: name.to_string(),
        tried: vec![name.to_string(), format!("{name}.gz")],
    })
}
