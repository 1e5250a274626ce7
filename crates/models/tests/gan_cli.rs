//! The `gan` binary end to end: Ctrl-C saves a checkpoint, `--resume` continues it,
//! and `gan sample` exports digits from it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn gan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gan"))
}

fn step_of(ck: &Path) -> u64 {
    nn::Checkpoint::load(ck).unwrap().metadata["step"]
        .parse()
        .unwrap()
}

#[cfg(unix)]
#[test]
fn ctrl_c_saves_and_resume_continues() {
    let tmp = std::env::temp_dir().join(format!("gan_cli_{}", std::process::id()));
    let run = tmp.join("run");
    let mut child = gan()
        .args([
            "--steps",
            "1000000",
            "--batch-size",
            "8",
            "--quiet",
            "--log-every",
            "1",
        ])
        .args([
            "--sample-every",
            "0",
            "--checkpoint-every",
            "0",
            "--no-score",
            "--out",
        ])
        .arg(&run)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until training is under way, then interrupt it as Ctrl-C would.
    let metrics = run.join("metrics.jsonl");
    let start = Instant::now();
    while std::fs::read_to_string(&metrics).map_or(0, |s| s.lines().count()) < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "training never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(
        exit.success(),
        "interrupted run should exit cleanly: {exit:?}"
    );
    let ck = run.join("checkpoint.safetensors");
    let stopped_at = step_of(&ck);
    assert!(stopped_at >= 3);
    assert!(run.join("samples.idx3-ubyte").exists());

    let resumed = tmp.join("resumed");
    let target = stopped_at + 4;
    let out = gan()
        .args([
            "--steps",
            &target.to_string(),
            "--batch-size",
            "8",
            "--quiet",
            "--log-every",
            "1",
        ])
        .args(["--sample-every", "0", "--no-score", "--resume"])
        .arg(&ck)
        .arg("--out")
        .arg(&resumed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(step_of(&resumed.join("checkpoint.safetensors")), target);
    let log = std::fs::read_to_string(resumed.join("metrics.jsonl")).unwrap();
    assert_eq!(
        log.lines().count() as u64,
        4,
        "only the 4 new steps are logged"
    );

    let idx = tmp.join("five.idx3-ubyte");
    let out = gan()
        .args(["sample", "--checkpoint"])
        .arg(resumed.join("checkpoint.safetensors"))
        .args(["--count", "5", "--output"])
        .arg(&idx)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let images = datasets::read_idx_images(&idx).unwrap();
    assert_eq!((images.count, images.rows, images.cols), (5, 28, 28));
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn bad_arguments_and_files_give_clear_errors() {
    let out = gan().args(["--backend", "tpu"]).output().unwrap();
    assert!(!out.status.success());
    let out = gan()
        .args(["sample", "--checkpoint", "/nonexistent/ck.safetensors"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/ck.safetensors"), "{err}");
    // A batch larger than the data set is refused, not sliced out of range.
    let out = gan()
        .args(["--batch-size", "100000", "--steps", "1", "--no-score"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--batch-size 100000") && !err.contains("panicked"),
        "{err}"
    );
    let out = gan()
        .args(["--data-dir", "/nonexistent-mnist", "--steps", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nonexistent-mnist"), "{err}");
}

#[cfg(feature = "wgpu")]
#[test]
fn trains_a_few_steps_on_wgpu() {
    if let Err(e) = backend_wgpu::Wgpu::new() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but no wgpu adapter: {e}"
        );
        eprintln!("SKIP: no wgpu adapter: {e}");
        return;
    }
    let tmp = std::env::temp_dir().join(format!("gan_wgpu_{}", std::process::id()));
    let out = gan()
        .args([
            "--backend",
            "wgpu",
            "--steps",
            "3",
            "--batch-size",
            "8",
            "--quiet",
        ])
        .args([
            "--sample-every",
            "2",
            "--log-every",
            "1",
            "--no-score",
            "--out",
        ])
        .arg(&tmp)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("backend wgpu"), "{err}");
    assert_eq!(step_of(&tmp.join("checkpoint.safetensors")), 3);
    for file in [
        "samples.png",
        "samples.idx3-ubyte",
        "loss.png",
        "samples/step_000002.png",
    ] {
        assert!(tmp.join(file).exists(), "{file} missing");
    }
    let log = std::fs::read_to_string(tmp.join("metrics.jsonl")).unwrap();
    for line in log.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(
            v["d_loss"].as_f64().unwrap().is_finite() && v["g_loss"].as_f64().unwrap().is_finite()
        );
    }
    std::fs::remove_dir_all(&tmp).ok();
}
