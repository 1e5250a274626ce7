//! The `deep_dream` binary's work: options, the network (loaded, or trained once and
//! cached), the dream, and its files.

use super::image::{EXAMPLE_SOURCE, GreyImage, bundled_example, read_image, strip};
use super::{DEFAULT_LAYERS, Dreamer, ITERATIONS, OCTAVE_SCALE, OCTAVES, Recipe, STEP};
use crate::cli::{BackendKind, CommonArgs, write_new_file};
use crate::mnist_cnn;
use clap::Args;
use nn::{Checkpoint, Sequential};
use std::path::{Path, PathBuf};
use tensor::{Backend, Tensor};
use train::{Error, Result};

/// Where the network is cached when `--model` is not given (relative to the working
/// directory): the run directory of its training, `<this>-<steps>steps`.
pub const MODEL_CACHE: &str = "runs/deep_dream/mnist_cnn";
/// Training steps of the cached network: a third of `mnist_cnn`'s 3,000 (its features
/// are formed by then; about 2 minutes here, once: 125 s, 97.15% held out).
pub const MODEL_STEPS: u64 = 1000;

/// The options of `deep_dream`.
#[derive(Args, Clone, Debug)]
pub struct DreamArgs {
    /// The picture to dream on (PNG or JPEG, any size up to 512x512 px, any colour
    /// type; colour is converted to grey). Without it: the bundled example, 8 held-out
    /// MNIST digits.
    pub input: Option<PathBuf>,
    /// Where the dream goes (a .png); the octave strip and the loss log are written
    /// beside it as <name>-octaves.png and <name>-metrics.jsonl
    /// [default: runs/deep_dream/<timestamp>/dream.png, octaves.png, metrics.jsonl].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace output files that already exist.
    #[arg(long)]
    pub overwrite: bool,
    /// Device to run on.
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: BackendKind,
    /// Seed of the network's training when it is not cached yet.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Ascent iterations per octave.
    #[arg(long, default_value_t = ITERATIONS)]
    pub steps: usize,
    /// Number of scales dreamed at, the smallest first.
    #[arg(long, default_value_t = OCTAVES)]
    pub octaves: usize,
    /// Size ratio between successive octaves (at least 1).
    #[arg(long, default_value_t = OCTAVE_SCALE)]
    pub octave_scale: f32,
    /// Gradient-ascent step on the normalised gradient (pixels run 0 to 1; Keras: 0.01).
    #[arg(long, default_value_t = STEP)]
    pub step: f32,
    /// An octave stops once its loss passes this [default: no bound; Keras' 15 is
    /// InceptionV3's scale, and this network's loss stays below 1].
    #[arg(long)]
    pub max_loss: Option<f32>,
    /// Do not clip the picture to 0..1 after every step (Keras does not; the
    /// background then sinks below black, where the dream does not show).
    #[arg(long)]
    pub no_clip: bool,
    /// A layer to dream on and its weight, NAME=WEIGHT (repeatable; names as in
    /// --list-layers) [default: conv2d=1 conv2d_1=2].
    #[arg(long = "layer", value_parser = layer_weight)]
    pub layers: Vec<(String, f32)>,
    /// Print the layers a dream can use (with their sizes on the input) and exit.
    #[arg(long)]
    pub list_layers: bool,
    /// The network: a `model.safetensors` or `checkpoint.safetensors` of an `mnist_cnn`
    /// run [default: the cached one, trained on first use].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Training steps of the network when it is trained here (not with --model).
    #[arg(long, default_value_t = MODEL_STEPS, value_parser = crate::cli::positive_u64)]
    pub model_steps: u64,
    /// No progress lines.
    #[arg(long)]
    pub quiet: bool,
}

/// `NAME=WEIGHT`, the weight a finite number.
pub fn layer_weight(s: &str) -> std::result::Result<(String, f32), String> {
    let (name, weight) = s
        .split_once('=')
        .ok_or_else(|| format!("{s}: expected NAME=WEIGHT, e.g. conv2d_1=1.5"))?;
    let w: f32 = weight
        .parse()
        .map_err(|e| format!("{s}: the weight {weight:?} is not a number ({e})"))?;
    if !w.is_finite() || name.is_empty() {
        return Err(format!("{s}: expected NAME=WEIGHT with a finite weight"));
    }
    Ok((name.to_string(), w))
}

impl DreamArgs {
    /// The recipe these options ask for.
    pub fn recipe(&self) -> Recipe {
        Recipe {
            step: self.step,
            octaves: self.octaves,
            octave_scale: self.octave_scale,
            iterations: self.steps,
            max_loss: self.max_loss,
            clip: (!self.no_clip).then_some((0.0, 1.0)),
        }
    }

    /// The chosen layers, or the defaults.
    pub fn layers(&self) -> Vec<(String, f32)> {
        if self.layers.is_empty() {
            DEFAULT_LAYERS
                .iter()
                .map(|(n, w)| (n.to_string(), *w))
                .collect()
        } else {
            self.layers.clone()
        }
    }
}

