//! Random bytes and random mutations of valid files must give `Ok` or `Err`,
//! never a panic, in every parser.

mod common;

use std::path::Path;

use common::{gzip_bytes, idx_images_bytes, idx_labels_bytes};
use datasets::cifar::{parse_cifar10, parse_cifar100};
use datasets::idx::{parse_idx_images, parse_idx_labels};
use proptest::prelude::*;

fn p() -> &'static Path {
    Path::new("fuzz.idx")
}

fn all_parsers(bytes: &[u8]) {
    if let Ok(imgs) = parse_idx_images(bytes.to_vec(), p()) {
        assert_eq!(imgs.pixels.len(), imgs.count * imgs.rows * imgs.cols);
    }
    if let Ok(labels) = parse_idx_labels(bytes.to_vec(), 10, p()) {
        assert!(labels.iter().all(|&l| l < 10));
    }
    let _ = parse_idx_labels(bytes.to_vec(), 256, p());
    if let Ok(set) = parse_cifar10(bytes, p()) {
        assert_eq!(set.images.len(), set.count * 3072);
    }
    let _ = parse_cifar100(bytes, p());
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Append(Vec<u8>),
    Insert(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(i, x)| Mutation::Flip(i, x)),
        any::<usize>().prop_map(Mutation::Truncate),
        proptest::collection::vec(any::<u8>(), 1..8).prop_map(Mutation::Append),
        (any::<usize>(), any::<u8>()).prop_map(|(i, x)| Mutation::Insert(i, x)),
    ]
}

fn apply(mut bytes: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        match m {
            Mutation::Flip(i, x) if !bytes.is_empty() => {
                let k = i % bytes.len();
                bytes[k] ^= x;
            }
            Mutation::Truncate(n) => bytes.truncate(n % (bytes.len() + 1)),
            Mutation::Append(tail) => bytes.extend_from_slice(tail),
            Mutation::Insert(i, x) => {
                let k = i % (bytes.len() + 1);
                bytes.insert(k, *x);
            }
            _ => {}
        }
    }
    bytes
}

fn small_images() -> Vec<u8> {
    idx_images_bytes(3, 4, 5, |i| (i * 13 % 256) as u8)
}

fn small_labels() -> Vec<u8> {
    idx_labels_bytes(&[0, 3, 9, 1, 7])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4000)) {
        all_parsers(&bytes);
    }

    #[test]
    fn random_bytes_with_idx_prefix(
        header in prop_oneof![Just(vec![0u8, 0, 8, 3]), Just(vec![0u8, 0, 8, 1]), Just(vec![0x1f, 0x8b])],
        rest in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut bytes = header;
        bytes.extend(rest);
        all_parsers(&bytes);
    }

    #[test]
    fn mutated_raw_idx(muts in proptest::collection::vec(mutation(), 1..4)) {
        all_parsers(&apply(small_images(), &muts));
        all_parsers(&apply(small_labels(), &muts));
    }

    #[test]
    fn mutated_gzip_idx(muts in proptest::collection::vec(mutation(), 1..4)) {
        all_parsers(&apply(gzip_bytes(&small_images()), &muts));
        all_parsers(&apply(gzip_bytes(&small_labels()), &muts));
    }

    #[test]
    fn mutated_cifar(muts in proptest::collection::vec(mutation(), 1..4)) {
        let mut rec = vec![4u8];
        rec.extend((0..3072).map(|i| (i % 256) as u8));
        all_parsers(&apply(rec, &muts));
    }
}

#[test]
fn unmutated_inputs_parse() {
    assert_eq!(parse_idx_images(small_images(), p()).unwrap().count, 3);
    assert_eq!(
        parse_idx_labels(gzip_bytes(&small_labels()), 10, p()).unwrap(),
        vec![0, 3, 9, 1, 7]
    );
}
