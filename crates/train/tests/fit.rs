//! `fit`: bit-identical resume, metrics by hand, callbacks with Keras' meanings,
//! learning-rate schedules, the NaN stop and refused resumes.

use backend_cpu::Cpu;
use nn::{Activation, Adam, Dense, Dropout, Params, Seeds, Sequential, Sgd};
use std::path::Path;
use train::{
    Accuracy, ArrayDataset, BestCheckpoint, Callback, Control, Direction, EarlyStopping, Fit,
    FitContext, Logs, LrSchedule, Metric, OnBatch, Predictions, ReduceLrOnPlateau, TopKAccuracy,
};

/// `n` points of 4 features in 3 classes: class `c` centred at feature `c` = 2.
fn blobs(n: usize, seed: u64) -> ArrayDataset {
    let mut s = Seeds::new(seed);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..n {
        let c = i % 3;
        for f in 0..4 {
            let noise = (s.next() % 1000) as f32 / 1000.0 - 0.5;
            x.push(if f == c { 2.0 } else { 0.0 } + noise);
        }
        y.push(c);
    }
    ArrayDataset::new(x, &[4], y, 1).unwrap()
}

fn mlp(seed: u64) -> Sequential<Cpu> {
    let be = Cpu;
    let mut seeds = Seeds::new(seed);
    Sequential::new()
        .add(
            Dense::new(&be, 4, 16, &mut seeds)
                .unwrap()
                .activation(Activation::Relu),
        )
        .add(Dropout::new(0.3, &mut seeds).unwrap())
        .add(Dense::new(&be, 16, 3, &mut seeds).unwrap())
}

fn weights(model: &Sequential<Cpu>) -> Vec<Vec<u32>> {
    model
        .params()
        .iter()
        .map(|(_, p)| {
            p.value()
                .to_vec()
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect()
        })
        .collect()
}

/// Metrics rows without the timing columns and the record of the end of a session
/// inside an epoch (written by the interrupted run only).
fn rows(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r.get("partial_epoch").is_none())
        .map(|mut r| {
            let o = r.as_object_mut().unwrap();
            o.remove("steps_per_sec");
            o.remove("elapsed_sec");
            r
        })
        .collect()
}

fn fit_run<'a>(
    model: &'a Sequential<Cpu>,
    opt: &'a mut Adam<Cpu>,
    steps: u64,
) -> Fit<'a, Cpu, Sequential<Cpu>> {
    Fit::new("blobs", &Cpu, model, opt)
        .metric(Accuracy::default())
        .metric(TopKAccuracy::new(2).unwrap())
        .batch_size(8)
        .steps(steps)
        .seed(5)
        .log_every(3)
        .quiet(true)
        .schedule(LrSchedule::Exponential {
            decay_steps: 10,
            rate: 0.5,
            staircase: false,
        })
        .callback(ReduceLrOnPlateau::new("val_loss", Direction::Min).patience(1))
        .callback(EarlyStopping::new("val_accuracy", Direction::Max, 50).restore_best_weights())
        .callback(BestCheckpoint::new("val_loss", Direction::Min))
}

#[test]
fn a_resumed_run_is_bit_identical_to_an_uninterrupted_one() {
    let tmp = tempdir("resume");
    let (train, val) = (blobs(50, 1), blobs(30, 2));
    // 50 examples at batch 8: 7 steps per epoch, the last of 2 examples.
    let straight = tmp.join("straight");
    std::fs::create_dir_all(&straight).unwrap();
    let model_a = mlp(3);
    let mut opt_a = Adam::new(0.05);
    let end_a = fit_run(&model_a, &mut opt_a, 25)
        .run(&train, Some(&val), &straight)
        .unwrap();
    assert_eq!(end_a.steps, 25);
    assert_eq!(
        end_a.history.epochs.len(),
        3,
        "25 steps: 3 whole epochs of 7"
    );

    let split = tmp.join("split");
    std::fs::create_dir_all(&split).unwrap();
    let model_b = mlp(3);
    let mut opt_b = Adam::new(0.05);
    // Stops in the middle of epoch 2 (step 11 of 25).
    fit_run(&model_b, &mut opt_b, 11)
        .run(&train, Some(&val), &split)
        .unwrap();
    drop(opt_b);
    // The same build (dropout seeds come from the model seed, as a binary rebuilds it
    // from --seed) with its weights zeroed: they must all come from the checkpoint.
    let model_c = mlp(3);
    for (_, p) in model_c.params() {
        p.set(p.value().zeros_like().unwrap());
    }
    let mut opt_c = Adam::new(0.05);
    let mut fit_c = fit_run(&model_c, &mut opt_c, 25);
    fit_c.resume(&split.join(train::fit::CHECKPOINT)).unwrap();
    assert_eq!(fit_c.steps_done(), 11);
    fit_c.run(&train, Some(&val), &split).unwrap();
    drop(fit_c);

    assert_eq!(weights(&model_a), weights(&model_c));
    assert_eq!(rows(&straight), rows(&split));
    // The weights-only file loads into a fresh model and gives the same weights.
    let loaded = mlp(7);
    train::load_weights(&loaded, &Cpu, &split.join(train::fit::MODEL_FILE)).unwrap();
    assert_eq!(weights(&loaded), weights(&model_a));
    for f in ["loss.png", "accuracy.png", "best.safetensors"] {
        assert!(split.join(f).exists(), "{f} written");
    }
}

