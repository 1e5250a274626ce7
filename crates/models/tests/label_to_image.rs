//! Softmax regression run backwards draws digits the project's classifier recognises,
//! and the `label_to_image` binary runs end to end.

use models::CommonArgs;
use models::classifier::{argmax, predict, train_classifier};
use models::cli::BackendKind;
use models::label_to_image::{self, LabelToImageOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("label_to_image_{name}_{}", std::process::id()))
}

fn args(out: &Path) -> CommonArgs {
    CommonArgs {
        backend: BackendKind::Cpu,
        steps: None,
        epochs: None,
        batch_size: None,
        lr: None,
        seed: 42,
        data_dir: None,
        out: Some(out.to_path_buf()),
        resume: None,
        overwrite: false,
        sample_every: Some(0),
        checkpoint_every: 0,
        log_every: 100,
        quiet: true,
    }
}

#[test]
fn the_ten_generated_images_are_classified_as_their_labels() {
    let dir = tmp("classify");
    // The article's recipe: raw pixels as targets, 1000 iterations of batch 100, lr 0.01,
    // loss summed over the batch.
    let report = label_to_image::train(
        backend_cpu::Cpu,
        &args(&dir),
        &LabelToImageOptions::default(),
    )
    .unwrap();
    assert_eq!(report.steps, 1000);
    assert_eq!(report.digits.len(), 10 * 784);

    let be = backend_cpu::Cpu;
    let mnist = datasets::Mnist::bundled().unwrap();
    let (classifier, accuracy) = train_classifier(&be, &mnist.train, &mnist.test, 1, 7).unwrap();
    assert!(accuracy > 0.95, "classifier only {accuracy} accurate");
    let probs = predict(&classifier, &be, &report.digits, 10).unwrap();
    let labels: Vec<usize> = probs.chunks(10).map(argmax).collect();
    eprintln!("classifier labels of the generated digits 0..9: {labels:?}");
    assert_eq!(labels, (0..10).collect::<Vec<_>>());

    // The exported IDX files hold the same ten digits and their labels.
    let images = datasets::read_idx_images(dir.join("samples.idx3-ubyte")).unwrap();
    assert_eq!((images.count, images.rows, images.cols), (10, 28, 28));
    let asked = datasets::read_idx_labels(dir.join("samples-labels.idx1-ubyte"), 10).unwrap();
    assert_eq!(asked, (0..10).collect::<Vec<u8>>());
    std::fs::remove_dir_all(&dir).ok();
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check_run_dir(dir: &Path, logged: u64, step: u64) {
    for f in [
        "digits.png",
        "loss.png",
        "checkpoint.safetensors",
        "samples.idx3-ubyte",
        "samples-labels.idx1-ubyte",
    ] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
    let log = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    assert_eq!(log.lines().count() as u64, logged);
    let ck = nn::Checkpoint::load(dir.join("checkpoint.safetensors")).unwrap();
    assert_eq!(ck.metadata["step"], step.to_string());
}

#[test]
fn binary_runs_a_few_steps_and_writes_its_files() {
    let dir = tmp("smoke");
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_label_to_image"))
            .args([
                "--steps",
                "5",
                "--batch-size",
                "20",
                "--quiet",
                "--log-every",
                "1",
            ])
            .args(["--sample-every", "5", "--normalize-targets", "--out"])
            .arg(&dir),
    );
    check_run_dir(&dir, 5, 5);
    assert!(dir.join("samples/step_000005.png").exists());
    let resumed = dir.join("resumed");
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_label_to_image"))
            .args([
                "--steps",
                "7",
                "--batch-size",
                "20",
                "--quiet",
                "--log-every",
                "1",
            ])
            .arg("--resume")
            .arg(dir.join("checkpoint.safetensors"))
            .arg("--out")
            .arg(&resumed),
    );
    check_run_dir(&resumed, 2, 7);
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
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_label_to_image"))
            .args(["--backend", "wgpu", "--steps", "3", "--batch-size", "20"])
            .args(["--quiet", "--log-every", "1", "--out"])
            .arg(&dir),
    );
    check_run_dir(&dir, 3, 3);
    std::fs::remove_dir_all(&dir).ok();
}
