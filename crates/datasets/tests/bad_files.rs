//! Every kind of bad input is refused with an error that names the file and
//! the problem; nothing panics.

mod common;

use std::path::{Path, PathBuf};

use common::{gzip_bytes, idx_images_bytes, idx_labels_bytes, temp_dir};
use datasets::cifar::read_cifar10_file;
use datasets::{DatasetError, Mnist, load_image_set, read_idx_images, read_idx_labels};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn assert_msg(err: &DatasetError, path: &Path, words: &str) {
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "message lacks path: {msg}"
    );
    assert!(msg.contains(words), "message lacks {words:?}: {msg}");
}

#[test]
fn wrong_magic() {
    let dir = temp_dir("wrong-magic");
    // A label file where images are expected: magic 0x801, not 0x803.
    let p = write(&dir, "imgs", &idx_labels_bytes(&[1, 2, 3]));
    let err = read_idx_images(&p).unwrap_err();
    assert!(
        matches!(
            err,
            DatasetError::BadMagic {
                found: 0x801,
                expected: 0x803,
                ..
            }
        ),
        "{err}"
    );
    assert_msg(&err, &p, "bad magic number 0x00000801, expected 0x00000803");
    // Images where labels are expected.
    let q = write(&dir, "labs", &idx_images_bytes(1, 1, 1, |_| 0));
    let err = read_idx_labels(&q, 10).unwrap_err();
    assert_msg(&err, &q, "bad magic number 0x00000803, expected 0x00000801");
    // Plain text.
    let r = write(&dir, "text", b"hello, this is not IDX");
    assert_msg(&read_idx_images(&r).unwrap_err(), &r, "bad magic");
}

#[test]
fn truncated_payload() {
    let dir = temp_dir("truncated");
    let mut bytes = idx_images_bytes(3, 2, 2, |i| i as u8);
    bytes.truncate(bytes.len() - 1);
    let p = write(&dir, "imgs", &bytes);
    let err = read_idx_images(&p).unwrap_err();
    // 3*2*2 = 12 declared, 11 present.
    assert!(
        matches!(
            err,
            DatasetError::TruncatedPayload {
                expected: 12,
                actual: 11,
                ..
            }
        ),
        "{err}"
    );
    assert_msg(&err, &p, "payload truncated");

    let mut labels = idx_labels_bytes(&[1, 2, 3, 4]);
    labels.pop();
    let q = write(&dir, "labs", &labels);
    assert_msg(
        &read_idx_labels(&q, 10).unwrap_err(),
        &q,
        "payload truncated",
    );
}

#[test]
fn trailing_bytes() {
    let dir = temp_dir("trailing");
    let mut bytes = idx_images_bytes(2, 2, 2, |_| 9);
    bytes.extend_from_slice(&[1, 2, 3]);
    let p = write(&dir, "imgs", &bytes);
    let err = read_idx_images(&p).unwrap_err();
    assert!(
        matches!(
            err,
            DatasetError::TrailingBytes {
                expected: 8,
                actual: 11,
                ..
            }
        ),
        "{err}"
    );
    assert_msg(&err, &p, "trailing bytes");
}

#[test]
fn header_cut_short() {
    let dir = temp_dir("header");
    let p = write(&dir, "imgs", &[0, 0, 8, 3, 0, 0, 0, 1, 0, 0]);
    let err = read_idx_images(&p).unwrap_err();
    assert!(
        matches!(
            err,
            DatasetError::TruncatedHeader {
                len: 10,
                needed: 16,
                ..
            }
        ),
        "{err}"
    );
    assert_msg(&err, &p, "header truncated");
}

