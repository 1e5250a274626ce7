//! What the binaries' integration tests share: scratch directories, a run's output as
//! text, and the wgpu skip.
#![allow(dead_code)] // each test file uses its own part

use std::path::PathBuf;
use std::process::Output;

/// A fresh, empty directory `<prefix>-<name>-<pid>` under the system's temp dir.
pub fn scratch(prefix: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A run's stdout and stderr.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A run's stdout and stderr, after checking it succeeded (both printed if not).
pub fn ok(out: &Output) -> (String, String) {
    let (o, e) = text(out);
    assert!(out.status.success(), "failed:\nstdout:\n{o}\nstderr:\n{e}");
    (o, e)
}

/// Whether a wgpu test has to skip: no adapter here. Under `CI` a missing adapter is a
/// failure instead (CI installs lavapipe).
#[cfg(feature = "wgpu")]
pub fn no_wgpu_adapter() -> bool {
    match backend_wgpu::Wgpu::new() {
        Ok(_) => false,
        Err(e) => {
            assert!(
                std::env::var("CI").is_err(),
                "CI=true but no wgpu adapter: {e}"
            );
            eprintln!("SKIP: no wgpu adapter ({e})");
            true
        }
    }
}
