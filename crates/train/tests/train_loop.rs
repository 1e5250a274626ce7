//! The training loop every binary shares, driven by a stand-in model whose losses are
//! chosen by the test.

use nn::Checkpoint;
use std::path::{Path, PathBuf};
use train::{Checkpointed, Error, LoopOptions, Result, StepModel, train_loop};

fn options(log_every: u64, sample_every: u64) -> LoopOptions {
    LoopOptions {
        log_every,
        sample_every,
        quiet: true,
        ..LoopOptions::default()
    }
}

/// Loss `1 / step`, or NaN from step `nan_at` on; counts its sample pictures.
struct Stand {
    step: u64,
    nan_at: u64,
    samples: std::cell::Cell<u32>,
}

impl Checkpointed for Stand {
    const MODEL: &'static str = "stand-in";

    fn steps_done(&self) -> u64 {
        self.step
    }

    fn save_parts(&self, _ck: &mut Checkpoint) -> Result<()> {
        Ok(())
    }

    fn restore_parts(&mut self, _ck: &Checkpoint, step: u64) -> Result<()> {
        self.step = step;
        Ok(())
    }
}

impl StepModel for Stand {
    type Stats = f32;
    type Saved = Self;

    fn saved(&self) -> &Self {
        self
    }

    fn train_step(&mut self) -> Result<f32> {
        self.step += 1;
        Ok(if self.step >= self.nan_at {
            f32::NAN
        } else {
            1.0 / self.step as f32
        })
    }

    fn losses(loss: &f32) -> Vec<(&'static str, f32)> {
        vec![("stand-in loss", *loss)]
    }

    fn progress(&self, loss: &f32) -> String {
        format!("loss {loss}")
    }

    fn record(&self, loss: &f32) -> Result<(serde_json::Value, String)> {
        Ok((serde_json::json!({ "loss": loss }), String::new()))
    }

    fn save_samples(&self, _path: &Path) -> Result<()> {
        self.samples.set(self.samples.get() + 1);
        Ok(())
    }
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("train_loop_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn logs_samples_and_checkpoints_on_schedule() {
    let dir = fresh_dir("schedule");
    let mut model = Stand {
        step: 2,
        nan_at: u64::MAX,
        samples: Default::default(),
    };
    // Resumed at step 2, trained to 11: logs at 5, 10 and the last step, 11; pictures at
    // 4 and 8; the final checkpoint at 11.
    let end = train_loop(&mut model, 11, &options(5, 4), &dir).unwrap();
    assert!(!end.interrupted);
    assert_eq!(end.last, Some(1.0 / 11.0));
    assert_eq!(model.samples.get(), 2);
    let records = end.metrics.read_all().unwrap();
    let steps: Vec<u64> = records
        .iter()
        .map(|r| r["step"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, [5, 10, 11]);
    assert_eq!(records[0]["loss"].as_f64().unwrap() as f32, 0.2);
    assert!(
        records
            .iter()
            .all(|r| r["steps_per_sec"].as_f64().unwrap() > 0.0)
    );
    let ck = Checkpoint::load(dir.join("checkpoint.safetensors")).unwrap();
    assert_eq!(ck.metadata["step"], "11");
    assert_eq!(ck.metadata["model"], "stand-in");
    // Restoring checks the model's name and reads the step count back.
    let mut back = Stand {
        step: 0,
        nan_at: u64::MAX,
        samples: Default::default(),
    };
    train::restore(&mut back, &ck).unwrap();
    assert_eq!(back.step, 11);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_nan_loss_stops_with_its_name_and_step() {
    let dir = fresh_dir("nan");
    let mut model = Stand {
        step: 0,
        nan_at: 7,
        samples: Default::default(),
    };
    let Err(err) = train_loop(&mut model, 100, &options(50, 0), &dir) else {
        panic!("a NaN loss must stop training");
    };
    assert!(matches!(err, Error::NonFinite(_)), "{err}");
    let text = err.to_string();
    assert!(text.contains("stand-in loss is NaN at step 7"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn another_models_checkpoint_is_refused_naming_the_file() {
    let dir = fresh_dir("other");
    let path = dir.join("other.safetensors");
    let mut ck = Checkpoint::new();
    ck.metadata.insert("model".into(), "gan".into());
    ck.metadata.insert("step".into(), "3".into());
    ck.save(&path).unwrap();
    let mut model = Stand {
        step: 0,
        nan_at: u64::MAX,
        samples: Default::default(),
    };
    let err = train::resume(&mut model, &path).unwrap_err().to_string();
    assert!(
        err.contains("other.safetensors") && err.contains("gan"),
        "{err}"
    );
    assert_eq!(model.step, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}