#[test]
fn image_and_label_counts_disagree() {
    let dir = temp_dir("count-mismatch");
    let imgs = write(&dir, "imgs", &idx_images_bytes(3, 2, 2, |_| 0));
    let labs = write(&dir, "labs", &idx_labels_bytes(&[0, 1]));
    let err = load_image_set(&imgs, &labs, 10).unwrap_err();
    assert!(
        matches!(
            err,
            DatasetError::CountMismatch {
                images: 3,
                labels: 2,
                ..
            }
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("count mismatch"), "{msg}");
    assert!(msg.contains("imgs") && msg.contains("labs"), "{msg}");
    assert!(
        msg.contains("3 images") && msg.contains("2 labels"),
        "{msg}"
    );
}

#[test]
fn labels_out_of_range() {
    let dir = temp_dir("label-range");
    let p = write(&dir, "labs", &idx_labels_bytes(&[0, 9, 10, 3]));
    let err = read_idx_labels(&p, 10).unwrap_err();
    assert!(
        matches!(
            err,
            DatasetError::LabelOutOfRange {
                index: 2,
                label: 10,
                num_classes: 10,
                ..
            }
        ),
        "{err}"
    );
    assert_msg(
        &err,
        &p,
        "label 10 at index 2 is out of range for 10 classes",
    );
    // With more classes (EMNIST style) the same file is fine.
    assert_eq!(read_idx_labels(&p, 27).unwrap(), vec![0, 9, 10, 3]);
}

#[test]
fn gzip_stream_cut_short() {
    let dir = temp_dir("gzip-cut");
    let gz = gzip_bytes(&idx_images_bytes(20, 28, 28, |i| (i * 7 % 251) as u8));
    let p = write(&dir, "imgs.gz", &gz[..gz.len() * 2 / 3]);
    let err = read_idx_images(&p).unwrap_err();
    assert!(matches!(err, DatasetError::Gzip { .. }), "{err}");
    assert_msg(&err, &p, "gzip stream is corrupt or cut short");
    // Only the 8-byte trailer (CRC and length) missing.
    let q = write(&dir, "imgs2.gz", &gz[..gz.len() - 8]);
    assert_msg(&read_idx_images(&q).unwrap_err(), &q, "gzip");
    // Only the gzip magic.
    let r = write(&dir, "imgs3.gz", &[0x1f, 0x8b]);
    assert_msg(&read_idx_images(&r).unwrap_err(), &r, "gzip");
}

#[test]
fn corrupt_gzip_body() {
    let dir = temp_dir("gzip-corrupt");
    let mut gz = gzip_bytes(&idx_labels_bytes(&[1; 500]));
    let mid = gz.len() / 2;
    gz[mid] ^= 0xff;
    gz[mid + 1] ^= 0x55;
    let p = write(&dir, "labs.gz", &gz);
    let err = read_idx_labels(&p, 10).unwrap_err();
    // Either the inflater or the CRC check catches it; never a panic or a silent success.
    assert!(
        matches!(
            err,
            DatasetError::Gzip { .. }
                | DatasetError::BadMagic { .. }
                | DatasetError::TruncatedPayload { .. }
                | DatasetError::TrailingBytes { .. }
                | DatasetError::LabelOutOfRange { .. }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("labs.gz"), "{err}");
}

#[test]
fn empty_file() {
    let dir = temp_dir("empty");
    let p = write(&dir, "imgs", &[]);
    let err = read_idx_images(&p).unwrap_err();
    assert!(matches!(err, DatasetError::EmptyFile { .. }), "{err}");
    assert_msg(&err, &p, "file is empty");
    // A valid gzip of nothing is empty too.
    let q = write(&dir, "labs.gz", &gzip_bytes(&[]));
    assert_msg(&read_idx_labels(&q, 10).unwrap_err(), &q, "file is empty");
    let c = write(&dir, "data_batch_1.bin", &[]);
    assert_msg(&read_cifar10_file(&c).unwrap_err(), &c, "file is empty");
}

#[test]
fn directory_instead_of_file() {
    let dir = temp_dir("is-dir");
    let sub = dir.join("train-images-idx3-ubyte");
    std::fs::create_dir(&sub).unwrap();
    let err = read_idx_images(&sub).unwrap_err();
    assert!(matches!(err, DatasetError::IsDirectory { .. }), "{err}");
    assert_msg(&err, &sub, "is a directory, expected a file");
    // Through the directory loader too, with the other three files present.
    std::fs::write(dir.join("train-labels-idx1-ubyte"), idx_labels_bytes(&[1])).unwrap();
    std::fs::write(
        dir.join("t10k-images-idx3-ubyte"),
        idx_images_bytes(1, 1, 1, |_| 0),
    )
    .unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), idx_labels_bytes(&[1])).unwrap();
    let err = Mnist::from_dir(&dir).unwrap_err();
    assert_msg(&err, &sub, "is a directory");
}

#[test]
fn missing_file() {
    let dir = temp_dir("missing");
    let err = read_idx_images(dir.join("nope")).unwrap_err();
    assert!(matches!(err, DatasetError::Io { .. }), "{err}");
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn cifar_length_not_multiple_of_record() {
    let dir = temp_dir("cifar-len");
    let p = write(&dir, "data_batch_1.bin", &vec![0u8; 3073 * 2 + 5]);
    let err = read_cifar10_file(&p).unwrap_err();
    assert!(
        matches!(
            err,
            DatasetError::RecordLength {
                len: 6151,
                record_len: 3073,
                ..
            }
        ),
        "{err}"
    );
    assert_msg(&err, &p, "not a multiple of the 3073-byte record");
}

#[test]
fn cifar_label_out_of_range() {
    let dir = temp_dir("cifar-label");
    let mut bytes = vec![0u8; 3073 * 2];
    bytes[3073] = 12; // label of record 1
    let p = write(&dir, "test_batch.bin", &bytes);
    let err = read_cifar10_file(&p).unwrap_err();
    assert_msg(
        &err,
        &p,
        "label 12 of record 1 is out of range for 10 classes",
    );
}
