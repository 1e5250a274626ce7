//! No run is lost or overwritten: an existing run directory is refused without
//! `--resume`/`--overwrite`, two runs cannot share one, SIGTERM checkpoints like Ctrl-C,
//! and resuming after a kill -9 leaves no orphan temporary file and no duplicate
//! metrics rows.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn gan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gan"))
}

/// A few quick gan steps into `out`, plus `extra` options.
fn quick(out: &Path, steps: u64, extra: &[&str]) -> Output {
    gan()
        .args([
            "--steps",
            &steps.to_string(),
            "--batch-size",
            "8",
            "--quiet",
        ])
        .args(["--log-every", "1", "--sample-every", "0", "--no-score"])
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn step_of(ck: &Path) -> u64 {
    nn::Checkpoint::load(ck).unwrap().metadata["step"]
        .parse()
        .unwrap()
}

fn logged_steps(dir: &Path) -> Vec<u64> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["step"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

/// A background run, killed when the test ends (also when it fails).
struct Background(std::process::Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A long gan run into `run` in the background.
fn background(run: &Path) -> Background {
    Background(
        gan()
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
            .arg(run)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("run_safety_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn an_existing_run_is_refused_without_resume_or_overwrite() {
    let run = scratch("existing");
    let first = quick(&run, 3, &[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let ck = run.join("checkpoint.safetensors");
    assert_eq!(step_of(&ck), 3);

    let again = quick(&run, 2, &[]);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        !again.status.success(),
        "a second run into {run:?} was accepted"
    );
    assert!(
        err.contains("--resume") && err.contains("--overwrite"),
        "{err}"
    );
    assert!(err.contains(&run.display().to_string()), "{err}");
    // Nothing of the first run was touched.
    assert_eq!(step_of(&ck), 3);
    assert_eq!(logged_steps(&run), [1, 2, 3]);

    // --overwrite starts over: only the new run's rows.
    let over = quick(&run, 2, &["--overwrite"]);
    assert!(
        over.status.success(),
        "{}",
        String::from_utf8_lossy(&over.stderr)
    );
    assert_eq!(step_of(&ck), 2);
    assert_eq!(logged_steps(&run), [1, 2]);
    std::fs::remove_dir_all(&run).ok();
}

#[cfg(unix)]
#[test]
fn a_run_directory_in_use_is_refused() {
    let run = scratch("locked");
    let child = background(&run);
    wait_for_rows(&run, 2);
    let second = quick(&run, 2, &["--overwrite"]);
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "two runs shared {run:?}");
    assert!(
        err.contains("in use") && err.contains(&child.0.id().to_string()),
        "{err}"
    );
    drop(child);
    // A lock left by a killed run is taken over.
    assert!(run.join("run.lock").exists());
    let after = quick(&run, 2, &["--overwrite"]);
    assert!(
        after.status.success(),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
    std::fs::remove_dir_all(&run).ok();
}

fn wait_for_rows(run: &Path, rows: usize) {
    let metrics = run.join("metrics.jsonl");
    let start = Instant::now();
    while std::fs::read_to_string(&metrics).map_or(0, |s| s.lines().count()) < rows {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "training never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(unix)]
#[test]
fn sigterm_saves_a_checkpoint_like_ctrl_c() {
    let run = scratch("sigterm");
    let mut child = background(&run);
    wait_for_rows(&run, 3);
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.0.wait().unwrap();
    assert!(
        exit.success(),
        "a terminated run should stop cleanly: {exit:?}"
    );
    let stopped_at = step_of(&run.join("checkpoint.safetensors"));
    assert!(stopped_at >= 3, "{stopped_at}");
    assert!(!run.join("run.lock").exists(), "the lock outlived the run");
    std::fs::remove_dir_all(&run).ok();
}

#[test]
fn resuming_after_a_kill_cleans_up_orphans_and_duplicate_rows() {
    let run = scratch("killed");
    let first = quick(&run, 4, &[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // What a kill -9 after step 6 leaves: rows past the checkpoint (step 4) and a
    // half-written temporary checkpoint.
    let mut log = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    // The last row was cut short by the kill.
    log += "{\"step\":5,\"d_loss\":1.0}\n{\"step\":6,\"d_loss\":1.0}\n{\"step\":7,\"d_lo";
    std::fs::write(run.join("metrics.jsonl"), log).unwrap();
    let orphan = run.join(".checkpoint.safetensors.999999.0.tmp");
    std::fs::write(&orphan, vec![0u8; 1000]).unwrap();

    let ck = run.join("checkpoint.safetensors");
    let resumed = gan()
        .args([
            "--steps",
            "6",
            "--batch-size",
            "8",
            "--quiet",
            "--log-every",
            "1",
        ])
        .args(["--sample-every", "0", "--no-score", "--resume"])
        .arg(&ck)
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    // Without --out, a resumed run continues in its own directory.
    assert_eq!(step_of(&ck), 6);
    assert_eq!(logged_steps(&run), [1, 2, 3, 4, 5, 6]);
    assert!(!orphan.exists(), "orphan temporary checkpoint left behind");
    std::fs::remove_dir_all(&run).ok();
}

#[test]
fn resuming_from_an_older_copy_in_the_run_directory_needs_overwrite() {
    let run = scratch("backup");
    let first = quick(&run, 2, &[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let ck = run.join("checkpoint.safetensors");
    let backup = run.join("backup.safetensors");
    std::fs::copy(&ck, &backup).unwrap();
    let more = gan()
        .args([
            "--steps",
            "4",
            "--batch-size",
            "8",
            "--quiet",
            "--log-every",
            "1",
        ])
        .args(["--sample-every", "0", "--no-score", "--resume"])
        .arg(&ck)
        .output()
        .unwrap();
    assert!(
        more.status.success(),
        "{}",
        String::from_utf8_lossy(&more.stderr)
    );
    // The backup (step 2) would cut the log of the step-4 run back and replace its
    // checkpoint.
    let back = gan()
        .args([
            "--steps",
            "3",
            "--batch-size",
            "8",
            "--quiet",
            "--no-score",
            "--resume",
        ])
        .arg(&backup)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&back.stderr);
    assert!(!back.status.success(), "{err}");
    assert!(err.contains("--overwrite"), "{err}");
    assert_eq!(step_of(&ck), 4);
    assert_eq!(logged_steps(&run), [1, 2, 3, 4]);
    std::fs::remove_dir_all(&run).ok();
}
