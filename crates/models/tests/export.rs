//! The models' exports, checked by runtimes and implementations that are not ours:
//! every ONNX file runs in tract (a pure-Rust ONNX runtime) on real inputs and matches
//! the project's outputs; the PyTorch-layout weights of the GAN generator and the MNIST
//! CNN, read back with the `safetensors` crate, give the project's outputs when a
//! forward pass is recomputed from PyTorch's layer definitions in plain loops; and the
//! binaries' `export` refuses bad input without leaving a file.

#[path = "../../export/tests/common/tract.rs"]
mod tract;

use backend_cpu::Cpu;
use models::export::{self, Exported};
use nn::{BatchNorm, Module, Sequential};
use safetensors::SafeTensors;
use std::any::Any;
use std::path::{Path, PathBuf};
use std::process::Command;
use tensor::Tensor;
use tract::{Input, assert_close, run, values};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("export-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Gives every BatchNorm of `net` moving statistics and an affine part that are not the
/// initial ones, so the inference form is really exercised.
fn shake_batch_norms(net: &Sequential<Cpu>, seed: u64) {
    for (i, (_, layer)) in net.layers().iter().enumerate() {
        let any: &dyn Any = &**layer;
        if let Some(bn) = any.downcast_ref::<BatchNorm<Cpu>>() {
            let c = bn.gamma.numel();
            let set =
                |p: &nn::Param<Cpu>, v: Vec<f32>| p.set(Tensor::from_vec(&Cpu, v, [c]).unwrap());
            let s = seed + 10 * i as u64;
            set(
                &bn.gamma,
                values(c, s).iter().map(|v| 1.0 + 0.3 * v).collect(),
            );
            set(&bn.beta, values(c, s + 1).iter().map(|v| 0.2 * v).collect());
            set(
                &bn.moving_mean,
                values(c, s + 2).iter().map(|v| 0.2 * v).collect(),
            );
            set(
                &bn.moving_variance,
                values(c, s + 3).iter().map(|v| 1.0 + 0.5 * v).collect(),
            );
        }
    }
}

fn entry(dict: &export::Exported, name: &str) -> (Vec<usize>, Vec<f32>) {
    match dict.reference.get(name) {
        Some(::export::pytorch::Entry::F32 { shape, data }) => (shape.clone(), data.clone()),
        _ => panic!("reference has no {name}"),
    }
}

/// Runs the exported graph in tract on the reference inputs `inputs` (names; `label`
/// is fed as int64) and compares each output named in `outputs`.
fn check_in_tract(e: &Exported, inputs: &[&str], outputs: &[&str]) {
    let feed = inputs
        .iter()
        .map(|name| {
            let (shape, data) = entry(e, name);
            if *name == "label" {
                Input::I64(shape, data.iter().map(|&v| v as i64).collect())
            } else {
                Input::F32(shape, data)
            }
        })
        .collect();
    let got = run(&e.graph.encode(), feed);
    assert_eq!(got.len(), outputs.len());
    for ((shape, data), name) in got.iter().zip(outputs) {
        let (want_shape, want) = entry(e, name);
        assert_eq!(shape, &want_shape, "{} {name}: shape", e.model);
        assert_close(&format!("{} {name}", e.model), data, &want, 1e-4);
    }
}

fn save_sequential(net: &Sequential<Cpu>, name: &str, dir: &Path) -> PathBuf {
    let path = dir.join("model.safetensors");
    train::save_weights(net, name, &path, &[]).unwrap();
    path
}

/// Each model's export from a checkpoint of fresh weights (BatchNorm statistics and
/// LSTM biases made non-trivial), with the names of its graph's inputs and outputs.
type Case = (Exported, &'static [&'static str], &'static [&'static str]);

const INPUT: &[&str] = &["input"];
const OUTPUT: &[&str] = &["output"];

fn mnist_cnn_case(dir: &Path) -> Case {
    let net = models::mnist_cnn::network(&Cpu, 3).unwrap();
    let e = export::mnist_cnn(&Cpu, &save_sequential(&net, "mnist_cnn", dir)).unwrap();
    (e, INPUT, OUTPUT)
}

fn cifar10_cnn_case(dir: &Path) -> Case {
    let net = models::cifar10_cnn::network(&Cpu, 4).unwrap();
    let e = export::cifar10_cnn(&Cpu, &save_sequential(&net, "cifar10_cnn", dir)).unwrap();
    (e, INPUT, OUTPUT)
}

