//! The `acgan` binary end to end: a few training steps write every file, and
//! `acgan sample` draws chosen digits from the checkpoint.

use std::path::{Path, PathBuf};
use std::process::Command;

fn acgan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_acgan"))
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("acgan_{name}_{}", std::process::id()))
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check_run_dir(dir: &Path, steps: u64, exported: usize) {
    for f in ["loss.png", "checkpoint.safetensors"] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
    let log = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    assert_eq!(log.lines().count() as u64, steps);
    let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["step"], steps);
    for key in ["d_fake_loss", "d_aux_loss", "g_fake_loss", "g_aux_loss"] {
        assert!(last[key].as_f64().unwrap().is_finite(), "{key}");
    }
    if exported > 0 {
        assert!(dir.join("samples.png").exists());
        let images = datasets::read_idx_images(dir.join("samples.idx3-ubyte")).unwrap();
        assert_eq!((images.count, images.rows, images.cols), (exported, 28, 28));
        let labels = datasets::read_idx_labels(dir.join("samples-labels.idx1-ubyte"), 10).unwrap();
        assert_eq!(labels.len(), exported);
        for d in 0..10u8 {
            assert_eq!(
                labels.iter().filter(|&&l| l == d).count(),
                exported / 10,
                "digit {d}"
            );
        }
    }
    let ck = nn::Checkpoint::load(dir.join("checkpoint.safetensors")).unwrap();
    assert_eq!(ck.metadata["step"], steps.to_string());
    assert_eq!(ck.metadata["model"], "acgan");
}

#[test]
fn binary_trains_a_few_steps_then_samples_a_chosen_digit() {
    let dir = tmp("smoke");
    run_ok(
        acgan()
            .args([
                "--steps",
                "2",
                "--batch-size",
                "4",
                "--quiet",
                "--log-every",
                "1",
            ])
            .args([
                "--sample-every",
                "1",
                "--export-count",
                "20",
                "--grid-columns",
                "2",
            ])
            .arg("--out")
            .arg(&dir),
    );
    check_run_dir(&dir, 2, 20);
    assert!(dir.join("samples/step_000002.png").exists());

    let idx = dir.join("threes.idx3-ubyte");
    run_ok(
        acgan()
            .args(["sample", "--checkpoint"])
            .arg(dir.join("checkpoint.safetensors"))
            .args(["--class", "3", "--count", "5", "--output"])
            .arg(&idx),
    );
    let images = datasets::read_idx_images(&idx).unwrap();
    assert_eq!((images.count, images.rows, images.cols), (5, 28, 28));
    let labels = datasets::read_idx_labels(dir.join("threes-labels.idx1-ubyte"), 10).unwrap();
    assert_eq!(labels, vec![3; 5]);
    assert!(dir.join("threes-grid.png").exists());

    let out = acgan()
        .args(["sample", "--checkpoint"])
        .arg(dir.join("checkpoint.safetensors"))
        .args(["--class", "12", "--output"])
        .arg(dir.join("bad.idx3-ubyte"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("12"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_gan_checkpoint_is_refused() {
    let dir = tmp("badck");
    std::fs::create_dir_all(&dir).unwrap();
    let bogus = dir.join("gan.safetensors");
    let mut ck = nn::Checkpoint::new();
    ck.metadata.insert("model".into(), "gan".into());
    ck.save(&bogus).unwrap();
    let out = acgan()
        .args(["sample", "--count", "1", "--checkpoint"])
        .arg(&bogus)
        .arg("--output")
        .arg(dir.join("x.idx3-ubyte"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("acgan"));
    std::fs::remove_dir_all(&dir).ok();
}

#[cfg(feature = "wgpu")]
#[test]
fn binary_runs_on_wgpu() {
    if let Err(e) = backend_wgpu::Wgpu::new() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but no wgpu adapter: {e}"
        );
        eprintln!("SKIP: no wgpu adapter ({e})");
        return;
    }
    let dir = tmp("wgpu");
    // The generator is heavy for a software GPU: one step on one image, no grids, no export.
    run_ok(
        acgan()
            .args([
                "--backend",
                "wgpu",
                "--steps",
                "1",
                "--batch-size",
                "1",
                "--quiet",
            ])
            .args([
                "--log-every",
                "1",
                "--export-count",
                "0",
                "--grid-columns",
                "0",
            ])
            .arg("--out")
            .arg(&dir),
    );
    check_run_dir(&dir, 1, 0);
    std::fs::remove_dir_all(&dir).ok();
}
