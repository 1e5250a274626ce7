//! A cache directory of checksummed data files. Files can be put there by hand;
//! with the `download` feature, missing ones are fetched with the system `curl`,
//! checked against their SHA-256 and moved into place atomically.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{DatasetError, Result};
use crate::fileio;

/// Environment variable that overrides [`default_cache_dir`].
pub const CACHE_DIR_ENV: &str = "DATASETS_CACHE_DIR";

/// A file known by name, source and SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteFile {
    pub name: &'static str,
    pub url: &'static str,
    /// Lower-case hex SHA-256 of the file as stored (compressed).
    pub sha256: &'static str,
}

/// The four official MNIST files.
pub const MNIST_FILES: [RemoteFile; 4] = [
    RemoteFile {
        name: "train-images-idx3-ubyte.gz",
        url: "https://storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz",
        sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    },
    RemoteFile {
        name: "train-labels-idx1-ubyte.gz",
        url: "https://storage.googleapis.com/cvdf-datasets/mnist/train-labels-idx1-ubyte.gz",
        sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    },
    RemoteFile {
        name: "t10k-images-idx3-ubyte.gz",
        url: "https://storage.googleapis.com/cvdf-datasets/mnist/t10k-images-idx3-ubyte.gz",
        sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    },
    RemoteFile {
        name: "t10k-labels-idx1-ubyte.gz",
        url: "https://storage.googleapis.com/cvdf-datasets/mnist/t10k-labels-idx1-ubyte.gz",
        sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
];

/// The four official Fashion-MNIST files (same names and format as MNIST).
pub const FASHION_MNIST_FILES: [RemoteFile; 4] = [
    RemoteFile {
        name: "train-images-idx3-ubyte.gz",
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz",
        sha256: "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
    },
    RemoteFile {
        name: "train-labels-idx1-ubyte.gz",
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz",
        sha256: "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
    },
    RemoteFile {
        name: "t10k-images-idx3-ubyte.gz",
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-images-idx3-ubyte.gz",
        sha256: "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
    },
    RemoteFile {
        name: "t10k-labels-idx1-ubyte.gz",
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz",
        sha256: "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
    },
];

/// `$DATASETS_CACHE_DIR`, else `$XDG_CACHE_HOME/rust-dl-datasets`, else
/// `$HOME/.cache/rust-dl-datasets`, else `./.datasets-cache`.
pub fn default_cache_dir() -> PathBuf {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var(CACHE_DIR_ENV) {
        return dir;
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return dir.join("rust-dl-datasets");
    }
    if let Some(home) = var("HOME") {
        return home.join(".cache").join("rust-dl-datasets");
    }
    PathBuf::from(".datasets-cache")
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Lower-case hex SHA-256 of the file at `path`.
pub fn sha256_file(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    let mut file = std::fs::File::open(path).map_err(|e| DatasetError::io(path, "opening", e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| DatasetError::io(path, "reading", e))?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Fails with [`DatasetError::Checksum`] unless the file's SHA-256 is `expected`.
pub fn verify_sha256(path: impl AsRef<Path>, expected: &str) -> Result<()> {
    let path = path.as_ref();
    if path.is_dir() {
        return Err(DatasetError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    let actual = sha256_file(path)?;
    if !actual.eq_ignore_ascii_case(expected) {
        return Err(DatasetError::Checksum {
            path: path.to_path_buf(),
            expected: expected.to_string(),
            actual,
        });
    }
    Ok(())
}

/// The path of `file` in `dir`, verified. When it is missing it is downloaded
/// (with the `download` feature) or an error says where to put it.
pub fn ensure_file(dir: impl AsRef<Path>, file: &RemoteFile) -> Result<PathBuf> {
    let dir = dir.as_ref();
    let path = dir.join(file.name);
    if path.exists() {
        verify_sha256(&path, file.sha256)?;
        return Ok(path);
    }
    fetch_missing(file, &path)?;
    Ok(path)
}

/// Ensures every file of `files` is in `dir`; returns `dir`.
pub fn ensure_files(dir: impl AsRef<Path>, files: &[RemoteFile]) -> Result<PathBuf> {
    let dir = dir.as_ref();
    for f in files {
        ensure_file(dir, f)?;
    }
    Ok(dir.to_path_buf())
}

#[cfg(not(feature = "download"))]
fn fetch_missing(file: &RemoteFile, path: &Path) -> Result<()> {
    Err(DatasetError::NotCached {
        path: path.to_path_buf(),
        reason: format!(
            "file missing; place {} (SHA-256 {}, from {}) at this path, \
             or build with the `download` feature to fetch it",
            file.name, file.sha256, file.url
        ),
    })
}

#[cfg(feature = "download")]
fn fetch_missing(file: &RemoteFile, path: &Path) -> Result<()> {
    download(file.url, path, file.sha256)
}

/// Downloads `url` to `dest` with the system `curl`, checks its SHA-256 and
/// renames it into place; nothing is left at `dest` on failure.
#[cfg(feature = "download")]
pub fn download(url: &str, dest: &Path, sha256: &str) -> Result<()> {
    use std::process::Command;

    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| DatasetError::io(&dir, "creating directory", e))?;
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    let part = dir.join(format!(".{name}.part-{}", std::process::id()));
    let not_cached = |reason: String| DatasetError::NotCached {
        path: dest.to_path_buf(),
        reason: format!(
            "{reason}; without network access, place the file (SHA-256 {sha256}, from {url}) at this path"
        ),
    };
    let status = Command::new("curl")
        .args([
            "--fail",
            "--silent",
            "--show-error",
            "--location",
            "--retry",
            "2",
        ])
        .args(["--connect-timeout", "20", "--output"])
        .arg(&part)
        .arg(url)
        .status();
    let result = match status {
        Err(e) => Err(not_cached(format!("could not run curl ({e})"))),
        Ok(s) if !s.success() => Err(not_cached(format!("curl failed for {url} ({s})"))),
        Ok(_) => verify_sha256(&part, sha256).and_then(|()| {
            std::fs::rename(&part, dest).map_err(|e| DatasetError::io(dest, "renaming download", e))
        }),
    };
    if result.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    result
}

/// Writes `bytes` into the cache as `name` after checking them against `sha256`
/// (for files obtained some other way, e.g. copied from another machine).
pub fn store_verified(
    dir: impl AsRef<Path>,
    name: &str,
    bytes: &[u8],
    sha256: &str,
) -> Result<PathBuf> {
    let path = dir.as_ref().join(name);
    let actual = sha256_hex(bytes);
    if !actual.eq_ignore_ascii_case(sha256) {
        return Err(DatasetError::Checksum {
            path,
            expected: sha256.to_string(),
            actual,
        });
    }
    fileio::write_atomic(&path, bytes)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_vectors() {
        // FIPS 180-2 test vectors.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
