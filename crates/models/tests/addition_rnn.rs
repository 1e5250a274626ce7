//! `addition_rnn`: Keras' parameter count, the data, a short run of the binary with its
//! questions, figures and files, resume (and its refusal with other settings), bad
//! options, CPU-vs-wgpu parity of a forward and backward pass, and a run on wgpu.

mod common;

use common::{ok, scratch as scratch_in, text};
use models::addition_rnn::{self, AdditionArgs, EXACT_MATCH};
use nn::Params;
use std::process::Command;
use train::Dataset;

fn scratch(name: &str) -> std::path::PathBuf {
    scratch_in("addition-rnn", name)
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_addition_rnn"))
}

fn refused(args: &[&str]) -> String {
    let out = bin().args(args).output().unwrap();
    let (o, e) = text(&out);
    assert!(!out.status.success(), "{args:?} was accepted:\n{o}\n{e}");
    e
}

#[test]
fn parameter_count_equals_keras() {
    let be = backend_cpu::Cpu;
    let args = AdditionArgs::default();
    let model = addition_rnn::network(&be, &args, 1).unwrap();
    // Keras: LSTM 4*128*(12+128+1) + LSTM 4*128*(128+128+1) + Dense 128*12+12.
    assert_eq!(model.param_count(), 205_324);
    let shapes = model.output_shapes(&be, &[1, 7, 12]).unwrap();
    assert_eq!(
        shapes,
        vec![
            vec![1, 128],
            vec![1, 4, 128],
            vec![1, 4, 128],
            vec![1, 4, 12]
        ]
    );
    // Each further decoder layer is another LSTM(128) on 128 features.
    let deeper = AdditionArgs {
        layers: 3,
        ..AdditionArgs::default()
    };
    let model = addition_rnn::network(&be, &deeper, 1).unwrap();
    assert_eq!(model.param_count(), 205_324 + 2 * 131_584);
    // More digits: longer questions and answers, the same weights.
    let five = AdditionArgs {
        digits: 5,
        ..AdditionArgs::default()
    };
    let model = addition_rnn::network(&be, &five, 1).unwrap();
    assert_eq!(model.param_count(), 205_324);
    let shapes = model.output_shapes(&be, &[1, 11, 12]).unwrap();
    assert_eq!(shapes.last().unwrap(), &vec![1, 6, 12]);
}

#[test]
fn the_data_are_the_keras_examples() {
    let args = AdditionArgs {
        questions: 200,
        ..AdditionArgs::default()
    };
    let (train_p, val_p) = addition_rnn::problems(&args, 7).unwrap();
    assert_eq!((train_p.len(), val_p.len()), (180, 20));
    let set = addition_rnn::dataset(&val_p).unwrap();
    assert_eq!(set.input_shape(), vec![7, 12]);
    assert_eq!(set.labels_per_example(), 4);
    // Every answer is the sum of its question, and the question is reversed.
    let alphabet: Vec<char> = "0123456789+ ".chars().collect();
    let batch = set.batch(&[0, 1, 2], None).unwrap();
    for (k, labels) in batch.labels.chunks(4).enumerate() {
        let answer: String = labels.iter().map(|&l| alphabet[l]).collect();
        let question: String = val_p.questions[k].chars().rev().collect();
        let (a, b) = question.trim().split_once('+').unwrap();
        let sum: u64 = a.parse::<u64>().unwrap() + b.parse::<u64>().unwrap();
        assert_eq!(answer.trim(), sum.to_string(), "question {question:?}");
        // One-hot rows: the question's characters in order.
        let x = &batch.inputs[k * 7 * 12..(k + 1) * 7 * 12];
        let read: String = x
            .chunks(12)
            .map(|row| alphabet[row.iter().position(|&v| v == 1.0).unwrap()])
            .collect();
        assert_eq!(read, val_p.questions[k]);
    }
    // The questions are unique (a+b and b+a are the same question).
    let mut keys: Vec<(u64, u64)> = train_p
        .operands
        .iter()
        .chain(&val_p.operands)
        .map(|&(a, b)| (a.min(b), a.max(b)))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 200);
}

