//! CIFAR-10 and CIFAR-100 in their "binary version" files.
//!
//! A CIFAR-10 record is 1 label byte then 3072 pixel bytes: the 1024 red values of
//! the 32x32 image row-major, then the 1024 green, then the 1024 blue (CHW). A
//! CIFAR-100 record has two label bytes (coarse, fine) before the pixels. The
//! loaders convert to HWC so the framework's NHWC layout can use them directly.

use std::path::{Path, PathBuf};

use crate::error::{DatasetError, Result};
use crate::fileio;
use crate::idx::find_raw_or_gz;
use crate::image_set::ImageSet;

/// Image side and channel count of CIFAR.
pub const CIFAR_SIDE: usize = 32;
pub const CIFAR_CHANNELS: usize = 3;
/// Pixel bytes per image.
pub const CIFAR_PIXELS: usize = CIFAR_SIDE * CIFAR_SIDE * CIFAR_CHANNELS;
/// Bytes per CIFAR-10 record (label + pixels).
pub const CIFAR10_RECORD: usize = 1 + CIFAR_PIXELS;
/// Bytes per CIFAR-100 record (coarse label + fine label + pixels).
pub const CIFAR100_RECORD: usize = 2 + CIFAR_PIXELS;

/// Environment variable naming a CIFAR-10 directory.
pub const CIFAR10_DIR_ENV: &str = "CIFAR10_DIR";

/// CIFAR-10 class names, by label.
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Training batch file names of CIFAR-10, in order.
pub const CIFAR10_TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// Test file name of CIFAR-10.
pub const CIFAR10_TEST_FILE: &str = "test_batch.bin";
/// Sub-directory the official archive unpacks to.
pub const CIFAR10_ARCHIVE_DIR: &str = "cifar-10-batches-bin";
/// Sub-directory the official CIFAR-100 archive unpacks to.
pub const CIFAR100_ARCHIVE_DIR: &str = "cifar-100-binary";

/// CIFAR-10 (32x32x3 HWC, 10 classes) split into train and test sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cifar10 {
    pub train: ImageSet,
    pub test: ImageSet,
}

impl Cifar10 {
    /// Reads `data_batch_1.bin`..`data_batch_5.bin` and `test_batch.bin` from
    /// `dir` or from `dir/cifar-10-batches-bin` (each may also be `.gz`).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Cifar10> {
        let dir = resolve_dir(dir.as_ref(), CIFAR10_ARCHIVE_DIR, CIFAR10_TEST_FILE);
        let mut train: Option<ImageSet> = None;
        for name in CIFAR10_TRAIN_FILES {
            let batch = read_cifar10_file(locate(&dir, name)?)?;
            match &mut train {
                None => train = Some(batch),
                Some(t) => {
                    t.images.extend_from_slice(&batch.images);
                    t.labels.extend_from_slice(&batch.labels);
                    t.count += batch.count;
                }
            }
        }
        let test = read_cifar10_file(locate(&dir, CIFAR10_TEST_FILE)?)?;
        Ok(Cifar10 {
            train: train.expect("five training files were read"),
            test,
        })
    }

    /// Reads from the directory named by `CIFAR10_DIR`; an error if it is unset.
    pub fn from_env() -> Result<Cifar10> {
        match std::env::var_os(CIFAR10_DIR_ENV).filter(|v| !v.is_empty()) {
            Some(dir) => Self::from_dir(PathBuf::from(dir)),
            None => Err(DatasetError::EnvVarNotSet {
                var: CIFAR10_DIR_ENV,
                what: "data_batch_1.bin .. data_batch_5.bin and test_batch.bin",
            }),
        }
    }
}

/// CIFAR-100 images with fine labels (100 classes) in `images`, and the
/// coarse super-class labels (20 classes) beside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cifar100Set {
    pub images: ImageSet,
    pub coarse_labels: Vec<u8>,
}

/// CIFAR-100 split into train and test sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cifar100 {
    pub train: Cifar100Set,
    pub test: Cifar100Set,
}

impl Cifar100 {
    /// Reads `train.bin` and `test.bin` from `dir` or `dir/cifar-100-binary`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Cifar100> {
        let dir = resolve_dir(dir.as_ref(), CIFAR100_ARCHIVE_DIR, "test.bin");
        Ok(Cifar100 {
            train: read_cifar100_file(locate(&dir, "train.bin")?)?,
            test: read_cifar100_file(locate(&dir, "test.bin")?)?,
        })
    }
}

/// Reads one CIFAR-10 batch file (raw or gzipped).
pub fn read_cifar10_file(path: impl AsRef<Path>) -> Result<ImageSet> {
    let path = path.as_ref();
    let bytes = fileio::read_maybe_gzip(path)?;
    parse_cifar10(&bytes, path)
}

/// Reads one CIFAR-100 file (raw or gzipped).
pub fn read_cifar100_file(path: impl AsRef<Path>) -> Result<Cifar100Set> {
    let path = path.as_ref();
    let bytes = fileio::read_maybe_gzip(path)?;
    parse_cifar100(&bytes, path)
}

