//! Interrupting and resuming a GAN run continues exactly where it stopped.

use models::CommonArgs;
use models::cli::BackendKind;
use models::gan::run as gan_run;
use nn::Checkpoint;
use std::path::Path;

fn args(out: &Path, steps: u64, resume: Option<&Path>) -> CommonArgs {
    CommonArgs {
        backend: BackendKind::Cpu,
        steps: Some(steps),
        epochs: None,
        batch_size: Some(16),
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

#[test]
fn resumed_run_matches_an_uninterrupted_one() {
    let tmp = std::env::temp_dir().join(format!("gan_resume_{}", std::process::id()));
    let (first, resumed, straight) = (tmp.join("a"), tmp.join("b"), tmp.join("c"));
    gan_run::train_default(backend_cpu::Cpu, &args(&first, 3, None)).unwrap();
    let ck_path = first.join("checkpoint.safetensors");
    let ck3 = Checkpoint::load(&ck_path).unwrap();
    assert_eq!(ck3.metadata["step"], "3");

    let r = gan_run::train_default(backend_cpu::Cpu, &args(&resumed, 6, Some(&ck_path))).unwrap();
    assert_eq!(r.steps, 6);
    gan_run::train_default(backend_cpu::Cpu, &args(&straight, 6, None)).unwrap();

    let a = Checkpoint::load(resumed.join("checkpoint.safetensors")).unwrap();
    let b = Checkpoint::load(straight.join("checkpoint.safetensors")).unwrap();
    assert_eq!(a.metadata["step"], "6");
    assert_eq!(a.tensors.len(), b.tensors.len());
    // Weights, both optimizers' moments and iteration counts: bit-identical.
    for (name, (shape, data)) in &b.tensors {
        let (s2, d2) = &a.tensors[name];
        assert_eq!(shape, s2, "{name}");
        assert!(
            data.iter().zip(d2).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{name} differs after resuming"
        );
    }
    // The resumed run's Adam states count 6 steps for G (one per iteration) and 12 for D (two).
    let iters = |ck: &Checkpoint, p: &str| {
        let v = &ck.tensors[&format!("{p}iterations")].1;
        ((v[0] as u64) << 24) | v[1] as u64
    };
    assert_eq!(iters(&a, "opt_g."), 6);
    assert_eq!(iters(&a, "opt_d."), 12);
    // Metrics of the resumed run start at step 4.
    let log = std::fs::read_to_string(resumed.join("metrics.jsonl")).unwrap();
    let first_line: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(first_line["step"], 4);
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn a_checkpoint_of_another_model_is_refused() {
    let tmp = std::env::temp_dir().join(format!("gan_badck_{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let bogus = tmp.join("other.safetensors");
    let mut ck = Checkpoint::new();
    ck.metadata.insert("model".into(), "acgan".into());
    ck.save(&bogus).unwrap();
    let err = gan_run::train_default(backend_cpu::Cpu, &args(&tmp.join("run"), 2, Some(&bogus)))
        .unwrap_err();
    assert!(err.to_string().contains("gan"), "{err}");
    std::fs::write(&bogus, b"not a checkpoint").unwrap();
    let err = gan_run::train_default(backend_cpu::Cpu, &args(&tmp.join("run"), 2, Some(&bogus)))
        .unwrap_err();
    assert!(err.to_string().contains("other.safetensors"), "{err}");
    std::fs::remove_dir_all(&tmp).ok();
}
