//! Bad input is refused with a clear error, before any work and without losing a file
//! (issue #12, points 3 to 10). Each test fails on the code before the fixes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin(name: &str) -> Command {
    let path = match name {
        "gan" => env!("CARGO_BIN_EXE_gan"),
        "acgan" => env!("CARGO_BIN_EXE_acgan"),
        "toy_gan" => env!("CARGO_BIN_EXE_toy_gan"),
        "score" => env!("CARGO_BIN_EXE_score"),
        _ => unreachable!(),
    };
    let mut c = Command::new(path);
    c.env_remove("MNIST_DIR").env_remove("WGPU_BACKEND");
    c
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bad_input_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Fails with an error containing every one of `words`, and no panic.
fn refused(out: &Output, words: &[&str]) {
    let err = stderr(out);
    assert!(!out.status.success(), "accepted; stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for w in words {
        assert!(err.contains(w), "missing {w:?} in: {err}");
    }
}

/// A 3-step gan run into `dir`, returning its checkpoint.
fn short_gan(dir: &Path, extra: &[&str]) -> PathBuf {
    let out = bin("gan")
        .args([
            "--steps",
            "3",
            "--batch-size",
            "8",
            "--quiet",
            "--sample-every",
            "0",
        ])
        .args(["--no-score", "--out"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    dir.join("checkpoint.safetensors")
}

#[test]
fn sample_never_overwrites_its_own_or_a_runs_files() {
    // Point 3.
    let tmp = scratch("sample");
    let run = tmp.join("run");
    let ck = short_gan(&run, &[]);
    let png = tmp.join("digits.png");
    let out = bin("gan")
        .args(["sample", "--count", "5", "--checkpoint"])
        .arg(&ck)
        .arg("--output")
        .arg(&png)
        .output()
        .unwrap();
    refused(&out, &["digits.png", "IDX"]);
    assert!(!png.exists());

    let grid_before = std::fs::read(run.join("samples.png")).unwrap();
    let out = bin("gan")
        .args(["sample", "--count", "5", "--checkpoint"])
        .arg(&ck)
        .arg("--output")
        .arg(run.join("samples.idx3-ubyte"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(run.join("samples.png")).unwrap(), grid_before);
    assert!(run.join("samples-grid.png").exists());
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn resuming_with_settings_that_change_the_checkpoint_is_refused() {
    // Point 4.
    let tmp = scratch("settings");
    let ck = short_gan(&tmp.join("run"), &[]);
    let resume = |extra: &[&str], ck: &Path| {
        bin("gan")
            .args([
                "--steps",
                "5",
                "--batch-size",
                "8",
                "--quiet",
                "--no-score",
                "--resume",
            ])
            .arg(ck)
            .args(extra)
            .output()
            .unwrap()
    };
    refused(
        &resume(&["--ema-decay", "0"], &ck),
        &["ema_decay 0.999", "checkpoint.safetensors"],
    );
    refused(
        &resume(&["--ema-decay", "0.99"], &ck),
        &["ema_decay 0.999", "0.99"],
    );

    // A checkpoint without optimizer state.
    let mut c = nn::Checkpoint::load(&ck).unwrap();
    c.tensors.retain(|k, _| !k.starts_with("opt_"));
    let bare = tmp.join("bare.safetensors");
    c.save(&bare).unwrap();
    refused(
        &resume(&["--out", tmp.join("bare").to_str().unwrap()], &bare),
        &["bare.safetensors", "optimizer state"],
    );

    // NaN weights: named as a checkpoint problem, not as a training failure.
    let mut c = nn::Checkpoint::load(&ck).unwrap();
    let (_, data) = c.tensors.get_mut("generator.dense.kernel").unwrap();
    data[7] = f32::NAN;
    let nan = tmp.join("nan.safetensors");
    c.save(&nan).unwrap();
    refused(
        &resume(&["--out", tmp.join("nan").to_str().unwrap()], &nan),
        &["nan.safetensors", "generator.dense.kernel", "non-finite"],
    );

    // toy_gan with another target or activation.
    let toy = tmp.join("toy");
    let out = bin("toy_gan")
        .args(["--steps", "3", "--quiet", "--out"])
        .arg(&toy)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let toy_ck = toy.join("checkpoint.safetensors");
    for other in [["--target", "mixture"], ["--activation", "tanh"]] {
        let out = bin("toy_gan")
            .args(["--steps", "6", "--quiet", "--resume"])
            .arg(&toy_ck)
            .args(other)
            .output()
            .unwrap();
        refused(&out, &["trained with", "checkpoint.safetensors"]);
    }
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn mnist_files_of_the_wrong_size_are_named() {
    // Point 5: 14x14 digits would otherwise fail deep inside with "row 68 out of range".
    let tmp = scratch("mnist14");
    let data = tmp.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for (images, labels, n) in [
        ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 100),
        ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 20),
    ] {
        datasets::write_idx_images(data.join(images), &vec![0u8; n * 196], n, 14, 14).unwrap();
        datasets::write_idx_labels(data.join(labels), &vec![1u8; n]).unwrap();
    }
    let out_dir = tmp.join("run");
    let out = bin("gan")
        .args(["--steps", "2", "--no-score", "--data-dir"])
        .arg(&data)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    refused(&out, &["train-images-idx3-ubyte", "14x14", "28x28"]);
    assert!(!out_dir.exists(), "a run directory was left behind");

    // MNIST_DIR naming a directory without MNIST is an error, not ignored.
    let out = bin("gan")
        .args(["--steps", "2", "--no-score", "--out"])
        .arg(&out_dir)
        .env("MNIST_DIR", tmp.join("nothing-here"))
        .output()
        .unwrap();
    refused(&out, &["MNIST_DIR", "nothing-here"]);
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn zero_length_runs_and_finished_runs_say_so() {
    // Point 6.
    let tmp = scratch("zero");
    for opt in ["--steps", "--epochs"] {
        let out = bin("gan").args([opt, "0", "--no-score"]).output().unwrap();
        refused(&out, &[opt, "at least 1"]);
    }
    let ck = short_gan(&tmp.join("run"), &[]);
    let out = bin("gan")
        .args(["--steps", "3", "--quiet", "--no-score", "--resume"])
        .arg(&ck)
        .output()
        .unwrap();
    refused(&out, &["nothing to train", "step 3"]);
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn out_of_range_options_give_the_valid_range() {
    // Point 7.
    for (args, words) in [
        (&["--lr=-1"][..], &["--lr", "above 0"][..]),
        (&["--lr", "0"], &["--lr", "above 0"]),
        (&["--lr", "NaN"], &["--lr", "finite"]),
        (&["--ema-decay", "2"], &["--ema-decay", "below 1"]),
        (&["--batch-size", "0"], &["--batch-size", "at least 1"]),
        (&["--log-every", "0"], &["--log-every", "at least 1"]),
    ] {
        let out = bin("gan")
            .args(args)
            .args(["--steps", "1", "--no-score"])
            .output()
            .unwrap();
        refused(&out, words);
    }
    let out = bin("toy_gan")
        .args(["--std=-1", "--steps", "1"])
        .output()
        .unwrap();
    refused(&out, &["--std"]);
    let out = bin("acgan")
        .args(["sample", "--checkpoint", "x", "--class", "12"])
        .output()
        .unwrap();
    refused(&out, &["--class", "0-9"]);
    // --epochs times the steps per epoch overflows.
    let out = bin("gan")
        .args(["--epochs", "18446744073709551615", "--no-score"])
        .output()
        .unwrap();
    refused(&out, &["--epochs", "overflow"]);
}

#[test]
fn score_checks_its_input_first() {
    // Point 8: an empty file was scored as NaN with exit 0, after training the classifier.
    let tmp = scratch("score");
    let empty = tmp.join("empty.idx3-ubyte");
    datasets::write_idx_images(&empty, &[], 0, 28, 28).unwrap();
    let start = std::time::Instant::now();
    let out = bin("score")
        .arg(&empty)
        .arg("--classifier")
        .arg(tmp.join("not-yet-trained.safetensors"))
        .output()
        .unwrap();
    refused(&out, &["empty.idx3-ubyte", "no images"]);
    assert!(
        start.elapsed().as_secs() < 10,
        "the classifier was trained first"
    );
    assert!(!tmp.join("not-yet-trained.safetensors").exists());
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn sizes_that_cannot_fit_in_memory_are_refused_up_front() {
    // Point 9.
    let tmp = scratch("huge");
    let out = bin("gan")
        .args([
            "sample",
            "--checkpoint",
            "/nonexistent.safetensors",
            "--count",
            "100000000",
        ])
        .arg("--output")
        .arg(tmp.join("x.idx3-ubyte"))
        .output()
        .unwrap();
    refused(&out, &["100000000 digits", "GiB"]);
    let out = bin("acgan")
        .args([
            "--steps",
            "1",
            "--grid-columns",
            "5000",
            "--no-score",
            "--out",
        ])
        .arg(tmp.join("acgan"))
        .output()
        .unwrap();
    refused(&out, &["5000 digits", "GiB"]);
    let out = bin("toy_gan")
        .args(["--steps", "1", "--batch-size", "100000000", "--out"])
        .arg(tmp.join("toy"))
        .output()
        .unwrap();
    refused(&out, &["--batch-size 100000000", "GiB"]);
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn an_unknown_wgpu_backend_is_named() {
    // Point 10: reported as "Backends(0x0)" before.
    let out = bin("gan")
        .args(["--backend", "wgpu", "--steps", "1", "--no-score"])
        .env("WGPU_BACKEND", "nonsense")
        .output()
        .unwrap();
    refused(&out, &["WGPU_BACKEND", "nonsense", "vulkan"]);
}