fn antirectifier_case(dir: &Path) -> Case {
    let net = models::antirectifier::network(&Cpu, 5).unwrap();
    let e = export::antirectifier(&Cpu, &save_sequential(&net, "antirectifier", dir)).unwrap();
    (e, INPUT, OUTPUT)
}

fn transfer_cnn_case(dir: &Path) -> Case {
    let net = models::transfer_cnn::network(&Cpu, 6).unwrap();
    let e = export::transfer_cnn(&Cpu, &save_sequential(&net, "transfer_cnn", dir)).unwrap();
    (e, INPUT, OUTPUT)
}

fn addition_rnn_checkpoint(dir: &Path) -> PathBuf {
    let args = models::addition_rnn::AdditionArgs::default();
    let net = models::addition_rnn::network(&Cpu, &args, 7).unwrap();
    // Biases that are not zero, so the gate order and the folded forget bias count.
    for (name, p) in nn::Params::params(&net) {
        if name.ends_with("lstm.bias") || name.ends_with("lstm_1.bias") {
            p.set(Tensor::from_vec(&Cpu, values(p.numel(), 70), [p.numel()]).unwrap());
        }
    }
    save_sequential(&net, "addition_rnn", dir)
}

fn addition_rnn_case(dir: &Path) -> Case {
    let args = models::addition_rnn::AdditionArgs::default();
    let e = export::addition_rnn(&Cpu, &addition_rnn_checkpoint(dir), &args).unwrap();
    (e, INPUT, OUTPUT)
}

fn text_lstm_case(dir: &Path) -> Case {
    let net = models::text_lstm::network(&Cpu, 23, 8).unwrap();
    let e = export::text_lstm(&Cpu, &save_sequential(&net, "text_lstm", dir)).unwrap();
    (e, INPUT, OUTPUT)
}

fn gan_checkpoint(dir: &Path) -> PathBuf {
    let gan = models::gan::Gan::new(Cpu, models::gan::GanConfig::default()).unwrap();
    shake_batch_norms(gan.generator_ema.as_ref().unwrap(), 90);
    shake_batch_norms(&gan.generator, 91);
    let path = dir.join("checkpoint.safetensors");
    train::save(&gan, &path).unwrap();
    path
}

fn gan_case(dir: &Path) -> Case {
    (
        export::gan(&Cpu, &gan_checkpoint(dir)).unwrap(),
        INPUT,
        OUTPUT,
    )
}

fn acgan_case(dir: &Path) -> Case {
    let config = models::acgan::AcganConfig {
        ema_decay: 0.99,
        ..Default::default()
    };
    let acgan = models::acgan::Acgan::new(Cpu, config).unwrap();
    shake_batch_norms(&acgan.generator.cnn, 95);
    // The export is the weight average's (what samples come from).
    shake_batch_norms(&acgan.generator_ema.as_ref().unwrap().cnn, 96);
    let path = dir.join("checkpoint.safetensors");
    train::save(&acgan, &path).unwrap();
    let e = export::acgan(&Cpu, &path).unwrap();
    (e, &["latent", "label"], &["image"])
}

fn toy_gan_case(dir: &Path) -> Case {
    let opts = models::toy_gan::ToyGanOptions {
        activation: models::toy_gan::ActivationKind::LeakyRelu,
        ..Default::default()
    };
    let toy = models::toy_gan::ToyGan::new(Cpu, &opts, 8, 1e-3, 9).unwrap();
    let path = dir.join("checkpoint.safetensors");
    train::save(&toy, &path).unwrap();
    let e = export::toy_gan(&Cpu, &path).unwrap();
    assert!(e.graph.op_types().contains(&"LeakyRelu".to_string()));
    (e, INPUT, OUTPUT)
}

fn label_to_image_case(dir: &Path) -> Case {
    let model = models::label_to_image::LabelToImage::new(Cpu, 0.01).unwrap();
    model
        .layer
        .kernel
        .set(Tensor::from_vec(&Cpu, values(7840, 13), [10, 784]).unwrap());
    let path = dir.join("checkpoint.safetensors");
    train::save(&model, &path).unwrap();
    (export::label_to_image(&Cpu, &path).unwrap(), INPUT, OUTPUT)
}

