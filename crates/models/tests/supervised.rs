//! The supervised binaries (mnist_cnn, cifar10_cnn, transfer_cnn, antirectifier):
//! Keras' parameter counts, short runs on small data with their files, resume, bad
//! CIFAR files, and smoke runs on wgpu.

mod common;

use common::{ok, scratch as scratch_in, text};
use nn::Params;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> std::path::PathBuf {
    scratch_in("supervised", name)
}

fn bin(name: &str) -> Command {
    let path = match name {
        "mnist_cnn" => env!("CARGO_BIN_EXE_mnist_cnn"),
        "cifar10_cnn" => env!("CARGO_BIN_EXE_cifar10_cnn"),
        "transfer_cnn" => env!("CARGO_BIN_EXE_transfer_cnn"),
        "antirectifier" => env!("CARGO_BIN_EXE_antirectifier"),
        other => panic!("no binary {other}"),
    };
    let mut c = Command::new(path);
    c.env_remove("MNIST_DIR").env_remove("CIFAR10_DIR");
    c
}

/// A small MNIST directory: the first `n_train` and `n_test` bundled digits.
fn small_mnist(dir: &Path, n_train: usize, n_test: usize) -> PathBuf {
    let m = datasets::Mnist::bundled().unwrap();
    let data = dir.join("mnist");
    std::fs::create_dir_all(&data).unwrap();
    for (set, n, images, labels) in [
        (
            &m.train,
            n_train,
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
        ),
        (
            &m.test,
            n_test,
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ),
    ] {
        datasets::write_idx_images(data.join(images), &set.images[..n * 784], n, 28, 28).unwrap();
        datasets::write_idx_labels(data.join(labels), &set.labels[..n]).unwrap();
    }
    data
}

#[test]
fn parameter_counts_equal_keras() {
    let be = backend_cpu::Cpu;
    // Keras' counts for the same models (the figures).
    assert_eq!(
        models::mnist_cnn::network(&be, 1).unwrap().param_count(),
        6_508_298
    );
    assert_eq!(
        models::cifar10_cnn::network(&be, 1).unwrap().param_count(),
        1_250_858
    );
    let t = models::transfer_cnn::network(&be, 1).unwrap();
    assert_eq!(t.param_counts(), (600_165, 0));
    models::transfer_cnn::set_features_trainable(&t, false);
    assert_eq!(t.param_counts(), (590_597, 600_165 - 590_597));
    // Dense 784x256+256, 512x256+256, 512x10+10; the Antirectifiers have none.
    assert_eq!(
        models::antirectifier::network(&be, 1)
            .unwrap()
            .param_count(),
        784 * 256 + 256 + 512 * 256 + 256 + 512 * 10 + 10
    );
}