#[test]
fn learning_rates_follow_the_schedule() {
    let tmp = tempdir("schedule");
    let model = mlp(1);
    let mut opt = Sgd::new(0.8);
    Fit::new("blobs", &Cpu, &model, &mut opt)
        .batch_size(10)
        .steps(12)
        .log_every(1)
        .quiet(true)
        .schedule(LrSchedule::StepDecay {
            every_epochs: 1,
            factor: 0.5,
        })
        .run(&blobs(40, 1), None, &tmp)
        .unwrap();
    // 4 steps per epoch: steps 1-4 at 0.8, 5-8 at 0.4, 9-12 at 0.2.
    let text = std::fs::read_to_string(tmp.join("metrics.jsonl")).unwrap();
    let lrs: Vec<f32> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r.get("elapsed_sec").is_none()) // the per-step records
        .map(|r| r["lr"].as_f64().unwrap() as f32)
        .collect();
    let want: Vec<f32> = [0.8f32, 0.4, 0.2]
        .iter()
        .flat_map(|&v| std::iter::repeat_n(v, 4))
        .collect();
    assert_eq!(lrs, want);
    assert_eq!(opt.lr, 0.2);
}

#[test]
fn accuracy_and_top_k_by_hand() {
    // Three rows of four classes; labels 2, 0, 3.
    let outputs = [
        0.1, 0.2, 0.9, 0.0, // top 2 (hit), second 1
        0.3, 0.5, 0.1, 0.4, // top 1, then 3, then 0: label 0 is third
        0.0, 0.1, 0.7, 0.6, // top 2, then 3: label 3 is second
    ];
    let p = Predictions {
        outputs: &outputs,
        classes: 4,
        labels: &[2, 0, 3],
        examples: 3,
    };
    let mut acc = Accuracy::default();
    acc.update(&p);
    assert!((acc.result() - 1.0 / 3.0).abs() < 1e-12);
    let mut top2 = TopKAccuracy::new(2).unwrap();
    top2.update(&p);
    assert!((top2.result() - 2.0 / 3.0).abs() < 1e-12);
    let mut top3 = TopKAccuracy::new(3).unwrap();
    top3.update(&p);
    assert_eq!(top3.result(), 1.0);
    assert_eq!(top2.name(), "top2_accuracy");
    assert!(TopKAccuracy::new(0).is_err());
    // State round trip; a bad state is refused.
    let mut again = Accuracy::default();
    again.set_state(&acc.state()).unwrap();
    assert_eq!(again.result(), acc.result());
    assert!(again.set_state(&[3.0, 1.0]).is_err());
}

#[test]
fn early_stopping_stops_after_patience_epochs_without_improvement() {
    let tmp = tempdir("early");
    let model = mlp(1);
    // Learning rate 0: the weights never change, so the validation loss of epoch 1
    // is never improved on. Patience 2: epochs 2 and 3 wait, the stop comes after 3.
    let mut opt = Sgd::new(0.0);
    let end = Fit::new("blobs", &Cpu, &model, &mut opt)
        .batch_size(10)
        .epochs(10)
        .quiet(true)
        .callback(EarlyStopping::new("val_loss", Direction::Min, 2))
        .run(&blobs(20, 1), Some(&blobs(9, 2)), &tmp)
        .unwrap();
    assert_eq!(end.history.epochs.len(), 3);
    assert_eq!(end.steps, 6);
    assert!(end.stopped.unwrap().contains("val_loss"));
}

#[test]
fn a_missing_monitored_figure_is_an_error_naming_it() {
    let tmp = tempdir("monitor");
    let model = mlp(1);
    let mut opt = Sgd::new(0.1);
    let err = Fit::new("blobs", &Cpu, &model, &mut opt)
        .batch_size(10)
        .epochs(2)
        .quiet(true)
        .callback(BestCheckpoint::new("val_accuracy", Direction::Auto))
        .run(&blobs(20, 1), None, &tmp)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("val_accuracy") && err.contains("validation"),
        "{err}"
    );
}

struct FakeModel;
impl Params<Cpu> for FakeModel {}

