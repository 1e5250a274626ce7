//! The IDX file format of MNIST, Fashion-MNIST and EMNIST: read and write.
//!
//! An IDX file is a big-endian header followed by a flat payload:
//!
//! | bytes | meaning |
//! |---|---|
//! | 0..2 | zero |
//! | 2 | element type, `0x08` = unsigned byte |
//! | 3 | number of dimensions |
//! | 4.. | one big-endian `u32` per dimension |
//! | then | the elements, row-major |
//!
//! Images are `0x00000803` (count, rows, cols) and labels `0x00000801` (count).
//! Files may be gzipped; gzip is recognised by its magic bytes, not by the file name.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{DatasetError, Result};
use crate::fileio;

/// Magic number of an unsigned-byte, 3-dimensional IDX file (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an unsigned-byte, 1-dimensional IDX file (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// Header length of an IDX image file.
pub const IMAGES_HEADER_LEN: usize = 16;
/// Header length of an IDX label file.
pub const LABELS_HEADER_LEN: usize = 8;

/// The content of an IDX image file: `count` images of `rows x cols` bytes, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    /// `count * rows * cols` pixels; image `i` is `pixels[i*rows*cols..(i+1)*rows*cols]`.
    pub pixels: Vec<u8>,
}

/// Reads an IDX image file (raw or gzipped).
pub fn read_idx_images(path: impl AsRef<Path>) -> Result<IdxImages> {
    let path = path.as_ref();
    match read_raw(path, "images", IMAGES_MAGIC, 3)? {
        Some((dims, pixels)) => Ok(IdxImages {
            count: dims[0] as usize,
            rows: dims[1] as usize,
            cols: dims[2] as usize,
            pixels,
        }),
        None => parse_idx_images(fileio::read_maybe_gzip(path)?, path),
    }
}

/// Reads an IDX label file (raw or gzipped); every label must be `< num_classes`
/// (10 for MNIST; pass 256 to accept any byte).
pub fn read_idx_labels(path: impl AsRef<Path>, num_classes: usize) -> Result<Vec<u8>> {
    let path = path.as_ref();
    check_num_classes(num_classes)?;
    match read_raw(path, "labels", LABELS_MAGIC, 1)? {
        Some((_, labels)) => {
            check_labels(&labels, num_classes, path)?;
            Ok(labels)
        }
        None => parse_idx_labels(fileio::read_maybe_gzip(path)?, num_classes, path),
    }
}