/// Loads an `mnist_cnn` network from `path`; another model's file is refused by name.
pub fn load_model<B: Backend>(be: &B, path: &Path) -> Result<Sequential<B>> {
    let ck = Checkpoint::load(path)?;
    match ck.metadata.get(train::MODEL_KEY).map(String::as_str) {
        Some(mnist_cnn::NAME) | None => {}
        Some(other) => {
            return Err(Error::argument(
                "--model",
                format!(
                    "{} holds a {other} model; deep_dream dreams with an {} network \
                     (a model.safetensors or checkpoint.safetensors of an mnist_cnn run)",
                    path.display(),
                    mnist_cnn::NAME
                ),
            ));
        }
    }
    mnist_cnn::load(be, path).map_err(|e| {
        Error::argument(
            "--model",
            format!("{} is not an mnist_cnn network: {e}", path.display()),
        )
    })
}

/// The cached network in `dir` (its `model.safetensors`), trained there first when it
/// is missing (an interrupted training resumes from its checkpoint).
pub fn load_or_train_model<B: Backend>(
    be: &B,
    backend: BackendKind,
    dir: &Path,
    steps: u64,
    seed: u64,
    quiet: bool,
) -> Result<Sequential<B>> {
    let model_file = dir.join(train::fit::MODEL_FILE);
    if model_file.exists() {
        return load_model(be, &model_file);
    }
    let checkpoint = dir.join(train::fit::CHECKPOINT);
    let resume = checkpoint.exists().then_some(checkpoint);
    eprintln!(
        "deep_dream: training the network once ({steps} steps of mnist_cnn, cached in {}){}",
        dir.display(),
        if resume.is_some() { ", resuming" } else { "" }
    );
    let args = CommonArgs {
        backend,
        steps: Some(steps),
        epochs: None,
        batch_size: None,
        lr: None,
        seed,
        data_dir: None,
        out: Some(dir.to_path_buf()),
        overwrite: resume.is_none() && dir.exists(),
        resume,
        sample_every: None,
        checkpoint_every: 250,
        log_every: 50,
        quiet,
    };
    let report = mnist_cnn::train(be.clone(), &args)?;
    if report.end.interrupted {
        return Err(Error::argument(
            "network",
            format!(
                "the network's training was interrupted at step {}; run deep_dream again to resume it",
                report.end.steps
            ),
        ));
    }
    eprintln!(
        "deep_dream: network trained, {:.2}% on the held-out digits",
        100.0 * report.test_accuracy()
    );
    load_model(be, &model_file)
}

/// The files a dream writes.
#[derive(Clone, Debug)]
pub struct Outputs {
    pub dream: PathBuf,
    pub octaves: PathBuf,
    pub metrics: PathBuf,
    /// The grey picture dreamed on (in a default run directory only).
    pub input: Option<PathBuf>,
}

impl Outputs {
    /// `--out NAME.png` and the files beside it, or a new run directory.
    pub fn new(out: Option<&Path>) -> Result<Self> {
        match out {
            Some(path) => {
                let is_png = path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("png"));
                if !is_png {
                    return Err(Error::argument(
                        "--out",
                        format!("{}: name the dream *.png", path.display()),
                    ));
                }
                let stem = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "dream".into());
                Ok(Outputs {
                    dream: path.to_path_buf(),
                    octaves: path.with_file_name(format!("{stem}-octaves.png")),
                    metrics: path.with_file_name(format!("{stem}-metrics.jsonl")),
                    input: None,
                })
            }
            None => {
                let dir = Path::new("runs").join(super::NAME).join(train::timestamp());
                Ok(Outputs {
                    dream: dir.join("dream.png"),
                    octaves: dir.join("octaves.png"),
                    metrics: dir.join("metrics.jsonl"),
                    input: Some(dir.join("input.png")),
                })
            }
        }
    }

    fn all(&self) -> Vec<&Path> {
        let mut v = vec![self.dream.as_path(), &self.octaves, &self.metrics];
        v.extend(self.input.as_deref());
        v
    }

    /// Refuses outputs that exist (without `overwrite`) before any work is done.
    pub fn check(&self, overwrite: bool) -> Result<()> {
        for p in self.all() {
            crate::cli::check_output("--out", p, overwrite)?;
        }
        Ok(())
    }
}

/// What a dream did.
pub struct DreamReport {
    pub outputs: Outputs,
    /// The losses per octave.
    pub losses: Vec<Vec<f32>>,
    /// The chosen layers' mean-square activation on the input and on the dream.
    pub energy_before: Vec<(String, f32)>,
    pub energy_after: Vec<(String, f32)>,
}

/// Prints the layers a dream can use on `model`, with their output sizes on an
/// `height x width` picture.
pub fn list_layers<B: Backend>(
    model: &Sequential<B>,
    be: &B,
    height: usize,
    width: usize,
) -> Result<()> {
    let layers = super::dream_layers(model);
    let last = layers.last().map_or(0, |l| l.0);
    let x = Tensor::zeros(be, [1, height, width, 1])?;
    let outs = tensor::no_grad(|| model.forward_to(&x, nn::Mode::Eval, last))?;
    println!("layers to dream on (output on a {width}x{height} picture):");
    for (i, name, kind) in &layers {
        println!(
            "  {:<32}{}",
            format!("{name} ({kind})"),
            nn::format_shape(outs[*i].dims())
        );
    }
    Ok(())
}