fn check_case((e, inputs, outputs): Case) -> Exported {
    check_in_tract(&e, inputs, outputs);
    e
}

#[test]
fn mnist_cnn_runs_in_tract_on_bundled_digits() {
    let e = check_case(mnist_cnn_case(&temp_dir("mnist_cnn")));
    assert_eq!(entry(&e, "input").0, vec![8, 28, 28, 1]);
}

#[test]
fn cifar10_cnn_runs_in_tract() {
    check_case(cifar10_cnn_case(&temp_dir("cifar10_cnn")));
}

#[test]
fn antirectifier_and_its_custom_layer_run_in_tract() {
    let e = check_case(antirectifier_case(&temp_dir("antirectifier")));
    assert!(e.graph.op_types().contains(&"ReduceMean".to_string()));
}

#[test]
fn transfer_cnn_runs_in_tract() {
    check_case(transfer_cnn_case(&temp_dir("transfer_cnn")));
}

#[test]
fn addition_rnn_lstms_run_in_tract() {
    let dir = temp_dir("addition_rnn");
    let e = check_case(addition_rnn_case(&dir));
    assert_eq!(entry(&e, "input").0, vec![8, 7, 12]);
    // A model trained for another task is refused by the setting it records.
    let path = addition_rnn_checkpoint(&dir);
    let two = models::addition_rnn::AdditionArgs {
        layers: 2,
        ..Default::default()
    };
    let err = export::addition_rnn(&Cpu, &path, &two)
        .err()
        .expect("mismatch")
        .to_string();
    assert!(err.contains("model.safetensors"), "{err}");
}

#[test]
fn text_lstm_runs_in_tract() {
    let e = check_case(text_lstm_case(&temp_dir("text_lstm")));
    assert_eq!(entry(&e, "input").0, vec![4, 40, 23]);
}

#[test]
fn toy_gan_generator_runs_in_tract() {
    check_case(toy_gan_case(&temp_dir("toy_gan")));
}

#[test]
fn label_to_image_runs_in_tract() {
    let e = check_case(label_to_image_case(&temp_dir("label_to_image")));
    assert_eq!(entry(&e, "output").0, vec![10, 784]);
}

#[test]
fn gan_generator_runs_in_tract_on_fixed_latents() {
    let e = check_case(gan_case(&temp_dir("gan")));
    assert_eq!(entry(&e, "input").0, vec![8, 100]);
}

#[test]
fn acgan_generator_runs_in_tract_with_int64_labels() {
    let e = check_case(acgan_case(&temp_dir("acgan")));
    assert_eq!(entry(&e, "image").0, vec![10, 28, 28, 1]);
}

