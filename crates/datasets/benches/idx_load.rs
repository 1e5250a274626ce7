//! Loading a full-size (60,000 image, 47 MB) raw IDX file.

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datasets::{read_idx_images, write_idx_images};

fn big_idx_file() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("datasets-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("train-images-idx3-ubyte");
    let pixels: Vec<u8> = (0..60_000 * 784).map(|i| (i % 251) as u8).collect();
    write_idx_images(&path, &pixels, 60_000, 28, 28).unwrap();
    path
}

fn idx_load(c: &mut Criterion) {
    let path = big_idx_file();
    let bytes = std::fs::metadata(&path).unwrap().len();
    let mut group = c.benchmark_group("idx_load");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("raw_60000x28x28", |b| {
        b.iter(|| {
            let imgs = read_idx_images(&path).unwrap();
            assert_eq!(imgs.count, 60_000);
            imgs
        })
    });
    group.finish();

    // The embedded 10,000-digit gzip set, decompressed and split.
    let mut group = c.benchmark_group("bundled");
    group.sample_size(10);
    group.bench_function("mnist_10k_gz", |b| {
        b.iter(|| datasets::Mnist::bundled().unwrap())
    });
    group.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, idx_load);
criterion_main!(benches);
