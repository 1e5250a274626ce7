//! The toy 1-D GAN learns its Gaussian, and the `toy_gan` binary runs end to end.

use models::toy_gan::{ToyGan, ToyGanOptions, moments};
use std::path::Path;
use std::process::Command;

fn toy_gan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_toy_gan"))
}

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("toy_gan_{name}_{}", std::process::id()))
}

#[test]
fn learns_the_gaussian_mean_and_std_within_ten_percent() {
    let opts = ToyGanOptions::default();
    assert_eq!((opts.mean, opts.std), (4.0, 0.5));
    let mut gan = ToyGan::new(
        backend_cpu::Cpu,
        &opts,
        models::toy_gan::DEFAULT_BATCH,
        models::toy_gan::DEFAULT_LR,
        1,
    )
    .unwrap();
    let (mean0, _) = moments(&gan.generate(10_000, 3).unwrap());
    assert!(
        (mean0 - 4.0).abs() > 1.0,
        "untrained G is already at {mean0}"
    );
    for _ in 0..models::toy_gan::DEFAULT_STEPS {
        gan.train_step().unwrap();
    }
    // 10,000 samples: the standard error of the mean is 0.005, of the std 0.0035.
    let (mean, std) = moments(&gan.generate(10_000, 3).unwrap());
    eprintln!("generated mean {mean:.4} std {std:.4} (target 4, 0.5)");
    assert!((mean - 4.0).abs() <= 0.4, "mean {mean} not within 10% of 4");
    assert!((std - 0.5).abs() <= 0.05, "std {std} not within 10% of 0.5");
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    err
}

fn check_run_dir(dir: &Path, steps: u64) {
    for f in [
        "before.png",
        "after.png",
        "loss.png",
        "checkpoint.safetensors",
    ] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
    let log = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    assert_eq!(log.lines().count() as u64, steps);
    let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["step"], steps);
    assert!(last["gen_std"].as_f64().unwrap().is_finite());
    let ck = nn::Checkpoint::load(dir.join("checkpoint.safetensors")).unwrap();
    assert_eq!(ck.metadata["step"], steps.to_string());
}

/// Command-line words of `line`.
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[test]
fn binary_runs_a_few_steps_and_writes_its_files() {
    let dir = tmp("smoke");
    let options = "--batch-size 16 --quiet --log-every 1 --target mixture --activation tanh \
                   --layers 3 --hidden 8 --d-steps 2 --noise normal --lr-decay 0.9";
    run_ok(
        toy_gan()
            .args(words(options))
            .args(words("--steps 4 --sample-every 2 --out"))
            .arg(&dir),
    );
    check_run_dir(&dir, 4);
    assert!(dir.join("samples/step_000004.png").exists());
    // Resuming continues from the checkpoint's step.
    let resumed = dir.join("resumed");
    run_ok(
        toy_gan()
            .args(words(options))
            .args(words("--steps 6 --resume"))
            .arg(dir.join("checkpoint.safetensors"))
            .arg("--out")
            .arg(&resumed),
    );
    let ck = nn::Checkpoint::load(resumed.join("checkpoint.safetensors")).unwrap();
    assert_eq!(ck.metadata["step"], "6");
    let out = toy_gan().args(["--target", "cauchy"]).output().unwrap();
    assert!(!out.status.success());
    let out = toy_gan()
        .args(["--std", "0", "--steps", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
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
        toy_gan()
            .args(["--backend", "wgpu", "--steps", "3", "--batch-size", "16"])
            .args(["--quiet", "--log-every", "1", "--out"])
            .arg(&dir),
    );
    check_run_dir(&dir, 3);
    std::fs::remove_dir_all(&dir).ok();
}
