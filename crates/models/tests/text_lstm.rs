//! `text_lstm`: a short run on a small text with its samples and files, sampling from
//! the saved model, bad texts and seed texts refused, and a smoke run on wgpu.

mod common;

use common::{scratch as scratch_in, text};
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> std::path::PathBuf {
    scratch_in("text-lstm", name)
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_text_lstm"))
}

fn small_text(dir: &Path) -> PathBuf {
    let path = dir.join("story.txt");
    std::fs::write(&path, datasets::SAMPLE_TEXT).unwrap();
    path
}

#[test]
fn a_short_run_reports_bits_per_character_samples_and_saves_the_model() {
    let tmp = scratch("run");
    let story = small_text(&tmp);
    let run = tmp.join("run");
    let out = bin()
        .args([
            "--epochs",
            "1",
            "--batch-size",
            "32",
            "--sample-length",
            "30",
            "--quiet",
        ])
        .arg("--text")
        .arg(&story)
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("epoch 1: validation loss"), "{stdout}");
    assert!(stdout.contains("bits per character"), "{stdout}");
    for t in ["0.2", "0.5", "1", "1.2"] {
        assert!(
            stdout.contains(&format!("----- temperature {t}\n")),
            "{t}: {stdout}"
        );
    }
    assert!(stdout.contains("held-out text: loss"), "{stdout}");
    for f in [
        "samples.txt",
        "model.safetensors",
        "checkpoint.safetensors",
        "metrics.jsonl",
    ] {
        assert!(run.join(f).exists(), "{f}");
    }
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert!(metrics.contains("\"val_bits_per_char\""), "{metrics}");

    // Sampling from the saved model continues the seed text by 25 characters of the
    // story's vocabulary.
    let out = bin()
        .args([
            "sample",
            "--seed-text",
            "The lamp",
            "--length",
            "25",
            "--checkpoint",
        ])
        .arg(run.join("model.safetensors"))
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let line = stdout.trim_end_matches('\n');
    assert!(line.starts_with("The lamp"), "{line}");
    assert_eq!(line.chars().count(), "The lamp".len() + 25, "{line:?}");
    assert!(line.chars().all(|c| datasets::SAMPLE_TEXT.contains(c)));
    // A character the model never saw is refused, naming it.
    let out = bin()
        .args(["sample", "--seed-text", "The über lamp", "--checkpoint"])
        .arg(run.join("checkpoint.safetensors"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).1.contains("'ü'"), "{}", text(&out).1);
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn empty_non_utf8_and_too_short_texts_are_refused() {
    let tmp = scratch("bad");
    let empty = tmp.join("empty.txt");
    std::fs::write(&empty, b"").unwrap();
    let latin1 = tmp.join("latin1.txt");
    std::fs::write(&latin1, b"caf\xe9 ".repeat(200)).unwrap();
    let short = tmp.join("short.txt");
    std::fs::write(&short, "a few words, not enough for a window").unwrap();
    for (file, words) in [
        (&empty, &["empty.txt", "empty"][..]),
        (&latin1, &["latin1.txt", "UTF-8"][..]),
        (&short, &["short.txt", "at least"][..]),
    ] {
        let run = tmp.join("run");
        let out = bin()
            .args(["--epochs", "1", "--quiet", "--text"])
            .arg(file)
            .arg("--out")
            .arg(&run)
            .output()
            .unwrap();
        let err = text(&out).1;
        assert!(!out.status.success(), "{file:?} accepted");
        for w in words {
            assert!(err.contains(w), "{w} not in {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
        assert!(!run.exists(), "a run directory was left behind");
    }
    std::fs::remove_dir_all(&tmp).ok();
}

#[cfg(feature = "wgpu")]
#[test]
fn trains_a_few_steps_on_wgpu() {
    if common::no_wgpu_adapter() {
        return;
    }
    let tmp = scratch("wgpu");
    let story = small_text(&tmp);
    let out = bin()
        .args([
            "--backend",
            "wgpu",
            "--steps",
            "2",
            "--batch-size",
            "16",
            "--quiet",
        ])
        .arg("--text")
        .arg(&story)
        .arg("--out")
        .arg(tmp.join("run"))
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("backend wgpu"), "{stderr}");
    assert!(stdout.contains("bits per character"), "{stdout}");
    std::fs::remove_dir_all(&tmp).ok();
}