/// Parses CIFAR-10 records into an HWC [`ImageSet`]. `path` is only used in messages.
pub fn parse_cifar10(bytes: &[u8], path: &Path) -> Result<ImageSet> {
    let (labels, images) = parse_records(bytes, path, 1, "CIFAR-10")?;
    check_range(&labels[0], 10, path, "label")?;
    let labels = labels.into_iter().next().expect("one label column");
    ImageSet::new(images, labels, CIFAR_SIDE, CIFAR_SIDE, CIFAR_CHANNELS, 10)
}

/// Parses CIFAR-100 records (coarse < 20, fine < 100). `path` is only used in messages.
pub fn parse_cifar100(bytes: &[u8], path: &Path) -> Result<Cifar100Set> {
    let (labels, images) = parse_records(bytes, path, 2, "CIFAR-100")?;
    let mut it = labels.into_iter();
    let coarse = it.next().expect("coarse label column");
    let fine = it.next().expect("fine label column");
    check_range(&coarse, 20, path, "coarse label")?;
    check_range(&fine, 100, path, "fine label")?;
    Ok(Cifar100Set {
        images: ImageSet::new(images, fine, CIFAR_SIDE, CIFAR_SIDE, CIFAR_CHANNELS, 100)?,
        coarse_labels: coarse,
    })
}

/// Splits records into `label_bytes` label columns and HWC pixels.
fn parse_records(
    bytes: &[u8],
    path: &Path,
    label_bytes: usize,
    what: &'static str,
) -> Result<(Vec<Vec<u8>>, Vec<u8>)> {
    let record_len = label_bytes + CIFAR_PIXELS;
    if bytes.is_empty() {
        return Err(DatasetError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    if !bytes.len().is_multiple_of(record_len) {
        return Err(DatasetError::RecordLength {
            path: path.to_path_buf(),
            what,
            len: bytes.len(),
            record_len,
        });
    }
    let count = bytes.len() / record_len;
    let mut labels = vec![Vec::with_capacity(count); label_bytes];
    let mut images = vec![0u8; count * CIFAR_PIXELS];
    let plane = CIFAR_SIDE * CIFAR_SIDE;
    for (record, out) in bytes
        .chunks_exact(record_len)
        .zip(images.chunks_exact_mut(CIFAR_PIXELS))
    {
        for (col, &l) in labels.iter_mut().zip(&record[..label_bytes]) {
            col.push(l);
        }
        let chw = &record[label_bytes..];
        for (p, hwc) in out.chunks_exact_mut(CIFAR_CHANNELS).enumerate() {
            for (c, v) in hwc.iter_mut().enumerate() {
                *v = chw[c * plane + p];
            }
        }
    }
    Ok((labels, images))
}

fn check_range(labels: &[u8], num_classes: usize, path: &Path, what: &str) -> Result<()> {
    if let Some(index) = labels.iter().position(|&l| l as usize >= num_classes) {
        return Err(DatasetError::BadHeader {
            path: path.to_path_buf(),
            reason: format!(
                "{what} {} of record {index} is out of range for {num_classes} classes",
                labels[index]
            ),
        });
    }
    Ok(())
}

/// `dir/sub` when `dir` itself lacks `probe` but `dir/sub` exists.
fn resolve_dir(dir: &Path, sub: &str, probe: &str) -> PathBuf {
    let nested = dir.join(sub);
    if find_raw_or_gz(dir, probe).is_none() && nested.is_dir() {
        nested
    } else {
        dir.to_path_buf()
    }
}

fn locate(dir: &Path, name: &str) -> Result<PathBuf> {
    find_raw_or_gz(dir, name).ok_or_else(|| DatasetError::MissingFile {
        dir: dir.to_path_buf(),
        what: name.to_string(),
        tried: vec![name.to_string(), format!("{name}.gz")],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chw_to_hwc_by_hand() {
        // One record: label 7, red plane all 1, green plane all 2, blue plane = pixel index % 256.
        let mut rec = vec![7u8];
        rec.extend(std::iter::repeat_n(1u8, 1024));
        rec.extend(std::iter::repeat_n(2u8, 1024));
        rec.extend((0..1024).map(|p| (p % 256) as u8));
        let set = parse_cifar10(&rec, Path::new("b.bin")).unwrap();
        assert_eq!(set.labels, vec![7]);
        assert_eq!(set.shape(), [1, 32, 32, 3]);
        // Pixel (row 1, col 2) is plane index 34; HWC offset (1*32+2)*3 = 102.
        assert_eq!(&set.images[102..105], &[1, 2, 34]);
    }

    #[test]
    fn label_out_of_range() {
        let mut rec = vec![10u8];
        rec.extend(std::iter::repeat_n(0u8, CIFAR_PIXELS));
        let err = parse_cifar10(&rec, Path::new("b.bin")).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
    }

    #[test]
    fn cifar100_labels() {
        let mut rec = vec![19u8, 99];
        rec.extend(std::iter::repeat_n(0u8, CIFAR_PIXELS));
        let set = parse_cifar100(&rec, Path::new("t.bin")).unwrap();
        assert_eq!(set.coarse_labels, vec![19]);
        assert_eq!(set.images.labels, vec![99]);
        rec[0] = 20;
        assert!(parse_cifar100(&rec, Path::new("t.bin")).is_err());
    }
}
