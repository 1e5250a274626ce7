//! Interrupting and resuming an ACGAN run continues exactly where it stopped:
//! weights, both optimizers, the data order, the noise and the dropout masks.

use models::CommonArgs;
use models::acgan::run::{self as acgan_run, AcganOptions};
use models::cli::BackendKind;
use nn::Checkpoint;
use std::path::Path;

fn args(out: &Path, steps: u64, resume: Option<&Path>) -> CommonArgs {
    CommonArgs {
        backend: BackendKind::Cpu,
        steps: Some(steps),
        epochs: None,
        batch_size: Some(2),
        lr: None,
        seed: 7,
        data_dir: None,
        out: Some(out.to_path_buf()),
        resume: resume.map(Path::to_path_buf),
        overwrite: false,
        sample_every: Some(0),
        checkpoint_every: 0,
        log_every: 1,
        quiet: true,
    }
}

fn opts() -> AcganOptions {
    AcganOptions {
        export_count: 10,
        grid_columns: 1,
        // With a generator average, so its resume is checked too.
        ema_decay: 0.99,
    }
}

#[test]
fn resumed_run_matches_an_uninterrupted_one() {
    let tmp = std::env::temp_dir().join(format!("acgan_resume_{}", std::process::id()));
    let (first, resumed, straight) = (tmp.join("a"), tmp.join("b"), tmp.join("c"));
    acgan_run::train(backend_cpu::Cpu, &args(&first, 2, None), &opts()).unwrap();
    let ck_path = first.join("checkpoint.safetensors");
    let ck2 = Checkpoint::load(&ck_path).unwrap();
    assert_eq!(ck2.metadata["step"], "2");
    // Two D forward passes in training mode per iteration: one mask each per Dropout layer.
    assert_eq!(ck2.metadata["dropout_calls"], "4");

    let r = acgan_run::train(
        backend_cpu::Cpu,
        &args(&resumed, 4, Some(&ck_path)),
        &opts(),
    )
    .unwrap();
    assert_eq!(r.steps, 4);
    acgan_run::train(backend_cpu::Cpu, &args(&straight, 4, None), &opts()).unwrap();

    let a = Checkpoint::load(resumed.join("checkpoint.safetensors")).unwrap();
    let b = Checkpoint::load(straight.join("checkpoint.safetensors")).unwrap();
    assert_eq!(a.metadata["step"], "4");
    assert_eq!(a.metadata["dropout_calls"], b.metadata["dropout_calls"]);
    assert_eq!(a.tensors.len(), b.tensors.len());
    assert!(b.tensors.keys().any(|k| k.starts_with("generator_ema.")));
    for (name, (shape, data)) in &b.tensors {
        let (s2, d2) = &a.tensors[name];
        assert_eq!(shape, s2, "{name}");
        assert!(
            data.iter().zip(d2).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{name} differs after resuming"
        );
    }
    // One Adam step per iteration for each of G and D.
    let iters = |ck: &Checkpoint, p: &str| {
        let v = &ck.tensors[&format!("{p}iterations")].1;
        ((v[0] as u64) << 24) | v[1] as u64
    };
    assert_eq!(iters(&a, "opt_g."), 4);
    assert_eq!(iters(&a, "opt_d."), 4);
    let log = std::fs::read_to_string(resumed.join("metrics.jsonl")).unwrap();
    let first_line: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(first_line["step"], 3);
    assert_eq!(log.lines().count(), 2);
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn a_checkpoint_of_another_model_is_refused() {
    let tmp = std::env::temp_dir().join(format!("acgan_badck_{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let bogus = tmp.join("other.safetensors");
    let mut ck = Checkpoint::new();
    ck.metadata.insert("model".into(), "gan".into());
    ck.save(&bogus).unwrap();
    let err = acgan_run::train(
        backend_cpu::Cpu,
        &args(&tmp.join("run"), 1, Some(&bogus)),
        &opts(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("acgan"), "{err}");
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn resuming_with_another_generator_average_is_refused() {
    let tmp = std::env::temp_dir().join(format!("acgan_resume_ema_{}", std::process::id()));
    let (first, second) = (tmp.join("a"), tmp.join("b"));
    let plain = AcganOptions {
        ema_decay: 0.0,
        ..opts()
    };
    let averaged = AcganOptions {
        ema_decay: 0.99,
        ..opts()
    };
    acgan_run::train(backend_cpu::Cpu, &args(&first, 1, None), &plain).unwrap();
    let ck_path = first.join("checkpoint.safetensors");
    assert!(
        !Checkpoint::load(&ck_path)
            .unwrap()
            .tensors
            .keys()
            .any(|k| k.starts_with("generator_ema."))
    );
    let err = acgan_run::train(
        backend_cpu::Cpu,
        &args(&second, 2, Some(&ck_path)),
        &averaged,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("ema"), "{err}");
    std::fs::remove_dir_all(&tmp).ok();
}