fn plateau_epoch(cb: &mut ReduceLrOnPlateau, epoch: u64, value: f64, lr_scale: &mut f32) {
    let mut logs = Logs::default();
    logs.insert("val_loss", value);
    let lr = 0.1 * *lr_scale;
    let mut ctx = FitContext {
        backend: &Cpu,
        model: &FakeModel,
        name: "fake",
        dir: None,
        step: epoch,
        epoch,
        lr,
        lr_scale,
    };
    assert_eq!(
        Callback::<Cpu>::on_epoch_end(cb, &mut ctx, &logs).unwrap(),
        Control::Continue
    );
}

#[test]
fn reduce_on_plateau_with_keras_counting() {
    // Patience 2, factor 0.5: 1.0 (best), 1.0 (wait 1), 1.0 (wait 2: reduce), 0.5
    // (best), 0.5 (wait 1), 0.5 (wait 2: reduce). Base rate 0.1 -> 0.05 -> 0.025.
    let mut cb = ReduceLrOnPlateau::new("val_loss", Direction::Min)
        .patience(2)
        .factor(0.5)
        .unwrap();
    let mut scale = 1.0f32;
    let mut lrs = Vec::new();
    for (e, v) in [1.0, 1.0, 1.0, 0.5, 0.5, 0.5].iter().enumerate() {
        plateau_epoch(&mut cb, e as u64 + 1, *v, &mut scale);
        lrs.push(0.1 * scale);
    }
    let want = [0.1, 0.1, 0.05, 0.05, 0.05, 0.025];
    for (got, want) in lrs.iter().zip(want) {
        assert!((got - want).abs() < 1e-7, "{lrs:?}");
    }
    assert!(
        ReduceLrOnPlateau::new("val_loss", Direction::Min)
            .factor(1.5)
            .is_err()
    );
}

#[test]
fn a_nan_loss_stops_the_run_naming_the_step() {
    let tmp = tempdir("nan");
    let model = mlp(1);
    let mut opt = Sgd::new(0.1);
    let mut x = vec![0.0f32; 40];
    x[0] = f32::NAN;
    let data = ArrayDataset::new(x, &[4], vec![0; 10], 1).unwrap();
    let err = Fit::new("blobs", &Cpu, &model, &mut opt)
        .batch_size(10)
        .epochs(1)
        .quiet(true)
        .run(&data, None, &tmp)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("loss") && err.contains("step 1"), "{err}");
}

#[test]
fn resumes_with_other_settings_or_models_are_refused() {
    let tmp = tempdir("refuse");
    let model = mlp(1);
    let mut opt = Adam::new(0.01);
    Fit::new("blobs", &Cpu, &model, &mut opt)
        .batch_size(10)
        .steps(2)
        .quiet(true)
        .run(&blobs(20, 1), None, &tmp)
        .unwrap();
    let ck = tmp.join(train::fit::CHECKPOINT);
    let mut opt2 = Adam::new(0.01);
    let err = Fit::new("blobs", &Cpu, &model, &mut opt2)
        .batch_size(5)
        .resume(&ck)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("batch_size 10 (this run: 5)"), "{err}");
    let mut opt3 = Adam::new(0.01);
    let err = Fit::new("other", &Cpu, &model, &mut opt3)
        .batch_size(10)
        .resume(&ck)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("not written by the other model"), "{err}");
    // Bad sizes are refused before training.
    assert!(ArrayDataset::new(vec![0.0; 7], &[4], vec![0, 1], 1).is_err());
    // An empty validation set is an error, not a loss of 0.
    let empty = ArrayDataset::new(Vec::new(), &[4], Vec::new(), 1).unwrap();
    let err = train::evaluate(
        &Cpu,
        &model,
        &train::SparseCategoricalCrossEntropy,
        &[],
        &empty,
        10,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("empty"), "{err}");
}

#[test]
fn batch_callbacks_see_the_batch_and_can_stop() {
    let tmp = tempdir("batchcb");
    let model = mlp(1);
    let mut opt = Adam::new(0.01);
    let mut seen = Vec::new();
    let end = Fit::new("blobs", &Cpu, &model, &mut opt)
        .metric(Accuracy::default())
        .batch_size(10)
        .epochs(5)
        .quiet(true)
        .callback(OnBatch(|ctx: &mut FitContext<Cpu>, logs: &Logs| {
            seen.push((ctx.step, logs.get("batch_accuracy").unwrap()));
            Ok(if ctx.step == 3 {
                Control::Stop("enough".into())
            } else {
                Control::Continue
            })
        }))
        .run(&blobs(20, 1), None, &tmp)
        .unwrap();
    assert_eq!(end.steps, 3);
    assert_eq!(end.stopped.as_deref(), Some("enough"));
    drop(end);
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|(_, a)| (0.0..=1.0).contains(a)));
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fit-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