/// Runs `deep_dream` with `args` on backend `be`.
pub fn run<B: Backend>(be: B, args: &DreamArgs) -> Result<Option<DreamReport>> {
    let recipe = args.recipe();
    recipe.check()?;
    let (input, note) = match &args.input {
        Some(path) => read_image(path)?,
        None => {
            eprintln!("deep_dream: no picture given; dreaming on {EXAMPLE_SOURCE}");
            (bundled_example()?, None)
        }
    };
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    let outputs = Outputs::new(args.out.as_deref())?;
    if !args.list_layers {
        outputs.check(args.overwrite)?;
    }
    // The layer names and the picture's size are checked on the network's structure
    // (they do not depend on its weights), before any training.
    let structure = mnist_cnn::network(&be, 0)?;
    if !args.list_layers {
        Dreamer::new(&structure, &args.layers())?.check_size(
            &be,
            input.height,
            input.width,
            &recipe,
        )?;
    }
    let model = match &args.model {
        Some(path) => load_model(&be, path)?,
        // The layers and their sizes do not depend on the weights: no training to list them.
        None if args.list_layers => structure,
        None => {
            let dir = PathBuf::from(format!("{MODEL_CACHE}-{}steps", args.model_steps));
            load_or_train_model(
                &be,
                args.backend,
                &dir,
                args.model_steps,
                args.seed,
                args.quiet,
            )?
        }
    };
    if args.list_layers {
        list_layers(&model, &be, input.height, input.width)?;
        return Ok(None);
    }
    let dreamer = Dreamer::new(&model, &args.layers())?;
    let image = Tensor::from_slice(&be, &input.pixels, [1, input.height, input.width, 1])?;
    let layer_list = dreamer
        .layers()
        .iter()
        .map(|(n, w)| format!("{n}={w}"))
        .collect::<Vec<_>>()
        .join(" ");
    eprintln!(
        "deep_dream: {}x{} px, layers {layer_list}, {} octave(s) at scale {}, {} iterations, step {}, max loss {}",
        input.width,
        input.height,
        recipe.octaves,
        recipe.octave_scale,
        recipe.iterations,
        recipe.step,
        recipe.max_loss.map_or("none".into(), |m| m.to_string())
    );
    let started = std::time::Instant::now();
    let mut rows = String::new();
    let dream = dreamer.dream(&image, &recipe, |it| {
        let row = serde_json::json!({
            "octave": it.octave,
            "iteration": it.iteration,
            "height": it.height,
            "width": it.width,
            "loss": it.loss,
            "elapsed_sec": started.elapsed().as_secs_f64(),
        });
        rows.push_str(&row.to_string());
        rows.push('\n');
        if !args.quiet {
            if it.iteration == 0 {
                eprintln!("octave {} ({}x{} px)", it.octave, it.width, it.height);
            }
            eprintln!(
                "  iteration {:>2}: loss {:.4}{}",
                it.iteration,
                it.loss,
                if it.stops {
                    " (above --max-loss: the octave stops)"
                } else {
                    ""
                }
            );
        }
        Ok(())
    })?;
    let energy_before = dreamer.energies(&image)?;
    let energy_after = dreamer.energies(&dream.image)?;
    let grey = |t: &Tensor<B>| -> Result<GreyImage> {
        let d = t.dims();
        Ok(GreyImage {
            width: d[2],
            height: d[1],
            pixels: t.to_vec()?,
        })
    };
    let result = grey(&dream.image)?;
    let mut panels = vec![input.clone()];
    for o in &dream.octaves {
        panels.push(grey(o)?);
    }
    let octave_strip = strip(&panels, input.height, input.width)?;
    write_new_file("--out", &outputs.metrics, rows.as_bytes(), args.overwrite)?;
    if let Some(path) = &outputs.input {
        write_new_file("--out", path, &input.png_bytes()?, args.overwrite)?;
    }
    write_new_file(
        "--out",
        &outputs.octaves,
        &octave_strip.png_bytes()?,
        args.overwrite,
    )?;
    write_new_file(
        "--out",
        &outputs.dream,
        &result.png_bytes()?,
        args.overwrite,
    )?;
    eprintln!(
        "deep_dream: {:.1} s; activation energy (mean square) input -> dream: {}",
        started.elapsed().as_secs_f64(),
        energy_before
            .iter()
            .zip(&energy_after)
            .map(|((n, a), (_, b))| format!("{n} {a:.4} -> {b:.4}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("dream: {}", outputs.dream.display());
    println!(
        "octaves (input, then each octave): {}",
        outputs.octaves.display()
    );
    Ok(Some(DreamReport {
        outputs,
        losses: dream.losses,
        energy_before,
        energy_after,
    }))
}
