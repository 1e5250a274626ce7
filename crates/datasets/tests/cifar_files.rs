//! CIFAR-10/100 binary files built by hand from the format description.

mod common;

use common::temp_dir;
use datasets::cifar::{CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, read_cifar10_file};
use datasets::{Cifar10, Cifar100, DatasetError};

/// One CIFAR-10 record: `label`, then R, G, B planes where the value at plane
/// index p of channel c is `(p + 3*c + seed) % 256`.
fn record(label: u8, seed: usize) -> Vec<u8> {
    let mut r = vec![label];
    for c in 0..3 {
        r.extend((0..1024).map(|p| ((p + 3 * c + seed) % 256) as u8));
    }
    r
}

#[test]
fn records_become_hwc() {
    let dir = temp_dir("cifar-hwc");
    let mut bytes = record(3, 0);
    bytes.extend(record(9, 100));
    let p = dir.join("data_batch_1.bin");
    std::fs::write(&p, &bytes).unwrap();
    let set = read_cifar10_file(&p).unwrap();
    assert_eq!(set.shape(), [2, 32, 32, 3]);
    assert_eq!(set.labels, vec![3, 9]);
    // Image 1, pixel (row 2, col 5): plane index 2*32+5 = 69; channel values
    // (69 + 3c + 100) % 256 = 169, 172, 175 at HWC offset (69)*3.
    let im = set.image(1).unwrap();
    assert_eq!(&im[69 * 3..69 * 3 + 3], &[169, 172, 175]);
    // Image 0, last pixel: plane index 1023 -> (1023 + 3c) % 256 = 255, 2, 5.
    assert_eq!(&set.image(0).unwrap()[1023 * 3..], &[255, 2, 5]);
}

#[test]
fn directory_with_all_batches() {
    let root = temp_dir("cifar-dir");
    // The archive's own sub-directory is found automatically.
    let dir = root.join("cifar-10-batches-bin");
    std::fs::create_dir(&dir).unwrap();
    for (k, name) in CIFAR10_TRAIN_FILES.iter().enumerate() {
        let mut b = record(k as u8, k);
        b.extend(record((k + 5) as u8, k + 1));
        std::fs::write(dir.join(name), b).unwrap();
    }
    std::fs::write(dir.join(CIFAR10_TEST_FILE), record(1, 7)).unwrap();
    let c = Cifar10::from_dir(&root).unwrap();
    assert_eq!(c.train.shape(), [10, 32, 32, 3]);
    assert_eq!(c.train.labels, vec![0, 5, 1, 6, 2, 7, 3, 8, 4, 9]);
    assert_eq!(c.test.labels, vec![1]);
    assert_eq!(c.train.num_classes, 10);

    std::fs::remove_file(dir.join("data_batch_3.bin")).unwrap();
    let err = Cifar10::from_dir(&dir).unwrap_err();
    assert!(matches!(err, DatasetError::MissingFile { .. }), "{err}");
    assert!(err.to_string().contains("data_batch_3.bin"), "{err}");
}

#[test]
fn cifar100_train_and_test() {
    let dir = temp_dir("cifar100");
    let rec = |coarse: u8, fine: u8| {
        let mut r = vec![coarse, fine];
        r.extend(std::iter::repeat_n(fine, 3072));
        r
    };
    let mut train = rec(4, 30);
    train.extend(rec(19, 99));
    std::fs::write(dir.join("train.bin"), train).unwrap();
    std::fs::write(dir.join("test.bin"), rec(0, 0)).unwrap();
    let c = Cifar100::from_dir(&dir).unwrap();
    assert_eq!(c.train.coarse_labels, vec![4, 19]);
    assert_eq!(c.train.images.labels, vec![30, 99]);
    assert_eq!(c.train.images.num_classes, 100);
    assert_eq!(c.test.images.shape(), [1, 32, 32, 3]);
    // A CIFAR-10 length is not a CIFAR-100 length.
    std::fs::write(dir.join("test.bin"), record(1, 0)).unwrap();
    let err = Cifar100::from_dir(&dir).unwrap_err();
    assert!(err.to_string().contains("3074-byte record"), "{err}");
}

#[test]
fn channel_standardisation_on_cifar_like_data() {
    // Three pixels, RGB: R = {0, 3, 6}, G = {1, 1, 1}, B = {2, 4, 6}.
    let mut x = vec![0.0, 1.0, 2.0, 3.0, 1.0, 4.0, 6.0, 1.0, 6.0];
    let stats = datasets::normalize::standardize_channels(&mut x, 3).unwrap();
    assert_eq!(stats.mean, vec![3.0, 1.0, 4.0]);
    // Population std: R sqrt((9+0+9)/3) = sqrt(6); B sqrt((4+0+4)/3) = sqrt(8/3).
    assert!((stats.std[0] - 6f32.sqrt()).abs() < 1e-6);
    assert_eq!(stats.std[1], 1.0);
    assert!((stats.std[2] - (8f32 / 3.0).sqrt()).abs() < 1e-6);
    assert!((x[0] + 3.0 / 6f32.sqrt()).abs() < 1e-6);
}