/// Fast path for uncompressed files: validates the header against the file
/// length, then reads the payload straight into its final buffer (one bulk
/// read, no copy). Returns `None` for a gzip file.
fn read_raw(
    path: &Path,
    what: &'static str,
    magic: u32,
    ndims: usize,
) -> Result<Option<(Vec<u32>, Vec<u8>)>> {
    let meta = fs::metadata(path).map_err(|e| DatasetError::io(path, "reading", e))?;
    if meta.is_dir() {
        return Err(DatasetError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    let total = usize::try_from(meta.len()).map_err(|_| DatasetError::BadHeader {
        path: path.to_path_buf(),
        reason: format!("file of {} bytes is too large to load", meta.len()),
    })?;
    if total == 0 {
        return Err(DatasetError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let mut file = fs::File::open(path).map_err(|e| DatasetError::io(path, "opening", e))?;
    let header_len = 4 + 4 * ndims;
    let mut head = vec![0u8; header_len.min(total)];
    file.read_exact(&mut head)
        .map_err(|e| DatasetError::io(path, "reading", e))?;
    if fileio::is_gzip(&head) {
        return Ok(None);
    }
    let dims = check_header(&head, total, path, what, magic, ndims)?;
    let payload_len = total - header_len;
    let mut payload = Vec::with_capacity(payload_len);
    file.take(payload_len as u64)
        .read_to_end(&mut payload)
        .map_err(|e| DatasetError::io(path, "reading", e))?;
    if payload.len() != payload_len {
        // The file shrank between `metadata` and the read.
        return Err(DatasetError::TruncatedPayload {
            path: path.to_path_buf(),
            dims,
            expected: payload_len as u64,
            actual: payload.len() as u64,
        });
    }
    Ok(Some((dims, payload)))
}

/// Parses the bytes of an IDX image file (gzip allowed). `path` is only used in messages.
pub fn parse_idx_images(bytes: Vec<u8>, path: &Path) -> Result<IdxImages> {
    let mut bytes = fileio::decompress_if_gzip(bytes, path)?;
    let dims = check_header(&bytes, bytes.len(), path, "images", IMAGES_MAGIC, 3)?;
    // One memmove instead of copying element by element.
    bytes.drain(..IMAGES_HEADER_LEN);
    Ok(IdxImages {
        count: dims[0] as usize,
        rows: dims[1] as usize,
        cols: dims[2] as usize,
        pixels: bytes,
    })
}

/// Parses the bytes of an IDX label file (gzip allowed) and checks every label is
/// `< num_classes`. `path` is only used in messages.
pub fn parse_idx_labels(bytes: Vec<u8>, num_classes: usize, path: &Path) -> Result<Vec<u8>> {
    check_num_classes(num_classes)?;
    let mut bytes = fileio::decompress_if_gzip(bytes, path)?;
    check_header(&bytes, bytes.len(), path, "labels", LABELS_MAGIC, 1)?;
    bytes.drain(..LABELS_HEADER_LEN);
    check_labels(&bytes, num_classes, path)?;
    Ok(bytes)
}

pub(crate) fn check_num_classes(num_classes: usize) -> Result<()> {
    if num_classes == 0 || num_classes > 256 {
        return Err(DatasetError::invalid(format!(
            "num_classes must be in 1..=256 for byte labels, got {num_classes}"
        )));
    }
    Ok(())
}

/// Fails on the first label that is `>= num_classes`.
pub(crate) fn check_labels(labels: &[u8], num_classes: usize, path: &Path) -> Result<()> {
    if let Some(index) = labels.iter().position(|&l| l as usize >= num_classes) {
        return Err(DatasetError::LabelOutOfRange {
            path: path.to_path_buf(),
            index,
            label: labels[index],
            num_classes,
        });
    }
    Ok(())
}

/// Validates magic, dimension count and payload length of a file of `total`
/// bytes whose first bytes (at least the header, or all if shorter) are `head`;
/// returns the dimensions.
fn check_header(
    head: &[u8],
    total: usize,
    path: &Path,
    what: &'static str,
    magic: u32,
    ndims: usize,
) -> Result<Vec<u32>> {
    let header_len = 4 + 4 * ndims;
    if total < 4 {
        return Err(DatasetError::TruncatedHeader {
            path: path.to_path_buf(),
            what,
            len: total,
            needed: header_len,
        });
    }
    let found = be_u32(&head[0..4]);
    if found != magic {
        return Err(DatasetError::BadMagic {
            path: path.to_path_buf(),
            what,
            found,
            expected: magic,
        });
    }
    if total < header_len {
        return Err(DatasetError::TruncatedHeader {
            path: path.to_path_buf(),
            what,
            len: total,
            needed: header_len,
        });
    }
    let dims: Vec<u32> = (0..ndims)
        .map(|d| be_u32(&head[4 + 4 * d..8 + 4 * d]))
        .collect();
    // Three u32 factors always fit in u128; the checked conversion guards 32-bit usize.
    let expected_u128: u128 = dims.iter().map(|&d| d as u128).product();
    let expected = u64::try_from(expected_u128).map_err(|_| DatasetError::BadHeader {
        path: path.to_path_buf(),
        reason: format!("dims {dims:?} describe more bytes than can be addressed"),
    })?;
    let actual = (total - header_len) as u64;
    if actual < expected {
        return Err(DatasetError::TruncatedPayload {
            path: path.to_path_buf(),
            dims,
            expected,
            actual,
        });
    }
    if actual > expected {
        return Err(DatasetError::TrailingBytes {
            path: path.to_path_buf(),
            dims,
            expected,
            actual,
        });
    }
    Ok(dims)
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn dim_u32(value: usize, name: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| {
        DatasetError::invalid(format!(
            "{name} = {value} does not fit an IDX u32 dimension"
        ))
    })
}

/// Encodes images as the bytes of an IDX image file (not gzipped).
pub fn encode_idx_images(pixels: &[u8], count: usize, rows: usize, cols: usize) -> Result<Vec<u8>> {
    let needed = count
        .checked_mul(rows)
        .and_then(|n| n.checked_mul(cols))
        .ok_or_else(|| DatasetError::invalid("count * rows * cols overflows"))?;
    if pixels.len() != needed {
        return Err(DatasetError::invalid(format!(
            "{} pixels given for {count} images of {rows}x{cols} (= {needed})",
            pixels.len()
        )));
    }
    let mut out = Vec::with_capacity(IMAGES_HEADER_LEN + pixels.len());
    out.extend_from_slice(&IMAGES_MAGIC.to_be_bytes());
    out.extend_from_slice(&dim_u32(count, "count")?.to_be_bytes());
    out.extend_from_slice(&dim_u32(rows, "rows")?.to_be_bytes());
    out.extend_from_slice(&dim_u32(cols, "cols")?.to_be_bytes());
    out.extend_from_slice(pixels);
    Ok(out)
}

/// Encodes labels as the bytes of an IDX label file (not gzipped).
pub fn encode_idx_labels(labels: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(LABELS_HEADER_LEN + labels.len());
    out.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
    out.extend_from_slice(&dim_u32(labels.len(), "count")?.to_be_bytes());
    out.extend_from_slice(labels);
    Ok(out)
}

/// Writes an IDX image file atomically; gzipped when `path` ends in `.gz`.
pub fn write_idx_images(
    path: impl AsRef<Path>,
    pixels: &[u8],
    count: usize,
    rows: usize,
    cols: usize,
) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode_idx_images(pixels, count, rows, cols)?;
    write_maybe_gzip(path, bytes)
}

/// Writes an IDX label file atomically; gzipped when `path` ends in `.gz`.
pub fn write_idx_labels(path: impl AsRef<Path>, labels: &[u8]) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode_idx_labels(labels)?;
    write_maybe_gzip(path, bytes)
}

fn write_maybe_gzip(path: &Path, bytes: Vec<u8>) -> Result<()> {
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        fileio::gzip(&bytes)
    } else {
        bytes
    };
    fileio::write_atomic(path, &bytes)
}

/// The path of `dir/name` if it exists, else of `dir/name.gz` if that exists.
pub(crate) fn find_raw_or_gz(dir: &Path, name: &str) -> Option<PathBuf> {
    let raw = dir.join(name);
    if raw.exists() {
        return Some(raw);
    }
    let gz = dir.join(format!("{name}.gz"));
    gz.exists().then_some(gz)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("t.idx")
    }

    #[test]
    fn header_bytes_are_big_endian() {
        let bytes = encode_idx_images(&[1, 2, 3, 4, 5, 6], 1, 2, 3).unwrap();
        assert_eq!(
            &bytes[..16],
            &[0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]
        );
        let labels = encode_idx_labels(&[4, 2]).unwrap();
        assert_eq!(labels, vec![0, 0, 8, 1, 0, 0, 0, 2, 4, 2]);
    }

    #[test]
    fn parse_images_by_hand() {
        // 2 images of 2x1.
        let bytes = vec![
            0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 10, 20, 30, 40,
        ];
        let imgs = parse_idx_images(bytes, p()).unwrap();
        assert_eq!((imgs.count, imgs.rows, imgs.cols), (2, 2, 1));
        assert_eq!(imgs.pixels, vec![10, 20, 30, 40]);
    }

    #[test]
    fn label_range_is_a_parameter() {
        let bytes = vec![0, 0, 8, 1, 0, 0, 0, 3, 0, 11, 25];
        let err = parse_idx_labels(bytes.clone(), 10, p()).unwrap_err();
        match err {
            DatasetError::LabelOutOfRange { index, label, .. } => {
                assert_eq!((index, label), (1, 11))
            }
            other => panic!("{other}"),
        }
        assert_eq!(
            parse_idx_labels(bytes.clone(), 26, p()).unwrap(),
            vec![0, 11, 25]
        );
        assert!(parse_idx_labels(bytes, 0, p()).is_err());
    }

    #[test]
    fn huge_dims_do_not_allocate() {
        // 2^32-1 cubed overflows u64: a header no file can match.
        let bytes = vec![
            0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 1,
        ];
        let err = parse_idx_images(bytes, p()).unwrap_err();
        assert!(matches!(err, DatasetError::BadHeader { .. }), "{err}");
        // (2^32-1)^2 fits: refused as truncated before anything is allocated.
        let bytes = vec![
            0, 0, 8, 3, 0, 0, 0, 1, 255, 255, 255, 255, 255, 255, 255, 255, 1,
        ];
        let err = parse_idx_images(bytes, p()).unwrap_err();
        assert!(
            matches!(err, DatasetError::TruncatedPayload { actual: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn zero_images_is_valid() {
        let bytes = encode_idx_images(&[], 0, 28, 28).unwrap();
        let imgs = parse_idx_images(bytes, p()).unwrap();
        assert_eq!(imgs.count, 0);
        assert!(imgs.pixels.is_empty());
    }
}
