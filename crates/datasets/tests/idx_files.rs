//! Writing IDX files, reading them back, and loading a directory of standard names.

mod common;

use common::{gzip_bytes, idx_images_bytes, idx_labels_bytes, temp_dir};
use datasets::{
    DatasetError, Mnist, read_idx_images, read_idx_labels, write_idx_images, write_idx_labels,
};

#[test]
fn writer_produces_the_documented_bytes() {
    let dir = temp_dir("writer-bytes");
    let pixels: Vec<u8> = (0..2 * 3 * 4).map(|i| i as u8).collect();
    let p = dir.join("samples.idx3-ubyte");
    write_idx_images(&p, &pixels, 2, 3, 4).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    // Hand-written: magic 0x00000803, then 2, 3, 4 as big-endian u32, then the pixels.
    assert_eq!(bytes, idx_images_bytes(2, 3, 4, |i| i as u8));
    assert_eq!(
        &bytes[..16],
        &[0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]
    );

    let l = dir.join("samples.idx1-ubyte");
    write_idx_labels(&l, &[3, 1, 4]).unwrap();
    assert_eq!(
        std::fs::read(&l).unwrap(),
        vec![0, 0, 8, 1, 0, 0, 0, 3, 3, 1, 4]
    );
}

#[test]
fn write_then_read_thousand_samples() {
    let dir = temp_dir("writer-1000");
    let pixels: Vec<u8> = (0..1000 * 784).map(|i| (i % 256) as u8).collect();
    let p = dir.join("samples.idx3-ubyte");
    write_idx_images(&p, &pixels, 1000, 28, 28).unwrap();
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 16 + 784_000);
    let back = read_idx_images(&p).unwrap();
    assert_eq!((back.count, back.rows, back.cols), (1000, 28, 28));
    assert_eq!(back.pixels, pixels);
    // Overwriting works and leaves no temporary file behind.
    write_idx_images(&p, &pixels[..784], 1, 28, 28).unwrap();
    assert_eq!(read_idx_images(&p).unwrap().count, 1);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("samples.idx3-ubyte")]);
}

#[test]
fn gz_extension_writes_gzip() {
    let dir = temp_dir("writer-gz");
    let p = dir.join("x-idx1-ubyte.gz");
    write_idx_labels(&p, &[1, 2, 3]).unwrap();
    let raw = std::fs::read(&p).unwrap();
    assert_eq!(&raw[..2], &[0x1f, 0x8b]);
    assert_eq!(common::gunzip_file(&p), idx_labels_bytes(&[1, 2, 3]));
    assert_eq!(read_idx_labels(&p, 10).unwrap(), vec![1, 2, 3]);
}

#[test]
fn writer_refuses_bad_arguments() {
    let dir = temp_dir("writer-bad");
    assert!(write_idx_images(dir.join("a"), &[0; 5], 1, 2, 2).is_err());
    let err = write_idx_images(&dir, &[0; 4], 1, 2, 2).unwrap_err();
    assert!(matches!(err, DatasetError::IsDirectory { .. }), "{err}");
    let err = write_idx_images(dir.join("no-such-dir/x"), &[0; 4], 1, 2, 2).unwrap_err();
    assert!(err.to_string().contains("no-such-dir"), "{err}");
}

#[test]
fn from_dir_reads_raw_and_gz_names() {
    let dir = temp_dir("from-dir");
    let train_imgs = idx_images_bytes(5, 28, 28, |i| (i % 200) as u8);
    let test_imgs = idx_images_bytes(2, 28, 28, |i| (i % 100) as u8);
    // Mix raw and gzipped files, as users unpack some and not others.
    std::fs::write(
        dir.join("train-images-idx3-ubyte.gz"),
        gzip_bytes(&train_imgs),
    )
    .unwrap();
    std::fs::write(
        dir.join("train-labels-idx1-ubyte"),
        idx_labels_bytes(&[0, 1, 2, 3, 9]),
    )
    .unwrap();
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), &test_imgs).unwrap();
    std::fs::write(
        dir.join("t10k-labels-idx1-ubyte.gz"),
        gzip_bytes(&idx_labels_bytes(&[7, 7])),
    )
    .unwrap();
    let m = Mnist::from_dir(&dir).unwrap();
    assert_eq!(m.train.shape(), [5, 28, 28, 1]);
    assert_eq!(m.test.shape(), [2, 28, 28, 1]);
    assert_eq!(m.train.labels, vec![0, 1, 2, 3, 9]);
    assert_eq!(m.test.labels, vec![7, 7]);
    assert_eq!(&m.train.images[..], &train_imgs[16..]);
    assert_eq!(m.test.image(1).unwrap()[0], (784 % 100) as u8);
    assert_eq!(Mnist::load(Some(&dir)).unwrap(), m);
}

#[test]
fn from_dir_names_every_file_it_looked_for() {
    let dir = temp_dir("from-dir-missing");
    std::fs::write(
        dir.join("train-images-idx3-ubyte"),
        idx_images_bytes(1, 1, 1, |_| 0),
    )
    .unwrap();
    let err = Mnist::from_dir(&dir).unwrap_err();
    assert!(matches!(err, DatasetError::MissingFile { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&dir.display().to_string()), "{msg}");
    assert!(
        msg.contains("train-labels-idx1-ubyte, train-labels-idx1-ubyte.gz"),
        "{msg}"
    );

    let err = Mnist::from_dir(dir.join("absent")).unwrap_err();
    assert!(err.to_string().contains("absent"), "{err}");
}

#[test]
fn image_set_write_idx_round_trip() {
    let dir = temp_dir("set-write");
    let m = Mnist::bundled().unwrap();
    let small = m.test.take(100);
    let (ip, lp) = (
        dir.join("t10k-images-idx3-ubyte.gz"),
        dir.join("t10k-labels-idx1-ubyte"),
    );
    small.write_idx(&ip, &lp).unwrap();
    let back = datasets::load_image_set(&ip, &lp, 10).unwrap();
    assert_eq!(back, small);
}