#[test]
fn mnist_cnn_trains_reports_and_resumes() {
    let tmp = scratch("mnist_cnn");
    let data = small_mnist(&tmp, 200, 100);
    let run = tmp.join("run");
    let out = bin("mnist_cnn")
        .args([
            "--steps",
            "4",
            "--batch-size",
            "10",
            "--quiet",
            "--data-dir",
        ])
        .arg(&data)
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    assert!(stderr.contains("Total params: 6508298"), "{stderr}");
    assert!(
        stdout.contains("held-out accuracy on the test digits: loss"),
        "{stdout}"
    );
    for f in [
        "metrics.jsonl",
        "checkpoint.safetensors",
        "model.safetensors",
        "test.json",
        "loss.png",
        "accuracy.png",
    ] {
        assert!(run.join(f).exists(), "{f} missing");
    }
    // The saved weights load into the network other programs build.
    models::mnist_cnn::load(&backend_cpu::Cpu, &run.join("model.safetensors")).unwrap();
    // Resume continues from step 4.
    let out = bin("mnist_cnn")
        .args([
            "--steps",
            "6",
            "--batch-size",
            "10",
            "--quiet",
            "--data-dir",
        ])
        .arg(&data)
        .arg("--resume")
        .arg(run.join("checkpoint.safetensors"))
        .output()
        .unwrap();
    let (_, stderr) = ok(&out);
    assert!(stderr.contains("at step 4"), "{stderr}");
    assert!(stderr.contains("6 steps"), "{stderr}");
    // Another batch size does not continue it.
    let out = bin("mnist_cnn")
        .args(["--steps", "8", "--batch-size", "5", "--quiet", "--data-dir"])
        .arg(&data)
        .arg("--resume")
        .arg(run.join("checkpoint.safetensors"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).1.contains("batch_size 10 (this run: 5)"));
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn mnist_cnn_prints_training_accuracy_every_100_steps() {
    let tmp = scratch("mnist_cnn_100");
    let data = small_mnist(&tmp, 100, 20);
    let out = bin("mnist_cnn")
        .args([
            "--steps",
            "200",
            "--batch-size",
            "2",
            "--quiet",
            "--data-dir",
        ])
        .arg(&data)
        .arg("--out")
        .arg(tmp.join("run"))
        .output()
        .unwrap();
    let (stdout, _) = ok(&out);
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("training accuracy"))
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with("step 100 training accuracy "));
    assert!(lines[1].starts_with("step 200 training accuracy "));
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn cifar10_cnn_trains_on_generated_files_and_says_where_to_get_them() {
    let tmp = scratch("cifar");
    let data = tmp.join("cifar");
    datasets::write_synthetic_cifar10(&data, 20, 30, 4).unwrap();
    let run = tmp.join("run");
    let out = bin("cifar10_cnn")
        .args(["--steps", "3", "--batch-size", "8", "--quiet", "--data-dir"])
        .arg(&data)
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    assert!(stderr.contains("Total params: 1250858"), "{stderr}");
    assert!(stderr.contains("augmentation on"), "{stderr}");
    assert!(stdout.contains("accuracy on the test images"), "{stdout}");
    assert!(run.join("model.safetensors").exists());
    // Resuming without the augmentation it was trained with is refused.
    let out = bin("cifar10_cnn")
        .args([
            "--steps",
            "4",
            "--batch-size",
            "8",
            "--quiet",
            "--no-augmentation",
        ])
        .arg("--data-dir")
        .arg(&data)
        .arg("--resume")
        .arg(run.join("checkpoint.safetensors"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).1.contains("augmentation true (this run: false)"));

    // Without data: where to get which files.
    let out = bin("cifar10_cnn")
        .args(["--steps", "1", "--out"])
        .arg(tmp.join("none"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = text(&out).1;
    for w in [
        "cifar-10-binary.tar.gz",
        "data_batch_1.bin",
        "test_batch.bin",
        "--data-dir",
    ] {
        assert!(err.contains(w), "{w} not in {err}");
    }
    assert!(
        !tmp.join("none").exists(),
        "a run directory was left behind"
    );
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn bad_cifar_files_are_named_with_the_problem() {
    let tmp = scratch("badcifar");
    type Damage = fn(&mut Vec<u8>);
    let cases: [(&str, Damage); 3] = [
        // One byte short of whole records.
        ("truncated", |b| {
            b.pop();
        }),
        // A record more than the file should be... a stray byte: wrong size.
        ("wrong size", |b| b.push(0)),
        // Label 12 in the first record.
        ("label", |b| b[0] = 12),
    ];
    for (name, damage) in cases {
        let data = tmp.join(name.replace(' ', "_"));
        datasets::write_synthetic_cifar10(&data, 4, 4, 1).unwrap();
        let file = data.join("data_batch_3.bin");
        let mut bytes = std::fs::read(&file).unwrap();
        damage(&mut bytes);
        std::fs::write(&file, bytes).unwrap();
        let out = bin("cifar10_cnn")
            .args(["--steps", "1", "--quiet", "--data-dir"])
            .arg(&data)
            .arg("--out")
            .arg(tmp.join("run"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name}: accepted");
        let err = text(&out).1;
        assert!(err.contains("data_batch_3.bin"), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        if name == "label" {
            assert!(err.contains("12"), "{err}");
        }
    }
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn transfer_cnn_prints_counts_before_and_after_freezing() {
    let tmp = scratch("transfer");
    let data = small_mnist(&tmp, 300, 100);
    let run = tmp.join("run");
    let out = bin("transfer_cnn")
        .args([
            "--steps",
            "2",
            "--batch-size",
            "16",
            "--quiet",
            "--data-dir",
        ])
        .arg(&data)
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    assert!(
        stdout.contains(
            "parameters before freezing: 600165 in all, 600165 trainable, 0 non-trainable"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "parameters after freezing: 600165 in all, 590597 trainable, 9568 non-trainable"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("held-out accuracy on digits 0-4"),
        "{stdout}"
    );
    assert!(
        stdout.contains("held-out accuracy on digits 5-9"),
        "{stdout}"
    );
    assert!(stderr.contains("Non-trainable params: 9568"), "{stderr}");
    for stage in ["digits_0-4", "digits_5-9"] {
        assert!(run.join(stage).join("model.safetensors").exists());
    }
    // Stage 2 resumes from its own checkpoint with the features frozen.
    let out = bin("transfer_cnn")
        .args([
            "--steps",
            "3",
            "--batch-size",
            "16",
            "--quiet",
            "--data-dir",
        ])
        .arg(&data)
        .arg("--resume")
        .arg(run.join("digits_5-9").join("checkpoint.safetensors"))
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    assert!(stderr.contains("at step 2"), "{stderr}");
    assert!(
        !stdout.contains("digits 0-4"),
        "stage 1 ran again: {stdout}"
    );
    // Running again into the same directory without --resume is refused.
    let out = bin("transfer_cnn")
        .args(["--steps", "2", "--quiet", "--data-dir"])
        .arg(&data)
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    assert!(!out.status.success());
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn antirectifier_trains_with_its_custom_layer() {
    let tmp = scratch("antirectifier");
    let data = small_mnist(&tmp, 256, 100);
    let out = bin("antirectifier")
        .args(["--epochs", "1", "--quiet", "--data-dir"])
        .arg(&data)
        .arg("--out")
        .arg(tmp.join("run"))
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    assert!(stderr.contains("antirectifier (Antirectifier)"), "{stderr}");
    assert!(stderr.contains("(None, 512)"), "{stderr}");
    // 256 digits at batch 128: one epoch is 2 steps, with a validation line.
    assert!(stderr.contains("epoch 1/1 (step 2)"), "{stderr}");
    assert!(stderr.contains("val_accuracy"), "{stderr}");
    assert!(stdout.contains("held-out accuracy"), "{stdout}");
    std::fs::remove_dir_all(&tmp).ok();
}

/// A few steps of every supervised binary on wgpu (lavapipe in CI).
#[cfg(feature = "wgpu")]
#[test]
fn every_supervised_binary_runs_on_wgpu() {
    if common::no_wgpu_adapter() {
        return;
    }
    let tmp = scratch("wgpu");
    let mnist = small_mnist(&tmp, 40, 20);
    let cifar = tmp.join("cifar");
    datasets::write_synthetic_cifar10(&cifar, 4, 10, 2).unwrap();
    for (name, data) in [
        ("mnist_cnn", &mnist),
        ("cifar10_cnn", &cifar),
        ("transfer_cnn", &mnist),
        ("antirectifier", &mnist),
    ] {
        let out = bin(name)
            .args([
                "--backend",
                "wgpu",
                "--steps",
                "2",
                "--batch-size",
                "8",
                "--quiet",
            ])
            .arg("--data-dir")
            .arg(data)
            .arg("--out")
            .arg(tmp.join(name))
            .output()
            .unwrap();
        let (stdout, stderr) = ok(&out);
        assert!(
            stderr.contains("backend wgpu") || stderr.contains("wgpu"),
            "{name}: {stderr}"
        );
        assert!(stdout.contains("accuracy"), "{name}: {stdout}");
    }
    std::fs::remove_dir_all(&tmp).ok();
}

/// The tensors of a safetensors file, as raw bytes by name.
fn tensors(path: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut out: Vec<(String, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.data().to_vec()))
        .collect();
    out.sort();
    out
}

#[test]
fn an_interrupted_cifar_run_resumes_to_the_same_weights() {
    // Augmentation (seeded per step), dropout masks (counted) and RMSprop's decay (by
    // iteration) all have to come back for the weights to agree to the bit.
    let tmp = scratch("cifar-resume");
    let data = tmp.join("cifar");
    datasets::write_synthetic_cifar10(&data, 12, 10, 5).unwrap();
    let run = |out: &Path, steps: &str, resume: Option<&Path>| {
        let mut c = bin("cifar10_cnn");
        c.args([
            "--steps",
            steps,
            "--batch-size",
            "16",
            "--quiet",
            "--data-dir",
        ])
        .arg(&data);
        match resume {
            Some(ck) => c.arg("--resume").arg(ck),
            None => c.arg("--out").arg(out),
        };
        ok(&c.output().unwrap());
    };
    let straight = tmp.join("straight");
    run(&straight, "7", None);
    let split = tmp.join("split");
    run(&split, "3", None);
    run(&split, "7", Some(&split.join("checkpoint.safetensors")));
    assert_eq!(
        tensors(&straight.join("model.safetensors")),
        tensors(&split.join("model.safetensors"))
    );
    std::fs::remove_dir_all(&tmp).ok();
}