/// `onnx.checker.check_model(full_check=True)` and ONNX Runtime on every export, through
/// `tools/onnx_check.py`, where `ONNX_PYTHON` names a Python that has `onnx`,
/// `onnxruntime`, `numpy` and `safetensors` (`.ci/run` sets one up when pip works).
#[test]
fn onnx_checker_and_onnx_runtime_accept_every_export() {
    let Some(python) = std::env::var_os("ONNX_PYTHON") else {
        eprintln!(
            "skipped: set ONNX_PYTHON to a Python with onnx, onnxruntime, numpy and \
             safetensors to run onnx.checker and ONNX Runtime on every export"
        );
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/onnx_check.py");
    let builders: [fn(&Path) -> Case; 10] = [
        mnist_cnn_case,
        cifar10_cnn_case,
        antirectifier_case,
        transfer_cnn_case,
        addition_rnn_case,
        text_lstm_case,
        gan_case,
        acgan_case,
        toy_gan_case,
        label_to_image_case,
    ];
    for build in builders {
        let dir = temp_dir("onnxruntime");
        let (e, _, _) = build(&dir);
        let args = export::ExportArgs {
            checkpoint: dir.join("checkpoint"),
            onnx: Some(dir.join(format!("{}.onnx", e.model))),
            pytorch: None,
            reference: Some(dir.join(format!("{}-reference.safetensors", e.model))),
            overwrite: true,
        };
        export::write(&args, &e).unwrap();
        let out = Command::new(&python)
            .arg(&script)
            .arg(args.onnx.as_ref().unwrap())
            .arg(args.reference.as_ref().unwrap())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        eprintln!("{text}");
        assert!(out.status.success(), "{}: {text}", e.model);
        assert!(text.contains("onnx.checker accepts it"), "{text}");
    }
}

// ---- PyTorch layout, recomputed from PyTorch's definitions in plain loops ----

/// The tensors of a safetensors file as f32 (shape, values).
fn read_safetensors(path: &Path) -> std::collections::HashMap<String, (Vec<usize>, Vec<f32>)> {
    let bytes = std::fs::read(path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .filter(|(_, v)| v.dtype() == safetensors::Dtype::F32)
        .map(|(n, v)| {
            let data = v
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            (n, (v.shape().to_vec(), data))
        })
        .collect()
}

/// `torch.nn.functional.linear`: `y = x W^T + b`, `W` `[out, in]`.
fn linear(x: &[f32], n: usize, w: &(Vec<usize>, Vec<f32>), b: &(Vec<usize>, Vec<f32>)) -> Vec<f32> {
    let (out, inp) = (w.0[0], w.0[1]);
    let mut y = vec![0.0; n * out];
    for r in 0..n {
        for o in 0..out {
            let mut s = b.1[o] as f64;
            for i in 0..inp {
                s += x[r * inp + i] as f64 * w.1[o * inp + i] as f64;
            }
            y[r * out + o] = s as f32;
        }
    }
    y
}

/// `torch.nn.functional.conv2d` on NCHW with weight `[out, in, kh, kw]`, stride 1,
/// zero padding `pad` on every side.
fn conv2d_nchw(
    x: &[f32],
    [n, c, h, w]: [usize; 4],
    wt: &(Vec<usize>, Vec<f32>),
    b: &(Vec<usize>, Vec<f32>),
    pad: usize,
) -> Vec<f32> {
    let (o, kh, kw) = (wt.0[0], wt.0[2], wt.0[3]);
    assert_eq!(wt.0[1], c);
    let (oh, ow) = (h + 2 * pad - kh + 1, w + 2 * pad - kw + 1);
    let mut y = vec![0.0; n * o * oh * ow];
    for b_ in 0..n {
        for oc in 0..o {
            for yy in 0..oh {
                for xx in 0..ow {
                    let mut s = b.1[oc] as f64;
                    for ic in 0..c {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = yy + ky;
                                let ix = xx + kx;
                                if iy < pad || ix < pad || iy - pad >= h || ix - pad >= w {
                                    continue;
                                }
                                let v = x[((b_ * c + ic) * h + iy - pad) * w + ix - pad];
                                s += v as f64 * wt.1[((oc * c + ic) * kh + ky) * kw + kx] as f64;
                            }
                        }
                    }
                    y[((b_ * o + oc) * oh + yy) * ow + xx] = s as f32;
                }
            }
        }
    }
    y
}

/// `torch.nn.functional.max_pool2d(x, 2)` on NCHW.
fn max_pool2(x: &[f32], [n, c, h, w]: [usize; 4]) -> Vec<f32> {
    let (oh, ow) = (h / 2, w / 2);
    let mut y = vec![f32::NEG_INFINITY; n * c * oh * ow];
    for p in 0..n * c {
        for yy in 0..oh {
            for xx in 0..ow {
                for dy in 0..2 {
                    for dx in 0..2 {
                        let v = x[(p * h + 2 * yy + dy) * w + 2 * xx + dx];
                        let o = &mut y[(p * oh + yy) * ow + xx];
                        *o = o.max(v);
                    }
                }
            }
        }
    }
    y
}

fn export_pytorch(binary: &str, checkpoint: &Path, dir: &Path) -> PathBuf {
    let out = dir.join(format!("{binary}-torch.safetensors"));
    let status = Command::new(bin(binary))
        .args(["export", "--checkpoint"])
        .arg(checkpoint)
        .arg("--pytorch")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    out
}

fn bin(name: &str) -> PathBuf {
    match name {
        "gan" => env!("CARGO_BIN_EXE_gan").into(),
        "mnist_cnn" => env!("CARGO_BIN_EXE_mnist_cnn").into(),
        "acgan" => env!("CARGO_BIN_EXE_acgan").into(),
        _ => unreachable!("no such binary in these tests"),
    }
}

