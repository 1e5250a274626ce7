//! `<binary> export`: a trained model out of the project, as an ONNX file
//! (`--onnx`), as weights in PyTorch's `state_dict` layout (`--pytorch`), and as a
//! batch of real inputs with this project's outputs on them (`--reference`, for
//! `tools/onnx_check.py` and ONNX Runtime).
//!
//! Every input and output of an exported model keeps the project's layout (images
//! NHWC, sequences `[batch, time, features]`); see [`export::onnx`] for how the graph
//! meets ONNX's NCHW and [`export::pytorch`] for the PyTorch mapping.

use crate::addition_rnn::{self, AdditionArgs};
use crate::{
    acgan, antirectifier, cifar10_cnn, data::load_mnist, gan, mnist_cnn, text_lstm, transfer_cnn,
};
use clap::Args;
use export::onnx::{Dim, Elem, Exporter, Graph, batch_dims, ours, sequential_graph};
use export::pytorch::{self, StateDict};
use nn::{Checkpoint, Mode, Module, Sequential};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tensor::{Backend, Error, Tensor};
use train::Result;

/// The `export` subcommand's options (the same for every binary).
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct ExportArgs {
    /// A checkpoint.safetensors or model.safetensors written by this binary.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Write the model as ONNX (opset 17) to this file (.onnx).
    #[arg(long)]
    pub onnx: Option<PathBuf>,
    /// Write the weights with the names, shapes and orders of the equivalent torch.nn
    /// modules' state_dict to this file (.safetensors).
    #[arg(long)]
    pub pytorch: Option<PathBuf>,
    /// Write a batch of real inputs and this project's outputs on them to this file
    /// (.safetensors), to check another runtime against (tools/onnx_check.py).
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Replace output files that exist.
    #[arg(long)]
    pub overwrite: bool,
}

/// One model ready to be written.
pub struct Exported {
    /// The model's name (the binary's).
    pub model: &'static str,
    pub graph: Graph,
    pub state_dict: StateDict,
    /// The graph's inputs by name (real data), and its outputs by name as this project
    /// computes them.
    pub reference: StateDict,
}

fn argument(reason: String) -> train::Error {
    train::Error::from(nn::Error::from(Error::argument("export", reason)))
}