#[test]
fn a_short_run_shows_questions_both_figures_and_resumes() {
    let tmp = scratch("run");
    let run = tmp.join("run");
    let out = bin()
        .args([
            "--questions",
            "2000",
            "--epochs",
            "1",
            "--batch-size",
            "64",
            "--quiet",
            "--out",
        ])
        .arg(&run)
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    assert!(stderr.contains("Total params: 205324"), "{stderr}");
    assert!(
        stderr.contains("1800 training questions, 200 validation questions"),
        "{stderr}"
    );
    // Ten questions, each `Q <question> T <answer> ☑|☒ <guess>`.
    let questions: Vec<&str> = stdout.lines().filter(|l| l.starts_with("Q ")).collect();
    assert_eq!(questions.len(), 10, "{stdout}");
    for q in &questions {
        let (question, rest) = q[2..].split_once(" T ").unwrap();
        let (a, b) = question.trim().split_once('+').unwrap();
        let sum = a.parse::<u64>().unwrap() + b.parse::<u64>().unwrap();
        assert!(rest.starts_with(&format!("{sum:<4} ")), "{q}");
        assert!(rest.contains('☑') || rest.contains('☒'), "{q}");
    }
    assert!(
        stdout.contains("epoch 1 validation: per-character accuracy ")
            && stdout.contains("exact match "),
        "{stdout}"
    );
    assert!(
        stdout.contains("validation on the held-out questions: loss"),
        "{stdout}"
    );
    // The epoch record holds both figures, for training and validation.
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let epoch: serde_json::Value = metrics
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .rfind(|r| r.get("elapsed_sec").is_some())
        .unwrap();
    for key in [
        "accuracy".to_string(),
        EXACT_MATCH.to_string(),
        "val_accuracy".to_string(),
        format!("val_{EXACT_MATCH}"),
    ] {
        let v = epoch.get(&key).and_then(|v| v.as_f64());
        assert!(
            v.is_some_and(|v| (0.0..=1.0).contains(&v)),
            "{key}: {epoch}"
        );
    }
    // A whole answer right needs every character right.
    assert!(epoch[format!("val_{EXACT_MATCH}")].as_f64() <= epoch["val_accuracy"].as_f64());
    for f in [
        "checkpoint.safetensors",
        "model.safetensors",
        "loss.png",
        "accuracy.png",
    ] {
        assert!(run.join(f).exists(), "{f} missing");
    }

    let checkpoint = run.join("checkpoint.safetensors");
    // Other digits change what the checkpoint means: refused, naming the setting.
    let out = bin()
        .args(["--questions", "2000", "--digits", "2", "--epochs", "2"])
        .args(["--batch-size", "64", "--quiet", "--resume"])
        .arg(&checkpoint)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let (_, stderr) = text(&out);
    assert!(stderr.contains("digits 3 (this run: 2)"), "{stderr}");
    // So do other layers and an unreversed input.
    for extra in [&["--layers", "2"][..], &["--no-reverse"]] {
        let out = bin()
            .args([
                "--questions",
                "2000",
                "--epochs",
                "2",
                "--batch-size",
                "64",
                "--quiet",
            ])
            .args(extra)
            .arg("--resume")
            .arg(&checkpoint)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{extra:?} resumed");
        assert!(text(&out).1.contains("(this run: "), "{}", text(&out).1);
    }
    // The same settings continue it: 1,800 questions are 29 batches of 64.
    let out = bin()
        .args([
            "--questions",
            "2000",
            "--epochs",
            "2",
            "--batch-size",
            "64",
            "--quiet",
        ])
        .arg("--resume")
        .arg(&checkpoint)
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    assert!(stderr.contains("at step 29"), "{stderr}");
    assert!(stdout.contains("epoch 2 validation:"), "{stdout}");
    assert!(!stdout.contains("epoch 1 validation:"), "{stdout}");
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn bad_options_are_refused_with_the_reason() {
    assert!(refused(&["--digits", "0"]).contains("must be 1 to 5"));
    assert!(refused(&["--digits", "6"]).contains("must be 1 to 5"));
    assert!(refused(&["--digits", "three"]).contains("expected a whole number"));
    assert!(refused(&["--layers", "0"]).contains("must be 1 to 32"));
    assert!(refused(&["--questions", "0"]).contains("at least 1"));
    // 1-digit operands make 10 * 11 / 2 = 55 different questions.
    let e = refused(&["--digits", "1", "--questions", "56", "--quiet"]);
    assert!(e.contains("only 55 exist"), "{e}");
    // The default 50,000 is more than 2 digits allow (100 * 101 / 2 = 5,050).
    let e = refused(&["--digits", "2", "--quiet"]);
    assert!(e.contains("only 5050 exist"), "{e}");
    let e = refused(&["--questions", "9", "--quiet"]);
    assert!(e.contains("at least 10"), "{e}");
}

/// One forward and backward pass of the whole model on a batch of questions, on the CPU
/// and on wgpu from the same weights: the loss and every parameter's gradient agree.
#[cfg(feature = "wgpu")]
#[test]
fn forward_and_backward_agree_on_cpu_and_wgpu() {
    use tensor::{Backend, Tensor};
    use train::Loss;
    let gpu = match backend_wgpu::Wgpu::new() {
        Ok(g) => g,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but no wgpu adapter: {e}"
            );
            eprintln!("SKIP: no wgpu adapter: {e}");
            return;
        }
    };
    let args = AdditionArgs {
        questions: 100,
        ..AdditionArgs::default()
    };
    let (train_p, _) = addition_rnn::problems(&args, 3).unwrap();
    let set = addition_rnn::dataset(&train_p).unwrap();
    let batch = set.batch(&[0, 1, 2, 3, 4, 5], None).unwrap();

    /// The loss and the gradients (in parameter order) on `be`, from `weights`.
    fn pass<B: Backend>(
        be: &B,
        args: &AdditionArgs,
        weights: Option<&[Vec<f32>]>,
        inputs: &[f32],
        labels: &[usize],
    ) -> (f32, Vec<Vec<f32>>, Vec<Vec<f32>>) {
        let model = addition_rnn::network(be, args, 5).unwrap();
        let params = model.params();
        if let Some(w) = weights {
            for ((_, p), w) in params.iter().zip(w) {
                let dims = p.value().dims().to_vec();
                p.set(Tensor::from_slice(be, w, dims).unwrap());
            }
        }
        let x = Tensor::from_slice(be, inputs, [labels.len() / 4, 7, 12]).unwrap();
        let y = nn::Module::forward(&model, &x, nn::Mode::Train).unwrap();
        let loss = train::SparseCategoricalCrossEntropy
            .loss(&y, labels)
            .unwrap();
        let value = loss.to_vec().unwrap()[0];
        let grads = loss.backward().unwrap();
        let g = params
            .iter()
            .map(|(n, p)| {
                p.grad(&grads)
                    .unwrap_or_else(|| panic!("no gradient of {n}"))
                    .to_vec()
                    .unwrap()
            })
            .collect();
        let w = params
            .iter()
            .map(|(_, p)| p.value().to_vec().unwrap())
            .collect();
        (value, g, w)
    }

    let (cpu_loss, cpu_grads, weights) =
        pass(&backend_cpu::Cpu, &args, None, &batch.inputs, &batch.labels);
    let (gpu_loss, gpu_grads, _) = pass(&gpu, &args, Some(&weights), &batch.inputs, &batch.labels);
    // ln 12 = 2.48 at the start: the logits are near zero.
    assert!((cpu_loss - 12f32.ln()).abs() < 0.2, "{cpu_loss}");
    assert!(
        (cpu_loss - gpu_loss).abs() <= 1e-5 * cpu_loss.abs(),
        "loss: cpu {cpu_loss} vs wgpu {gpu_loss}"
    );
    let names: Vec<String> = addition_rnn::network(&backend_cpu::Cpu, &args, 5)
        .unwrap()
        .params()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    // kernel, recurrent kernel and bias of both LSTMs; the Dense kernel and bias.
    assert_eq!(names.len(), 8, "{names:?}");
    for ((name, c), g) in names.iter().zip(&cpu_grads).zip(&gpu_grads) {
        assert_eq!(c.len(), g.len(), "{name}");
        // f32 sums in another order: differences of a few ulps of the largest entry.
        let scale = c.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(scale > 0.0, "{name}: zero gradient");
        for (k, (a, b)) in c.iter().zip(g).enumerate() {
            assert!(
                (a - b).abs() <= 1e-4 * scale + 1e-7,
                "{name}[{k}]: cpu {a} vs wgpu {b} (largest {scale})"
            );
        }
    }
}

/// A few steps of the binary on wgpu (lavapipe in CI).
#[cfg(feature = "wgpu")]
#[test]
fn the_binary_runs_on_wgpu() {
    if let Err(e) = backend_wgpu::Wgpu::new() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but no wgpu adapter: {e}"
        );
        eprintln!("SKIP: no wgpu adapter ({e})");
        return;
    }
    let tmp = scratch("wgpu");
    let out = bin()
        // 180 training questions: 3 steps of 64, then the epoch's questions.
        .args(["--backend", "wgpu", "--questions", "200", "--epochs", "1"])
        .args(["--batch-size", "64", "--quiet", "--out"])
        .arg(tmp.join("run"))
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    assert!(stderr.contains("backend wgpu"), "{stderr}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("Q ")).count(),
        10,
        "{stdout}"
    );
    assert!(tmp.join("run").join("metrics.jsonl").exists());
    std::fs::remove_dir_all(&tmp).ok();
}