#[test]
fn mnist_cnn_pytorch_layout_reproduces_the_logits() {
    let dir = temp_dir("mnist_torch");
    let net = models::mnist_cnn::network(&Cpu, 11).unwrap();
    let ck = save_sequential(&net, "mnist_cnn", &dir);
    let sd = read_safetensors(&export_pytorch("mnist_cnn", &ck, &dir));
    let names: Vec<&str> = {
        let mut v: Vec<&str> = sd.keys().map(String::as_str).collect();
        v.sort();
        v
    };
    assert_eq!(
        names,
        [
            "conv2d.bias",
            "conv2d.weight",
            "conv2d_1.bias",
            "conv2d_1.weight",
            "dense.bias",
            "dense.weight",
            "dense_1.bias",
            "dense_1.weight"
        ]
    );
    assert_eq!(sd["conv2d.weight"].0, vec![64, 1, 3, 3]);
    assert_eq!(sd["dense.weight"].0, vec![1024, 6272]);

    // The digits, NHWC here, NCHW for PyTorch (one channel: the same values).
    let n = 3;
    let x = models::export::digits(&Cpu, n).unwrap();
    let want = net.forward(&x, nn::Mode::Eval).unwrap().to_vec().unwrap();
    let relu = |v: Vec<f32>| v.into_iter().map(|a| a.max(0.0)).collect::<Vec<f32>>();
    let h = relu(conv2d_nchw(
        &x.to_vec().unwrap(),
        [n, 1, 28, 28],
        &sd["conv2d.weight"],
        &sd["conv2d.bias"],
        1,
    ));
    let h = max_pool2(&h, [n, 64, 28, 28]);
    let h = relu(conv2d_nchw(
        &h,
        [n, 64, 14, 14],
        &sd["conv2d_1.weight"],
        &sd["conv2d_1.bias"],
        1,
    ));
    let h = max_pool2(&h, [n, 128, 14, 14]);
    // torch.flatten(x, 1) of NCHW: the order the exporter permuted dense.weight to.
    let h = relu(linear(&h, n, &sd["dense.weight"], &sd["dense.bias"]));
    let got = linear(&h, n, &sd["dense_1.weight"], &sd["dense_1.bias"]);
    assert_close(
        "mnist_cnn logits from the PyTorch layout",
        &got,
        &want,
        1e-4,
    );
}

#[test]
fn gan_generator_pytorch_layout_reproduces_the_images() {
    let dir = temp_dir("gan_torch");
    let ck = gan_checkpoint(&dir);
    let sd = read_safetensors(&export_pytorch("gan", &ck, &dir));
    let mut gan = models::gan::Gan::new(Cpu, models::gan::GanConfig::default()).unwrap();
    gan.restore_generator(&nn::Checkpoint::load(&ck).unwrap())
        .unwrap();
    let g = gan.generator_ema.as_ref().unwrap();
    let n = 4;
    let z = gan.noise(n, 3).unwrap();
    let want = g.forward(&z, nn::Mode::Eval).unwrap().to_vec().unwrap();
    // nn.Linear -> F.leaky_relu(0.2) -> nn.BatchNorm1d(eps=1e-3) (eval), three times,
    // then nn.Linear -> tanh.
    let mut h = z.to_vec().unwrap();
    for (dense, bn) in [
        ("dense", "batch_normalization"),
        ("dense_1", "batch_normalization_1"),
        ("dense_2", "batch_normalization_2"),
    ] {
        h = linear(
            &h,
            n,
            &sd[&format!("{dense}.weight")],
            &sd[&format!("{dense}.bias")],
        );
        h = h
            .into_iter()
            .map(|v| if v > 0.0 { v } else { 0.2 * v })
            .collect();
        let c = sd[&format!("{bn}.weight")].1.len();
        let (w, b) = (&sd[&format!("{bn}.weight")].1, &sd[&format!("{bn}.bias")].1);
        let (m, var) = (
            &sd[&format!("{bn}.running_mean")].1,
            &sd[&format!("{bn}.running_var")].1,
        );
        for (i, v) in h.iter_mut().enumerate() {
            let j = i % c;
            *v = (*v - m[j]) / (var[j] + 1e-3).sqrt() * w[j] + b[j];
        }
    }
    let got: Vec<f32> = linear(&h, n, &sd["dense_3.weight"], &sd["dense_3.bias"])
        .into_iter()
        .map(f32::tanh)
        .collect();
    assert_close("gan images from the PyTorch layout", &got, &want, 1e-4);
}

// ---- the binaries' export: files, refusals ----

