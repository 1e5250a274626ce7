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

/// Encodes HWC images (`labels.len()` images of 32x32x3 bytes, back to back) as
/// CIFAR-10 binary records: each label byte followed by its red, green and blue planes.
/// The inverse of [`parse_cifar10`].
pub fn encode_cifar10(images_hwc: &[u8], labels: &[u8]) -> Result<Vec<u8>> {
    let expected = labels.len().checked_mul(CIFAR_PIXELS);
    if expected != Some(images_hwc.len()) {
        return Err(DatasetError::invalid(format!(
            "encode_cifar10: {} pixel bytes for {} labels of 32x32x3",
            images_hwc.len(),
            labels.len()
        )));
    }
    if let Some(i) = labels.iter().position(|&l| l >= 10) {
        return Err(DatasetError::invalid(format!(
            "encode_cifar10: label {} at index {i} is out of range for 10 classes",
            labels[i]
        )));
    }
    let plane = CIFAR_SIDE * CIFAR_SIDE;
    let mut out = Vec::with_capacity(labels.len() * CIFAR10_RECORD);
    for (&label, hwc) in labels.iter().zip(images_hwc.chunks_exact(CIFAR_PIXELS)) {
        out.push(label);
        for c in 0..CIFAR_CHANNELS {
            out.extend((0..plane).map(|p| hwc[p * CIFAR_CHANNELS + c]));
        }
    }
    Ok(out)
}

/// Writes a generated data set in the CIFAR-10 binary layout into `dir` (created if
/// missing): `data_batch_1.bin` .. `data_batch_5.bin` of `per_file` records each and
/// `test_batch.bin` of `test_count`, readable by [`Cifar10::from_dir`]. Existing files
/// of those names are replaced, each atomically.
///
/// Each class is a coloured pattern on a dark background (see [`synthetic_pattern`]):
/// stripes, checkers, a disc, a ring, a cross or a square frame, with a random phase or
/// position, brightness and per-pixel noise, so a small CNN can learn to tell them
/// apart in a few epochs, even with shifts and horizontal flips (every pattern is its
/// own mirror image). Labels are balanced within each file and shuffled; everything is
/// reproducible from `seed`.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("cifar_doc_{}", std::process::id()));
/// datasets::write_synthetic_cifar10(&dir, 20, 10, 1)?;
/// let set = datasets::Cifar10::from_dir(&dir)?;
/// assert_eq!((set.train.len(), set.test.len()), (100, 10));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), datasets::DatasetError>(())
/// ```
pub fn write_synthetic_cifar10(
    dir: &Path,
    per_file: usize,
    test_count: usize,
    seed: u64,
) -> Result<()> {
    if per_file == 0 || test_count == 0 {
        return Err(DatasetError::invalid(format!(
            "write_synthetic_cifar10: per_file ({per_file}) and test_count ({test_count}) \
             must be at least 1 (CIFAR-10 files hold at least one record)"
        )));
    }
    for count in [per_file, test_count] {
        if count.checked_mul(CIFAR10_RECORD).is_none() {
            return Err(DatasetError::invalid(format!(
                "write_synthetic_cifar10: {count} records of {CIFAR10_RECORD} bytes overflow \
                 the address space"
            )));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, "creating directory", e))?;
    let files = CIFAR10_TRAIN_FILES
        .iter()
        .map(|&name| (name, per_file))
        .chain(std::iter::once((CIFAR10_TEST_FILE, test_count)));
    for (file_index, (name, count)) in files.enumerate() {
        let bytes = synthetic_records(count, synthetic_seed(seed, file_index as u64))?;
        fileio::write_atomic(&dir.join(name), &bytes)?;
    }
    Ok(())
}

/// `count` CIFAR-10 records of generated images, balanced labels in a shuffled order.
fn synthetic_records(count: usize, seed: u64) -> Result<Vec<u8>> {
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    use rand_distr::{Distribution, Normal};

    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut labels: Vec<u8> = (0..count).map(|i| (i % 10) as u8).collect();
    labels.shuffle(&mut rng);
    let noise = Normal::new(0.0f32, 12.0).expect("a positive standard deviation");
    let mut images = Vec::with_capacity(count * CIFAR_PIXELS);
    for &label in &labels {
        let fg = SYNTHETIC_COLOURS[label as usize];
        let brightness: f32 = rng.random_range(0.75..1.0);
        let background: f32 = rng.random_range(10.0..50.0);
        let phase = rng.random_range(0..8);
        let centre = (rng.random_range(12..=19), rng.random_range(12..=19));
        for r in 0..CIFAR_SIDE {
            for c in 0..CIFAR_SIDE {
                let on = synthetic_pattern(label, r, c, phase, centre);
                for &f in &fg {
                    let v = if on { f * brightness } else { background };
                    images.push((v + noise.sample(&mut rng)).round().clamp(0.0, 255.0) as u8);
                }
            }
        }
    }
    encode_cifar10(&images, &labels)
}

