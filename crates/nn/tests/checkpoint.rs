//! Checkpoints: bit-exact round trips, errors that name what is wrong, no panics on
//! bad files, and atomic writes.

mod common;

use backend_cpu::Cpu;
use common::{bits, t, values};
use nn::Params;
use nn::{Adam, BatchNorm, Checkpoint, Dense, Mode, Module, Optimizer, Seeds, Sequential, loss};
use std::fs;
use std::path::{Path, PathBuf};

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nn-ckpt-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn model(seed: u64, hidden: usize) -> Sequential<Cpu> {
    let mut seeds = Seeds::new(seed);
    Sequential::new()
        .add(Dense::new(&Cpu, 3, hidden, &mut seeds).unwrap())
        .add(BatchNorm::new(&Cpu, hidden).unwrap())
        .add(Dense::new(&Cpu, hidden, 2, &mut seeds).unwrap())
}

fn train(model: &Sequential<Cpu>, opt: &mut dyn Optimizer<Cpu>, steps: usize) {
    let x = t(&values(12, 1), &[4, 3]);
    let y = t(&values(8, 2), &[4, 2]);
    for _ in 0..steps {
        let l = loss::mse(&model.forward(&x, Mode::Train).unwrap(), &y).unwrap();
        opt.step(&model.params(), &l.backward().unwrap()).unwrap();
    }
}

fn param_bits(model: &Sequential<Cpu>) -> Vec<(String, Vec<usize>, Vec<u32>)> {
    model
        .params()
        .into_iter()
        .map(|(n, p)| {
            let v = p.value();
            (n, v.dims().to_vec(), bits(&v.to_vec().unwrap()))
        })
        .collect()
}

fn state_bits(opt: &dyn Optimizer<Cpu>) -> Vec<(String, Vec<u32>)> {
    let mut s: Vec<(String, Vec<u32>)> = opt
        .state()
        .unwrap()
        .into_iter()
        .map(|(n, t)| (n, bits(&t.to_vec().unwrap())))
        .collect();
    s.sort();
    s
}

fn checkpoint_of(model: &Sequential<Cpu>, opt: &Adam<Cpu>) -> Checkpoint {
    let mut ck = Checkpoint::new();
    ck.insert_module("model.", model).unwrap();
    ck.insert_optimizer("optimizer.", opt).unwrap();
    ck.metadata.insert("model".into(), "test".into());
    ck.metadata
        .insert("step".into(), opt.iterations().to_string());
    ck
}