/// Refuses a checkpoint that another model wrote (by the name it records).
fn check_model(path: &Path, ck: &Checkpoint, name: &str) -> Result<()> {
    match ck.metadata.get(train::MODEL_KEY).map(String::as_str) {
        Some(m) if m != name => Err(argument(format!(
            "{} holds a {m} model, not a {name} model: export it with `{m} export`",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Loads the weights of a `Sequential` model called `name` from `path` (a run's
/// checkpoint or its model.safetensors).
fn load_sequential<B: Backend>(
    model: &Sequential<B>,
    be: &B,
    path: &Path,
    name: &str,
) -> Result<()> {
    let ck = Checkpoint::load(path)?;
    check_model(path, &ck, name)?;
    train::load_weights(model, be, path)?;
    Ok(())
}

fn tensor_entry<B: Backend>(dict: &mut StateDict, name: &str, t: &Tensor<B>) -> Result<()> {
    dict.f32(name.into(), t.dims().to_vec(), t.to_vec()?);
    Ok(())
}

/// A whole `Sequential` model: its graph (input `input`, output `output`), its state
/// dict and its outputs on `x`.
fn sequential_export<B: Backend>(
    model: &'static str,
    net: &Sequential<B>,
    be: &B,
    exporter: &Exporter,
    x: Tensor<B>,
) -> Result<Exported> {
    let sample = x.dims()[1..].to_vec();
    let graph = sequential_graph(exporter, net, be, &sample, model)?;
    let mut state_dict = StateDict::new();
    pytorch::sequential(&mut state_dict, "", net, be, &sample)?;
    let y = net.forward(&x, Mode::Eval)?;
    let mut reference = StateDict::new();
    tensor_entry(&mut reference, "input", &x)?;
    tensor_entry(&mut reference, "output", &y)?;
    Ok(Exported {
        model,
        graph,
        state_dict,
        reference,
    })
}

/// The first `n` held-out bundled digits, `[n, 28, 28, 1]` in [0, 1].
pub fn digits<B: Backend>(be: &B, n: usize) -> Result<Tensor<B>> {
    let mnist = load_mnist(None)?;
    let pixels = mnist.test.to_f32_unit();
    Ok(Tensor::from_vec(
        be,
        pixels[..n * 784].to_vec(),
        [n, 28, 28, 1],
    )?)
}

/// The mnist_cnn classifier: digits `[batch, 28, 28, 1]` in, logits `[batch, 10]` out.
pub fn mnist_cnn<B: Backend>(be: &B, path: &Path) -> Result<Exported> {
    let net = mnist_cnn::network(be, 0)?;
    load_sequential(&net, be, path, mnist_cnn::NAME)?;
    sequential_export(mnist_cnn::NAME, &net, be, &Exporter::new(), digits(be, 8)?)
}

/// The antirectifier MLP (its custom layer written by its own `ToOnnx`).
pub fn antirectifier<B: Backend>(be: &B, path: &Path) -> Result<Exported> {
    let net = antirectifier::network(be, 0)?;
    load_sequential(&net, be, path, antirectifier::NAME)?;
    let exporter = Exporter::new().with_layer::<antirectifier::Antirectifier>();
    sequential_export(antirectifier::NAME, &net, be, &exporter, digits(be, 8)?)
}

/// The transfer_cnn classifier of digits 5-9 (its head after the second stage).
pub fn transfer_cnn<B: Backend>(be: &B, path: &Path) -> Result<Exported> {
    let net = transfer_cnn::network(be, 0)?;
    load_sequential(&net, be, path, transfer_cnn::NAME)?;
    sequential_export(
        transfer_cnn::NAME,
        &net,
        be,
        &Exporter::new(),
        digits(be, 8)?,
    )
}

/// Deterministic pixels in [0, 1) for models whose data are not bundled.
fn pixels<B: Backend>(be: &B, shape: &[usize], seed: u64) -> Result<Tensor<B>> {
    Ok(Tensor::uniform(be, shape.to_vec(), 0.0, 1.0, seed)?)
}

/// The CIFAR-10 CNN: images `[batch, 32, 32, 3]` in [0, 1], logits out. CIFAR-10 is
/// not bundled, so the reference batch is fixed pseudo-random pixels.
pub fn cifar10_cnn<B: Backend>(be: &B, path: &Path) -> Result<Exported> {
    let net = cifar10_cnn::network(be, 0)?;
    load_sequential(&net, be, path, cifar10_cnn::NAME)?;
    let x = pixels(be, &[4, 32, 32, 3], 10)?;
    sequential_export(cifar10_cnn::NAME, &net, be, &Exporter::new(), x)
}

/// The checkpoint's setting `name` (as training recorded it), if any.
fn setting<'a>(ck: &'a Checkpoint, name: &str) -> Option<&'a str> {
    ck.metadata
        .get(&format!("setting.{name}"))
        .map(String::as_str)
}

/// The addition model for the task of `args`; where the checkpoint records the
/// digits, the layers or the reversal, those must be the ones asked for.
pub fn addition_rnn<B: Backend>(be: &B, path: &Path, args: &AdditionArgs) -> Result<Exported> {
    let ck = Checkpoint::load(path)?;
    check_model(path, &ck, addition_rnn::NAME)?;
    for (name, asked) in [
        ("digits", args.digits.to_string()),
        ("layers", args.layers.to_string()),
        ("reverse", args.reverse().to_string()),
    ] {
        if let Some(saved) = setting(&ck, name)
            && saved != asked
        {
            return Err(argument(format!(
                "{} was trained with {name} = {saved}, but the export asks for {asked}: \
                 pass the training's --digits/--layers/--no-reverse",
                path.display()
            )));
        }
    }
    let net = addition_rnn::network(be, args, 0)?;
    train::load_weights(&net, be, path)?;
    let problems = datasets::AdditionProblems::generate(8, args.digits, 1, args.reverse())?;
    let x = Tensor::from_vec(
        be,
        problems.encode_questions(),
        [
            8,
            args.question_len(),
            datasets::ADDITION_ALPHABET.chars().count(),
        ],
    )?;
    sequential_export(addition_rnn::NAME, &net, be, &Exporter::new(), x)
}

/// The character language model: one-hot windows `[batch, 40, vocab]` in, logits of
/// the next character out (vocab from the checkpoint).
pub fn text_lstm<B: Backend>(be: &B, path: &Path) -> Result<Exported> {
    let ck = Checkpoint::load(path)?;
    check_model(path, &ck, text_lstm::NAME)?;
    let vocab = ck
        .tensors
        .iter()
        .find(|(n, _)| n.ends_with("lstm.kernel"))
        .and_then(|(_, (shape, _))| shape.first().copied())
        .ok_or_else(|| argument(format!("{} has no lstm.kernel", path.display())))?;
    let net = text_lstm::network(be, vocab, 0)?;
    train::load_weights(&net, be, path)?;
    let mut x = vec![0.0; 4 * text_lstm::WINDOW * vocab];
    for (i, row) in x.chunks_mut(vocab).enumerate() {
        row[(i * 7 + i / 3) % vocab] = 1.0;
    }
    let x = Tensor::from_vec(be, x, [4, text_lstm::WINDOW, vocab])?;
    sequential_export(text_lstm::NAME, &net, be, &Exporter::new(), x)
}

/// The MLP GAN's generator: latent vectors `[batch, 100]` in, images `[batch, 784]` in
/// [-1, 1] out. The moving average of the weights where the run kept one (what the
/// run's samples come from), else the generator itself.
pub fn gan<B: Backend>(be: &B, path: &Path) -> Result<Exported> {
    let ck = Checkpoint::load(path)?;
    let mut model = gan::Gan::new(be.clone(), gan::GanConfig::default())?;
    model.restore_generator(&ck)?;
    let has_ema = ck.tensors.keys().any(|k| k.starts_with("generator_ema."));
    let g = match &model.generator_ema {
        Some(ema) if has_ema => ema,
        _ => &model.generator,
    };
    let z = model.noise(8, 0)?;
    let mut exported = sequential_export("gan", g, be, &Exporter::new(), z)?;
    exported.graph.metadata(
        "generator",
        if has_ema { "moving average" } else { "trained" },
    );
    Ok(exported)
}

/// The ACGAN's generator: latent vectors `latent` `[batch, 100]` and digits `label`
/// `[batch]` (int64) in, images `image` `[batch, 28, 28, 1]` in [-1, 1] out.
pub fn acgan<B: Backend>(be: &B, path: &Path) -> Result<Exported> {
    let ck = Checkpoint::load(path)?;
    let mut model = acgan::Acgan::new(be.clone(), acgan::AcganConfig::default())?;
    model.restore_generator(&ck)?;
    // The generator samples come from: the weight average where the run kept one.
    let g = model.sampler();
    let latent = acgan::LATENT;
    let mut graph = Graph::new("acgan");
    let z = graph.input("latent", Elem::F32, &[Dim::Batch, Dim::Fixed(latent)]);
    let label = graph.input("label", Elem::I64, &[Dim::Batch]);
    let (dims, table) = export::onnx::param_data(&g.embedding.embeddings)?;
    let table = graph.weight("embedding.embeddings", &dims, &table);
    let e = graph.node(
        "Gather",
        "embedding",
        &[&table, &label.name],
        &[("axis", export::onnx::Attr::Int(0))],
    );
    let h = graph.node("Mul", "latent_times_embedding", &[&z.name, &e], &[]);
    let input = [1, latent];
    let y = Exporter::new().sequential(
        &mut graph,
        &g.cnn,
        be,
        export::onnx::Value::new(h, 2),
        &input,
    )?;
    let y = ours(&mut graph, y);
    let out = g
        .cnn
        .output_shapes(be, &input)?
        .last()
        .cloned()
        .unwrap_or_default();
    graph.output(&y, "image", Elem::F32, &batch_dims(&out));

    let mut state_dict = StateDict::new();
    pytorch::layer_entries(
        &mut state_dict,
        "embedding",
        &g.embedding,
        be,
        &[1],
        None,
        None,
    )?;
    pytorch::sequential(&mut state_dict, "cnn", &g.cnn, be, &[latent])?;

    let z = model.noise(10, 0)?;
    let labels: Vec<usize> = (0..10).collect();
    let images = g.forward(&z, &labels, Mode::Eval)?;
    let mut reference = StateDict::new();
    tensor_entry(&mut reference, "latent", &z)?;
    reference.f32(
        "label".into(),
        vec![10],
        labels.iter().map(|&l| l as f32).collect(),
    );
    tensor_entry(&mut reference, "image", &images)?;
    Ok(Exported {
        model: "acgan",
        graph,
        state_dict,
        reference,
    })
}

/// The toy GAN's generator: noise `[batch, 1]` in, samples `[batch, 1]` out. Its
/// depth and width are read from the checkpoint, its activation from the setting the
/// run recorded.
pub fn toy_gan<B: Backend>(be: &B, path: &Path) -> Result<Exported> {
    let ck = Checkpoint::load(path)?;
    check_model(path, &ck, "toy_gan")?;
    let kernels = ck
        .tensors
        .iter()
        .filter(|(n, _)| n.starts_with("generator.") && n.ends_with(".kernel"))
        .count();
    let hidden = ck
        .tensors
        .get("generator.dense.kernel")
        .and_then(|(shape, _)| shape.get(1).copied())
        .ok_or_else(|| argument(format!("{} has no generator.dense.kernel", path.display())))?;
    let saved = setting(&ck, "activation").unwrap_or("Tanh");
    let kind = <crate::toy_gan::ActivationKind as clap::ValueEnum>::value_variants()
        .iter()
        .find(|k| format!("{k:?}") == saved)
        .copied()
        .ok_or_else(|| argument(format!("{}: unknown activation {saved}", path.display())))?;
    let layers = kernels.saturating_sub(1);
    let net = crate::toy_gan::mlp(
        be,
        layers,
        hidden,
        kind.activation(),
        &mut nn::Seeds::new(0),
    )?;
    ck.restore_module("generator.", &net, be)?;
    let z: Vec<f32> = (0..16)
        .map(|i| -1.0 + 2.0 * (i as f32 + 0.5) / 16.0)
        .collect();
    let z = Tensor::from_vec(be, z, [16, 1])?;
    sequential_export("toy_gan", &net, be, &Exporter::new(), z)
}

/// The reversed softmax regression: one-hot labels `[batch, 10]` in, the pixel
/// distributions `[batch, 784]` (softmax over the pixels) out.
pub fn label_to_image<B: Backend>(be: &B, path: &Path) -> Result<Exported> {
    let ck = Checkpoint::load(path)?;
    check_model(path, &ck, "label_to_image")?;
    let mut seeds = nn::Seeds::new(0);
    let dense = nn::Dense::new(be, 10, 784, &mut seeds)?;
    ck.restore_module("layer.", &dense, be)?;
    let net = Sequential::new()
        .add(dense)
        .add(nn::ActivationLayer(nn::Activation::Softmax));
    let labels = Tensor::from_vec(
        be,
        datasets::one_hot(&(0..10).collect::<Vec<u8>>(), 10),
        [10, 10],
    )?;
    sequential_export("label_to_image", &net, be, &Exporter::new(), labels)
}

/// Writes what `args` asks for; every output is checked before anything is written,
/// each file is written atomically, and a failed write removes the files this export
/// wrote before it (with `--overwrite`, the ones replaced stay replaced).
pub fn write(args: &ExportArgs, exported: &Exported) -> Result<Vec<PathBuf>> {
    let outputs = [
        ("--onnx", &args.onnx, "onnx"),
        ("--pytorch", &args.pytorch, "safetensors"),
        ("--reference", &args.reference, "safetensors"),
    ];
    if outputs.iter().all(|(_, p, _)| p.is_none()) {
        return Err(argument(
            "nothing to write: pass --onnx FILE.onnx, --pytorch FILE.safetensors and/or \
             --reference FILE.safetensors"
                .into(),
        ));
    }
    for (flag, path, ext) in &outputs {
        if let Some(p) = path {
            if p.extension().and_then(|e| e.to_str()) != Some(ext) {
                return Err(argument(format!(
                    "{flag} {}: the file name must end in .{ext}",
                    p.display()
                )));
            }
            crate::cli::check_output(flag, p, args.overwrite)?;
        }
    }
    // No output may be another output or the checkpoint itself (--overwrite would
    // replace it).
    let same = |a: &Path, b: &Path| {
        a == b
            || matches!(
                (std::fs::canonicalize(a), std::fs::canonicalize(b)),
                (Ok(x), Ok(y)) if x == y
            )
    };
    let named: Vec<(&str, &PathBuf)> = std::iter::once(("--checkpoint", &args.checkpoint))
        .chain(
            outputs
                .iter()
                .filter_map(|(f, p, _)| p.as_ref().map(|p| (*f, p))),
        )
        .collect();
    for (i, (fa, a)) in named.iter().enumerate() {
        for (fb, b) in &named[i + 1..] {
            if same(a, b) {
                return Err(argument(format!(
                    "{fa} and {fb} are the same file ({}): give each output its own",
                    b.display()
                )));
            }
        }
    }
    let meta = HashMap::from([
        ("model".to_string(), exported.model.to_string()),
        ("source".to_string(), args.checkpoint.display().to_string()),
    ]);
    // Every file's bytes first, then the files; a failed write removes the ones this
    // export already wrote.
    let mut files: Vec<(&'static str, &PathBuf, Vec<u8>)> = Vec::new();
    if let Some(p) = &args.onnx {
        files.push(("--onnx", p, exported.graph.encode()));
    }
    if let Some(p) = &args.pytorch {
        files.push(("--pytorch", p, exported.state_dict.to_bytes(meta.clone())?));
    }
    if let Some(p) = &args.reference {
        files.push(("--reference", p, exported.reference.to_bytes(meta)?));
    }
    let mut written: Vec<PathBuf> = Vec::new();
    for (flag, path, bytes) in &files {
        if let Err(e) = crate::cli::write_new_file(flag, path, bytes, args.overwrite) {
            if !args.overwrite {
                for p in &written {
                    let _ = std::fs::remove_file(p);
                }
            }
            return Err(e);
        }
        written.push((*path).clone());
    }
    Ok(written)
}

/// The `export` subcommand of a binary: builds the export on the CPU, writes it and
/// reports what was written (or the error, naming the file).
pub fn run_cli(
    binary: &str,
    args: &ExportArgs,
    build: impl FnOnce(&backend_cpu::Cpu, &Path) -> Result<Exported>,
) -> std::process::ExitCode {
    let result = build(&backend_cpu::Cpu, &args.checkpoint).and_then(|e| {
        let written = write(args, &e)?;
        Ok((e, written))
    });
    match result {
        Ok((e, written)) => {
            for p in written {
                eprintln!("{binary}: wrote {}", p.display());
            }
            eprintln!(
                "{binary}: ONNX graph of {} nodes (opset {}): {}",
                e.graph.node_count(),
                export::onnx::OPSET,
                e.graph.op_types().join(", ")
            );
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{binary}: error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