/// The foreground colour (RGB) of each generated class.
const SYNTHETIC_COLOURS: [[f32; 3]; 10] = [
    [230.0, 60.0, 60.0],   // red
    [60.0, 200.0, 60.0],   // green
    [70.0, 100.0, 240.0],  // blue
    [230.0, 210.0, 50.0],  // yellow
    [210.0, 60.0, 210.0],  // magenta
    [50.0, 210.0, 210.0],  // cyan
    [245.0, 140.0, 30.0],  // orange
    [160.0, 100.0, 50.0],  // brown
    [240.0, 240.0, 240.0], // white
    [150.0, 150.0, 220.0], // lavender
];

/// Whether pixel `(r, c)` is in the foreground of class `label`'s pattern. `phase`
/// (0..8) shifts the periodic patterns and `centre` places the shapes:
///
/// | class | pattern |
/// |---|---|
/// | 0, 3 | horizontal stripes 4 and 2 pixels wide |
/// | 1, 4 | vertical stripes 4 and 2 pixels wide |
/// | 2, 5 | checkers of 4 and 2 pixels |
/// | 6 | a disc of radius 8 |
/// | 7 | a ring of radii 6 to 11 |
/// | 8 | a cross of bars 5 pixels wide |
/// | 9 | a square frame, 8 to 11 pixels from the centre |
pub fn synthetic_pattern(
    label: u8,
    r: usize,
    c: usize,
    phase: usize,
    centre: (usize, usize),
) -> bool {
    let stripes = |k: usize, width: usize| ((k + phase) / width).is_multiple_of(2);
    let (dr, dc) = (r.abs_diff(centre.0), c.abs_diff(centre.1));
    let dist2 = dr * dr + dc * dc;
    match label {
        0 => stripes(r, 4),
        1 => stripes(c, 4),
        2 => stripes(r, 4) == stripes(c, 4),
        3 => stripes(r, 2),
        4 => stripes(c, 2),
        5 => stripes(r, 2) == stripes(c, 2),
        6 => dist2 <= 64,
        7 => (36..=121).contains(&dist2),
        8 => dr <= 2 || dc <= 2,
        _ => (8..=11).contains(&dr.max(dc)),
    }
}

