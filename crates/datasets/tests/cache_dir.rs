//! The checksummed cache: files placed by hand are verified; missing files give
//! an error that says where to put them.

mod common;

use common::temp_dir;
use datasets::DatasetError;
use datasets::cache::{
    RemoteFile, ensure_file, sha256_file, sha256_hex, store_verified, verify_sha256,
};

// SHA-256 of the three bytes "abc" (FIPS 180-2 test vector).
const ABC_SHA: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

fn abc_file() -> RemoteFile {
    RemoteFile {
        name: "abc.bin",
        url: "file:///nonexistent/abc.bin",
        sha256: ABC_SHA,
    }
}

#[test]
fn file_placed_by_hand_is_verified() {
    let dir = temp_dir("cache-present");
    std::fs::write(dir.join("abc.bin"), b"abc").unwrap();
    assert_eq!(sha256_file(dir.join("abc.bin")).unwrap(), ABC_SHA);
    assert_eq!(ensure_file(&dir, &abc_file()).unwrap(), dir.join("abc.bin"));
}

#[test]
fn corrupted_file_is_refused() {
    let dir = temp_dir("cache-corrupt");
    std::fs::write(dir.join("abc.bin"), b"abd").unwrap();
    let err = ensure_file(&dir, &abc_file()).unwrap_err();
    assert!(matches!(err, DatasetError::Checksum { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("abc.bin") && msg.contains("SHA-256 mismatch") && msg.contains(ABC_SHA),
        "{msg}"
    );
}

#[test]
fn missing_file_says_where_to_put_it() {
    let dir = temp_dir("cache-missing");
    let err = ensure_file(&dir, &abc_file()).unwrap_err();
    assert!(matches!(err, DatasetError::NotCached { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&dir.join("abc.bin").display().to_string()),
        "{msg}"
    );
    assert!(msg.contains(ABC_SHA), "{msg}");
    assert!(!dir.join("abc.bin").exists());
}

#[test]
fn store_verified_checks_before_writing() {
    let dir = temp_dir("cache-store");
    assert!(store_verified(&dir, "x", b"abd", ABC_SHA).is_err());
    assert!(!dir.join("x").exists());
    let p = store_verified(&dir, "x", b"abc", ABC_SHA).unwrap();
    verify_sha256(&p, ABC_SHA).unwrap();
    assert_eq!(sha256_hex(&std::fs::read(p).unwrap()), ABC_SHA);
}

// With `download` on this would fetch the real files, so it runs only offline-style.
#[cfg(not(feature = "download"))]
#[test]
fn mnist_from_empty_cache_is_a_clear_error() {
    let dir = temp_dir("cache-mnist");
    let err = datasets::Mnist::from_cache(&dir).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("train-images-idx3-ubyte.gz"), "{msg}");
    assert!(
        msg.contains("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        "{msg}"
    );
}

/// With the feature on, `curl` fetches a `file://` URL, so the whole path
/// (download, checksum, atomic rename) is exercised offline.
#[cfg(feature = "download")]
#[test]
fn download_through_curl_file_url() {
    use datasets::cache::download;
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("curl not installed; skipping");
        return;
    }
    let dir = temp_dir("cache-download");
    let src = dir.join("source.bin");
    std::fs::write(&src, b"abc").unwrap();
    let url = format!("file://{}", src.display());
    let dest = dir.join("cache").join("abc.bin");
    download(&url, &dest, ABC_SHA).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), b"abc");
    // A wrong checksum leaves nothing behind.
    let bad = dir.join("cache").join("bad.bin");
    let err = download(&url, &bad, &"0".repeat(64)).unwrap_err();
    assert!(matches!(err, DatasetError::Checksum { .. }), "{err}");
    assert!(!bad.exists());
    let leftovers = std::fs::read_dir(dir.join("cache")).unwrap().count();
    assert_eq!(leftovers, 1);
    // An unreachable source names the destination.
    let err = download(
        "file:///nonexistent/x",
        &dir.join("cache").join("y"),
        ABC_SHA,
    )
    .unwrap_err();
    assert!(err.to_string().contains("place the file"), "{err}");
}