fn export_cmd(binary: &str, args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = Command::new(bin(binary))
        .arg("export")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn export_writes_what_is_asked_and_refuses_bad_input() {
    let dir = temp_dir("cli");
    let net = models::mnist_cnn::network(&Cpu, 12).unwrap();
    let ck = save_sequential(&net, "mnist_cnn", &dir);
    let onnx = dir.join("m.onnx");
    let torch = dir.join("m.safetensors");
    let reference = dir.join("m-ref.safetensors");
    let all = [
        "--checkpoint".as_ref(),
        ck.as_os_str(),
        "--onnx".as_ref(),
        onnx.as_os_str(),
        "--pytorch".as_ref(),
        torch.as_os_str(),
        "--reference".as_ref(),
        reference.as_os_str(),
    ];
    let (ok, err) = export_cmd("mnist_cnn", &all);
    assert!(ok, "{err}");
    for p in [&onnx, &torch, &reference] {
        assert!(p.metadata().unwrap().len() > 1000, "{}", p.display());
    }
    let first = std::fs::read(&onnx).unwrap();

    // Existing files are not replaced without --overwrite, and nothing else is written.
    std::fs::remove_file(&torch).unwrap();
    let (ok, err) = export_cmd("mnist_cnn", &all);
    assert!(
        !ok && err.contains("m.onnx") && err.contains("--overwrite"),
        "{err}"
    );
    assert!(!torch.exists(), "a refused export wrote a file");
    assert_eq!(std::fs::read(&onnx).unwrap(), first);

    // Another model's checkpoint is refused by name.
    let gan = gan_checkpoint(&dir);
    let other = dir.join("other.onnx");
    let (ok, err) = export_cmd(
        "mnist_cnn",
        &[
            "--checkpoint".as_ref(),
            gan.as_os_str(),
            "--onnx".as_ref(),
            other.as_os_str(),
        ],
    );
    assert!(
        !ok && err.contains("gan") && err.contains("checkpoint.safetensors"),
        "{err}"
    );
    let (ok, err) = export_cmd(
        "gan",
        &[
            "--checkpoint".as_ref(),
            ck.as_os_str(),
            "--onnx".as_ref(),
            other.as_os_str(),
        ],
    );
    assert!(!ok && err.contains("mnist_cnn"), "{err}");

    // A corrupt checkpoint, a wrong extension, nothing asked for.
    let bad = dir.join("bad.safetensors");
    std::fs::write(&bad, b"not a checkpoint").unwrap();
    let (ok, err) = export_cmd(
        "mnist_cnn",
        &[
            "--checkpoint".as_ref(),
            bad.as_os_str(),
            "--onnx".as_ref(),
            other.as_os_str(),
        ],
    );
    assert!(!ok && err.contains("bad.safetensors"), "{err}");
    let wrong = dir.join("m.pt");
    let (ok, err) = export_cmd(
        "mnist_cnn",
        &[
            "--checkpoint".as_ref(),
            ck.as_os_str(),
            "--pytorch".as_ref(),
            wrong.as_os_str(),
        ],
    );
    assert!(!ok && err.contains(".safetensors"), "{err}");
    let (ok, err) = export_cmd("mnist_cnn", &["--checkpoint".as_ref(), ck.as_os_str()]);
    assert!(!ok && err.contains("nothing to write"), "{err}");
    // One file for two outputs, or the checkpoint as an output, even with --overwrite.
    let twice = dir.join("twice.safetensors");
    let (ok, err) = export_cmd(
        "mnist_cnn",
        &[
            "--checkpoint".as_ref(),
            ck.as_os_str(),
            "--pytorch".as_ref(),
            twice.as_os_str(),
            "--reference".as_ref(),
            twice.as_os_str(),
        ],
    );
    assert!(!ok && err.contains("same file"), "{err}");
    assert!(!twice.exists());
    let before = std::fs::read(&ck).unwrap();
    let (ok, err) = export_cmd(
        "mnist_cnn",
        &[
            "--checkpoint".as_ref(),
            ck.as_os_str(),
            "--pytorch".as_ref(),
            ck.as_os_str(),
            "--overwrite".as_ref(),
        ],
    );
    assert!(!ok && err.contains("--checkpoint and --pytorch"), "{err}");
    assert_eq!(std::fs::read(&ck).unwrap(), before);
    assert!(!other.exists() && !wrong.exists());
}