#[test]
fn round_trip_is_bit_exact() {
    let dir = scratch("roundtrip");
    let path = dir.join("run").join("ckpt.safetensors");
    let original = model(1, 4);
    let mut adam = Adam::new(0.01);
    train(&original, &mut adam, 3);
    let mut ck = checkpoint_of(&original, &adam);
    // Values that a lossy encoding would change: signed zero, infinities, a NaN payload,
    // a subnormal, and the extremes of f32.
    let special = [
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::from_bits(0x7fc0_1234),
        f32::from_bits(1),
        f32::MAX,
        f32::MIN_POSITIVE,
        1.0 / 3.0,
    ];
    ck.insert_tensors("extra.", &[("special".to_string(), t(&special, &[2, 4]))])
        .unwrap();
    ck.save(&path).unwrap();
    assert_eq!(
        entries(&dir.join("run")),
        ["ckpt.safetensors"],
        "no temporary file is left"
    );

    let loaded = Checkpoint::load(&path).unwrap();
    assert_eq!(loaded.metadata, ck.metadata);
    let (shape, data) = &loaded.tensors["extra.special"];
    assert_eq!(shape, &[2, 4]);
    assert_eq!(bits(data), bits(&special));

    let restored = model(2, 4);
    assert_ne!(
        param_bits(&restored),
        param_bits(&original),
        "a different start"
    );
    let mut adam2 = Adam::new(0.01);
    loaded.restore_module("model.", &restored, &Cpu).unwrap();
    loaded
        .restore_optimizer("optimizer.", &mut adam2, &Cpu)
        .unwrap();
    assert_eq!(param_bits(&restored), param_bits(&original));
    assert_eq!(state_bits(&adam2), state_bits(&adam));
    assert_eq!(adam2.iterations(), 3);
    // Resumed training continues exactly as the uninterrupted run.
    train(&original, &mut adam, 1);
    train(&restored, &mut adam2, 1);
    assert_eq!(param_bits(&restored), param_bits(&original));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mismatches_are_named_in_one_error() {
    let source = model(3, 4);
    let mut ck = Checkpoint::new();
    ck.insert_module("model.", &source).unwrap();
    ck.tensors.remove("model.dense_1.bias");
    ck.tensors
        .insert("model.dense_2.kernel".into(), (vec![1], vec![0.0]));

    // Same architecture: one missing and one extra tensor.
    let target = model(4, 4);
    let before = param_bits(&target);
    let err = ck
        .restore_module("model.", &target, &Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing tensor model.dense_1.bias"), "{err}");
    assert!(
        err.contains("unexpected tensor model.dense_2.kernel"),
        "{err}"
    );
    assert_eq!(
        param_bits(&target),
        before,
        "a failed restore changes nothing"
    );

    // Another width: every mis-shaped tensor is named with both shapes.
    let wider = model(5, 5);
    let err = ck
        .restore_module("model.", &wider, &Cpu)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("model.dense.kernel has shape [3, 4], the model expects [3, 5]"),
        "{err}"
    );
    assert!(
        err.contains("model.batch_normalization.moving_mean"),
        "{err}"
    );
    assert!(
        err.contains("model.dense_1.kernel has shape [4, 2]"),
        "{err}"
    );

    // Unknown optimizer state is refused too.
    ck.tensors
        .insert("optimizer.bogus".into(), (vec![1], vec![0.0]));
    let mut adam = Adam::<Cpu>::new(0.1);
    let err = ck
        .restore_optimizer("optimizer.", &mut adam, &Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("bogus"), "{err}");
}

#[test]
fn bad_files_are_errors_not_panics() {
    let dir = scratch("corrupt");
    let missing = dir.join("nope.safetensors");
    let err = Checkpoint::load(&missing).unwrap_err().to_string();
    assert!(err.contains("nope.safetensors"), "{err}");

    let empty = dir.join("empty.safetensors");
    fs::write(&empty, b"").unwrap();
    let err = Checkpoint::load(&empty).unwrap_err().to_string();
    assert!(err.contains("empty.safetensors"), "{err}");

    // A directory is not a checkpoint.
    assert!(Checkpoint::load(&dir).is_err());

    // Truncations of a valid file at every interesting length.
    let good = dir.join("good.safetensors");
    let mut ck = Checkpoint::new();
    ck.insert_module("", &model(6, 3)).unwrap();
    ck.save(&good).unwrap();
    let bytes = fs::read(&good).unwrap();
    let cut = dir.join("cut.safetensors");
    for len in [
        1,
        7,
        8,
        9,
        20,
        bytes.len() / 2,
        bytes.len() - 4,
        bytes.len() - 1,
    ] {
        fs::write(&cut, &bytes[..len]).unwrap();
        let err = Checkpoint::load(&cut).unwrap_err().to_string();
        assert!(err.contains("cut.safetensors"), "length {len}: {err}");
    }

    // Random bytes, of many lengths, some with a plausible header length in front.
    let junk = dir.join("junk.safetensors");
    let mut state = 0x1234_5678_9abc_def0_u64;
    for case in 0..200 {
        let len = (case * 37) % 600;
        let mut data: Vec<u8> = (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 56) as u8
            })
            .collect();
        if case % 2 == 0 && len >= 8 {
            let header = ((len - 8) as u64).min(state % 64);
            data[..8].copy_from_slice(&header.to_le_bytes());
        }
        fs::write(&junk, &data).unwrap();
        assert!(Checkpoint::load(&junk).is_err(), "case {case}");
    }

    // A well-formed header whose JSON is not a safetensors header, and an absurd length.
    let mut fake = 9u64.to_le_bytes().to_vec();
    fake.extend_from_slice(b"{\"a\": 12}");
    fs::write(&junk, &fake).unwrap();
    assert!(Checkpoint::load(&junk).is_err());
    fs::write(&junk, u64::MAX.to_le_bytes()).unwrap();
    assert!(Checkpoint::load(&junk).is_err());

    // A valid safetensors file of another dtype.
    let raw = 1.5f64.to_le_bytes().to_vec();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F64, vec![1], &raw).unwrap();
    let encoded = safetensors::serialize(vec![("x".to_string(), view)], None).unwrap();
    fs::write(&junk, encoded).unwrap();
    let err = Checkpoint::load(&junk).unwrap_err().to_string();
    assert!(err.contains("F64") && err.contains("x"), "{err}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn failed_writes_keep_the_old_file() {
    let dir = scratch("atomic");
    let path = dir.join("ckpt.safetensors");
    let mut ck = Checkpoint::new();
    ck.insert_module("", &model(7, 3)).unwrap();
    ck.save(&path).unwrap();
    let old = fs::read(&path).unwrap();

    // A checkpoint that cannot be encoded (shape and data disagree) writes nothing.
    let mut bad = ck.clone();
    bad.tensors.insert("broken".into(), (vec![2, 2], vec![1.0]));
    let err = bad.save(&path).unwrap_err().to_string();
    assert!(err.contains("broken"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), old);
    assert_eq!(entries(&dir), ["ckpt.safetensors"]);

    // The path is a directory: an error, the directory and its content survive.
    let taken = dir.join("taken");
    fs::create_dir(&taken).unwrap();
    fs::write(taken.join("inside"), b"keep me").unwrap();
    let err = ck.save(&taken).unwrap_err().to_string();
    assert!(err.contains("taken"), "{err}");
    assert_eq!(fs::read(taken.join("inside")).unwrap(), b"keep me");
    assert_eq!(
        entries(&dir),
        ["ckpt.safetensors", "taken"],
        "no temporary file is left"
    );

    // A read-only directory. Root ignores permission bits, so this part only asserts
    // the failure where the operating system enforces them; the failure path itself is
    // also covered, for every user, by the unit test in `checkpoint.rs`.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = dir.join("ro");
        fs::create_dir(&ro).unwrap();
        let target = ro.join("ckpt.safetensors");
        ck.save(&target).unwrap();
        let mut other = Checkpoint::new();
        other.insert_module("", &model(8, 3)).unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
        let enforced = fs::File::create(ro.join("probe")).is_err();
        let _ = fs::remove_file(ro.join("probe"));
        let result = other.save(&target);
        let now = fs::read(&target).unwrap();
        if enforced {
            let err = result.unwrap_err().to_string();
            assert!(err.contains("ckpt.safetensors"), "{err}");
            assert_eq!(now, old);
        } else {
            assert!(result.is_ok());
            assert_ne!(now, old);
        }
        assert_eq!(
            entries(&ro),
            ["ckpt.safetensors"],
            "no temporary file is left"
        );
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn concurrent_saves_never_mix() {
    let dir = scratch("concurrent");
    let path = dir.join("ckpt.safetensors");
    let versions: Vec<Checkpoint> = (0..4)
        .map(|i| {
            let mut ck = Checkpoint::new();
            ck.insert_module("", &model(10 + i, 3)).unwrap();
            ck.metadata.insert("writer".into(), i.to_string());
            ck
        })
        .collect();
    std::thread::scope(|s| {
        for ck in &versions {
            let path = &path;
            s.spawn(move || {
                for _ in 0..5 {
                    ck.save(path).unwrap();
                }
            });
        }
    });
    let loaded = Checkpoint::load(&path).unwrap();
    let writer: usize = loaded.metadata["writer"].parse().unwrap();
    let expected = &versions[writer];
    for (name, (shape, data)) in &expected.tensors {
        assert_eq!(&loaded.tensors[name].0, shape);
        assert_eq!(bits(&loaded.tensors[name].1), bits(data), "{name}");
    }
    assert_eq!(entries(&dir), ["ckpt.safetensors"]);
    fs::remove_dir_all(&dir).unwrap();
}