/// SplitMix64 of `(seed, file)`, so every file of a generated set differs.
fn synthetic_seed(seed: u64, file: u64) -> u64 {
    let mut z = seed ^ file.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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

    #[test]
    fn encode_by_hand() {
        // One black image with pixel (row 1, col 2) = (10, 20, 30): HWC offset
        // (1*32 + 2)*3 = 102; plane offset 1*32 + 2 = 34, so the record holds 10 at
        // 1 + 34 = 35, 20 at 1 + 1024 + 34 = 1059 and 30 at 1 + 2048 + 34 = 2083.
        let mut hwc = vec![0u8; CIFAR_PIXELS];
        hwc[102..105].copy_from_slice(&[10, 20, 30]);
        let rec = encode_cifar10(&hwc, &[4]).unwrap();
        assert_eq!(rec.len(), 3073);
        assert_eq!((rec[0], rec[35], rec[1059], rec[2083]), (4, 10, 20, 30));
        assert_eq!(rec.iter().map(|&b| b as u32).sum::<u32>(), 4 + 10 + 20 + 30);
        let set = parse_cifar10(&rec, Path::new("x.bin")).unwrap();
        assert_eq!((set.images, set.labels), (hwc, vec![4]));
        assert!(encode_cifar10(&[0u8; 5], &[1]).is_err());
        assert!(encode_cifar10(&vec![0u8; CIFAR_PIXELS], &[10]).is_err());
    }

    #[test]
    fn synthetic_patterns_by_hand() {
        // Phase 0: rows 0-3 on, 4-7 off (stripes 4 wide); phase 1 moves the edge to row 3.
        assert!(synthetic_pattern(0, 0, 9, 0, (16, 16)));
        assert!(synthetic_pattern(0, 3, 9, 0, (16, 16)));
        assert!(!synthetic_pattern(0, 4, 9, 0, (16, 16)));
        assert!(!synthetic_pattern(0, 3, 9, 1, (16, 16)));
        // Vertical stripes 2 wide: columns 0-1 on, 2-3 off.
        assert!(synthetic_pattern(4, 9, 1, 0, (16, 16)));
        assert!(!synthetic_pattern(4, 9, 2, 0, (16, 16)));
        // Checkers 4 wide: (0, 0) on, (0, 4) off, (4, 4) on.
        assert!(synthetic_pattern(2, 0, 0, 0, (16, 16)));
        assert!(!synthetic_pattern(2, 0, 4, 0, (16, 16)));
        assert!(synthetic_pattern(2, 4, 4, 0, (16, 16)));
        // Disc of radius 8 at (16, 16): (16, 24) is at distance 8, (16, 25) at 9.
        assert!(synthetic_pattern(6, 16, 24, 0, (16, 16)));
        assert!(!synthetic_pattern(6, 16, 25, 0, (16, 16)));
        // Ring 6..11: the centre is off, (16, 22) at distance 6 is on.
        assert!(!synthetic_pattern(7, 16, 16, 0, (16, 16)));
        assert!(synthetic_pattern(7, 16, 22, 0, (16, 16)));
        // Cross: (16, 0) is on the horizontal bar, (0, 0) is off.
        assert!(synthetic_pattern(8, 16, 0, 0, (16, 16)));
        assert!(!synthetic_pattern(8, 0, 0, 0, (16, 16)));
        // Frame 8..11 from the centre: (8, 16) on, (16, 16) and (0, 0) off.
        assert!(synthetic_pattern(9, 8, 16, 0, (16, 16)));
        assert!(!synthetic_pattern(9, 16, 16, 0, (16, 16)));
        assert!(!synthetic_pattern(9, 0, 0, 0, (16, 16)));
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cifar_{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn synthetic_set_reads_back() {
        let dir = temp_dir("readback");
        write_synthetic_cifar10(&dir, 20, 30, 5).unwrap();
        let set = Cifar10::from_dir(&dir).unwrap();
        assert_eq!(set.train.shape(), [100, 32, 32, 3]);
        assert_eq!(set.test.shape(), [30, 32, 32, 3]);
        // Balanced: 20 per file = 2 of each class, five files; 30 = 3 of each.
        assert_eq!(set.train.class_counts(), vec![10; 10]);
        assert_eq!(set.test.class_counts(), vec![3; 10]);
        // The raw bytes of record 7 of test_batch.bin: label at 7*3073 = 21511; pixel
        // (5, 9) is plane index 5*32 + 9 = 169, so channel ch lies at
        // 21511 + 1 + ch*1024 + 169 in the file and at (7*1024 + 169)*3 + ch = 7337*3 + ch =
        // 22011 + ch in the HWC images.
        let raw = std::fs::read(dir.join("test_batch.bin")).unwrap();
        assert_eq!(raw.len(), 30 * 3073);
        assert_eq!(raw[21511], set.test.labels[7]);
        for ch in 0..3 {
            assert_eq!(
                raw[21511 + 1 + ch * 1024 + 169],
                set.test.images[22011 + ch]
            );
        }
        // The first training file is the first 20 training images.
        let first = read_cifar10_file(dir.join("data_batch_1.bin")).unwrap();
        assert_eq!(first.images, set.train.images[..20 * CIFAR_PIXELS]);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn synthetic_set_is_seeded() {
        let (a, b) = (temp_dir("seed_a"), temp_dir("seed_b"));
        write_synthetic_cifar10(&a, 10, 10, 1).unwrap();
        write_synthetic_cifar10(&b, 10, 10, 1).unwrap();
        let read = |d: &Path, f: &str| std::fs::read(d.join(f)).unwrap();
        assert_eq!(read(&a, "data_batch_3.bin"), read(&b, "data_batch_3.bin"));
        assert_ne!(read(&a, "data_batch_1.bin"), read(&a, "data_batch_2.bin"));
        write_synthetic_cifar10(&b, 10, 10, 2).unwrap();
        assert_ne!(read(&a, "test_batch.bin"), read(&b, "test_batch.bin"));
        std::fs::remove_dir_all(&a).ok();
        std::fs::remove_dir_all(&b).ok();
    }

    #[test]
    fn synthetic_classes_are_separable() {
        // Nearest class mean (of the training images) labels the test images: a weak
        // classifier, so a CNN has an easy task.
        let dir = temp_dir("separable");
        write_synthetic_cifar10(&dir, 40, 100, 9).unwrap();
        let set = Cifar10::from_dir(&dir).unwrap();
        let mut means = vec![vec![0f64; CIFAR_PIXELS]; 10];
        for i in 0..set.train.len() {
            let m = &mut means[set.train.labels[i] as usize];
            for (acc, &p) in m.iter_mut().zip(set.train.image(i).unwrap()) {
                *acc += p as f64 / 20.0; // 200 images, 20 per class
            }
        }
        let correct = (0..set.test.len())
            .filter(|&i| {
                let img = set.test.image(i).unwrap();
                let dist = |m: &Vec<f64>| -> f64 {
                    m.iter()
                        .zip(img)
                        .map(|(a, &b)| (a - b as f64).powi(2))
                        .sum()
                };
                let best = (0..10)
                    .min_by(|&a, &b| dist(&means[a]).total_cmp(&dist(&means[b])))
                    .unwrap();
                best == set.test.labels[i] as usize
            })
            .count();
        assert!(correct >= 90, "{correct} of 100");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn synthetic_sizes_are_checked() {
        let dir = temp_dir("sizes");
        assert!(write_synthetic_cifar10(&dir, 0, 10, 1).is_err());
        assert!(write_synthetic_cifar10(&dir, 10, 0, 1).is_err());
        assert!(write_synthetic_cifar10(&dir, usize::MAX, 10, 1).is_err());
        assert!(!dir.exists());
    }
}
