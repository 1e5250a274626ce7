//! The bundled 10,000-digit MNIST subset, checked against the NOTICE file and
//! against an independent decoding of the gzip files with flate2.

mod common;

use datasets::{Mnist, cache};

/// Class counts from crates/datasets/data/NOTICE.
const NOTICE_COUNTS: [usize; 10] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

fn raw_images() -> Vec<u8> {
    common::gunzip_file(&common::data_dir().join("mnist-10k-images-idx3-ubyte.gz"))
}

fn raw_labels() -> Vec<u8> {
    common::gunzip_file(&common::data_dir().join("mnist-10k-labels-idx1-ubyte.gz"))
}

#[test]
fn shapes_and_split() {
    let m = Mnist::bundled().unwrap();
    assert_eq!(m.train.shape(), [8000, 28, 28, 1]);
    assert_eq!(m.test.shape(), [2000, 28, 28, 1]);
    assert_eq!(m.train.images.len(), 8000 * 784);
    assert_eq!(m.test.images.len(), 2000 * 784);
    assert_eq!((m.train.labels.len(), m.test.labels.len()), (8000, 2000));
    assert_eq!(m.train.num_classes, 10);
}

#[test]
fn raw_headers_by_hand() {
    // 0x803, 10000 = 0x2710, 28 = 0x1c, 28.
    let img = raw_images();
    assert_eq!(
        &img[..16],
        &[0, 0, 8, 3, 0, 0, 0x27, 0x10, 0, 0, 0, 0x1c, 0, 0, 0, 0x1c]
    );
    assert_eq!(img.len(), 16 + 10_000 * 784);
    let lab = raw_labels();
    assert_eq!(&lab[..8], &[0, 0, 8, 1, 0, 0, 0x27, 0x10]);
    assert_eq!(lab.len(), 8 + 10_000);
}

#[test]
fn class_counts_match_notice_and_independent_count() {
    // Count straight from the decompressed label bytes.
    let lab = raw_labels();
    let mut independent = [0usize; 10];
    for &l in &lab[8..] {
        independent[l as usize] += 1;
    }
    assert_eq!(independent, NOTICE_COUNTS);
    assert_eq!(NOTICE_COUNTS.iter().sum::<usize>(), 10_000);

    let m = Mnist::bundled().unwrap();
    let mut loaded = m.train.class_counts();
    for (c, n) in m.test.class_counts().into_iter().enumerate() {
        loaded[c] += n;
    }
    assert_eq!(loaded, NOTICE_COUNTS.to_vec());
    // The split is first 8,000 / last 2,000 of the file.
    assert_eq!(&m.train.labels[..], &lab[8..8 + 8000]);
    assert_eq!(&m.test.labels[..], &lab[8 + 8000..]);
}

#[test]
fn pixels_match_independent_decoding() {
    let img = raw_images();
    let m = Mnist::bundled().unwrap();
    let at = |i: usize, r: usize, c: usize| img[16 + i * 784 + r * 28 + c];
    for &(i, r, c) in &[
        (0, 14, 9),
        (0, 14, 10),
        (1, 14, 7),
        (4321, 10, 15),
        (7999, 14, 11),
        (8000, 14, 9),
        (9999, 14, 16),
    ] {
        let loaded = if i < 8000 {
            m.train.image(i).unwrap()[r * 28 + c]
        } else {
            m.test.image(i - 8000).unwrap()[r * 28 + c]
        };
        assert_eq!(loaded, at(i, r, c), "image {i} pixel ({r},{c})");
    }
    // Values read once with Python's gzip module (an independent decoder):
    // image 0 is an 8 and row 14 has 82, 254, 244, 47 in columns 9..13.
    assert_eq!(m.train.label(0), Some(8));
    assert_eq!(
        &m.train.image(0).unwrap()[14 * 28 + 9..14 * 28 + 13],
        &[82, 254, 244, 47]
    );
    assert_eq!(m.test.label(0), Some(9));
    assert_eq!(m.test.label(1999), Some(9));
    // Whole buffers agree too.
    assert_eq!(&m.train.images[..], &img[16..16 + 8000 * 784]);
    assert_eq!(&m.test.images[..], &img[16 + 8000 * 784..]);
}

#[test]
fn corners_are_blank_and_digits_are_not() {
    let m = Mnist::bundled().unwrap();
    for set in [&m.train, &m.test] {
        for i in 0..set.len() {
            let im = set.image(i).unwrap();
            for k in [0, 27, 27 * 28, 783] {
                assert_eq!(im[k], 0, "image {i} corner {k}");
            }
            assert!(im.iter().any(|&p| p > 128), "image {i} has ink");
        }
    }
}

#[test]
fn float_conversions() {
    let m = Mnist::bundled().unwrap();
    let unit = m.test.to_f32_unit();
    let signed = m.test.to_f32_signed();
    assert_eq!(unit.len(), 2000 * 784);
    assert!(unit.iter().all(|&v| (0.0..=1.0).contains(&v)));
    assert!(signed.iter().all(|&v| (-1.0..=1.0).contains(&v)));
    // Image 0, row 14, col 10 is 254: 254/255 and 254/127.5 - 1.
    let k = 14 * 28 + 10;
    let u = m.train.to_f32_unit()[k];
    let s = m.train.to_f32_signed()[k];
    assert!((u - 254.0 / 255.0).abs() < 1e-6);
    assert!((s - (254.0 / 127.5 - 1.0)).abs() < 1e-6);
    assert_eq!(signed[0], -1.0);
}

#[test]
fn filtering_digits_for_transfer_learning() {
    let m = Mnist::bundled().unwrap();
    let lower = m.train.filter_classes(&[0, 1, 2, 3, 4], true).unwrap();
    let upper = m.train.filter_classes(&[5, 6, 7, 8, 9], true).unwrap();
    let counts = m.train.class_counts();
    assert_eq!(lower.len(), counts[..5].iter().sum::<usize>());
    assert_eq!(upper.len(), counts[5..].iter().sum::<usize>());
    assert_eq!(lower.len() + upper.len(), 8000);
    assert!(upper.labels.iter().all(|&l| l < 5));
    assert_eq!(upper.class_counts(), counts[5..].to_vec());
    // Image 0 is an 8, so it is the first of the upper set, labelled 8 - 5 = 3.
    assert_eq!(upper.label(0), Some(3));
    assert_eq!(upper.image(0), m.train.image(0));
}

#[test]
fn bundled_files_match_notice_checksums() {
    let dir = common::data_dir();
    cache::verify_sha256(
        dir.join("mnist-10k-images-idx3-ubyte.gz"),
        "32aaf88171e6ca6c642839646562fc9ddc63a243fba496974782294400b15442",
    )
    .unwrap();
    cache::verify_sha256(
        dir.join("mnist-10k-labels-idx1-ubyte.gz"),
        "3f8a206fd4756d61ed1202b3e1ff57285f13b97d0991dce0558b5c3495f5e6c4",
    )
    .unwrap();
}

#[test]
fn load_without_dir_falls_back_to_bundled() {
    if std::env::var_os(datasets::MNIST_DIR_ENV).is_some() {
        return; // The environment chose another directory.
    }
    let m = Mnist::load(None).unwrap();
    assert_eq!(m.train.len(), 8000);
}
