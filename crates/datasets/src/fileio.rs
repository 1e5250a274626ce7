//! Reading files that may be gzipped, and writing files atomically.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{DatasetError, Result};

/// The two bytes every gzip stream starts with.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// True when `bytes` starts with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Reads a whole file, refusing directories and empty files.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let meta = fs::metadata(path).map_err(|e| DatasetError::io(path, "reading", e))?;
    if meta.is_dir() {
        return Err(DatasetError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    let bytes = fs::read(path).map_err(|e| DatasetError::io(path, "reading", e))?;
    if bytes.is_empty() {
        return Err(DatasetError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    Ok(bytes)
}

/// Reads a file and, if it is gzip (detected by its magic bytes, not its name),
/// decompresses it.
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let bytes = read_file(path)?;
    decompress_if_gzip(bytes, path)
}

/// Decompresses `bytes` when they are gzip, else returns them unchanged.
/// `path` is only used in error messages.
pub fn decompress_if_gzip(bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>> {
    if bytes.is_empty() {
        return Err(DatasetError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    if !is_gzip(&bytes) {
        return Ok(bytes);
    }
    // Compressed image data is typically 5-8x smaller; the hint only saves reallocations.
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4));
    flate2::read::MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut out)
        .map_err(|source| DatasetError::Gzip {
            path: path.to_path_buf(),
            source,
        })?;
    if out.is_empty() {
        return Err(DatasetError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

/// Gzip-compresses `bytes` at the default level.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    enc.write_all(bytes).expect("writing to a Vec");
    enc.finish().expect("writing to a Vec")
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory is
/// written, flushed to disk and renamed over `path`, so readers never see a half
/// written file. The temporary file is removed if anything fails.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if path.is_dir() {
        return Err(DatasetError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    let tmp = temp_path_beside(path);
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(DatasetError::io(path, "writing", e));
    }
    Ok(())
}

fn temp_path_beside(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_string());
    let tmp_name = format!(".{name}.tmp-{}-{n}", std::process::id());
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(tmp_name),
        _ => PathBuf::from(tmp_name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_round_trip_and_detection() {
        let data = b"hello idx".to_vec();
        let gz = gzip(&data);
        assert!(is_gzip(&gz));
        assert!(!is_gzip(&data));
        let back = decompress_if_gzip(gz, Path::new("x.gz")).unwrap();
        assert_eq!(back, data);
        let same = decompress_if_gzip(data.clone(), Path::new("x")).unwrap();
        assert_eq!(same, data);
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let gz = gzip(&[7u8; 1000]);
        let cut = gz[..gz.len() / 2].to_vec();
        let err = decompress_if_gzip(cut, Path::new("cut.gz")).unwrap_err();
        assert!(matches!(err, DatasetError::Gzip { .. }), "{err}");
        assert!(err.to_string().contains("cut.gz"));
    }

    #[test]
    fn temp_path_is_in_same_directory() {
        let p = temp_path_beside(Path::new("/a/b/samples.idx3-ubyte"));
        assert_eq!(p.parent(), Some(Path::new("/a/b")));
        assert!(
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".samples.idx3-ubyte.tmp-")
        );
    }
}
