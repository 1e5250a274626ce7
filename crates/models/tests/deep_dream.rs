//! `deep_dream`: the ascent raises what it should on both backends, the octaves put the
//! lost detail back, sizes and layers are checked, and every bad input is a clear
//! error from the binary.

mod common;

use common::{ok, scratch, text};
use models::deep_dream::{Dreamer, Recipe, octave_shapes};
use std::path::Path;
use std::process::{Command, Output};
use tensor::{Backend, Tensor};

/// The first held-out bundled digit enlarged to `h x w`, as `[1, h, w, 1]`.
fn digit<B: Backend>(be: &B, h: usize, w: usize) -> Tensor<B> {
    let mnist = datasets::Mnist::bundled().unwrap();
    let pixels: Vec<f32> = mnist.test.images[..784]
        .iter()
        .map(|&p| f32::from(p) / 255.0)
        .collect();
    Tensor::from_vec(be, pixels, [1, 28, 28, 1])
        .unwrap()
        .resize_bilinear(h, w)
        .unwrap()
}

fn layers(names: &[(&str, f32)]) -> Vec<(String, f32)> {
    names.iter().map(|(n, w)| (n.to_string(), *w)).collect()
}

/// Two octaves of 6 steps on an (untrained) MNIST CNN: the loss rises at every
/// iteration of each octave, and each chosen layer's energy is higher on the dream
/// than on the input. Returns the losses.
fn ascent_rises<B: Backend>(be: &B) -> Vec<Vec<f32>> {
    let model = models::mnist_cnn::network(be, 5).unwrap();
    let dreamer = Dreamer::new(&model, &layers(&[("conv2d", 1.0), ("conv2d_1", 2.0)])).unwrap();
    let image = digit(be, 36, 31);
    let recipe = Recipe {
        step: 0.01,
        octaves: 2,
        iterations: 6,
        ..Recipe::default()
    };
    let mut seen = 0;
    let dream = dreamer
        .dream(&image, &recipe, |_| {
            seen += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(seen, 12, "every iteration is reported");
    assert_eq!(
        dream.image.dims(),
        &[1, 36, 31, 1],
        "the dream has the input's size"
    );
    assert_eq!(
        dream.octaves[0].dims(),
        &[1, 25, 22, 1],
        "36 / 1.4, 31 / 1.4"
    );
    for (octave, losses) in dream.losses.iter().enumerate() {
        assert_eq!(losses.len(), 6);
        for pair in losses.windows(2) {
            assert!(
                pair[1] > pair[0],
                "octave {octave}: the loss fell: {losses:?}"
            );
        }
    }
    let before = dreamer.energies(&image).unwrap();
    let after = dreamer.energies(&dream.image).unwrap();
    for ((name, b), (_, a)) in before.iter().zip(&after) {
        assert!(a > b, "{name}: energy {b} on the input, {a} on the dream");
    }
    // Clipped to the pixel range at every step and after the detail is put back.
    for o in &dream.octaves {
        assert!(o.to_vec().unwrap().iter().all(|v| (0.0..=1.0).contains(v)));
    }
    dream.losses
}

#[test]
fn the_ascent_raises_the_loss_and_the_layers_energy_on_cpu() {
    ascent_rises(&backend_cpu::Cpu);
}

#[cfg(feature = "wgpu")]
#[test]
fn the_ascent_raises_the_loss_and_the_layers_energy_on_wgpu() {
    if common::no_wgpu_adapter() {
        return;
    }
    let gpu = ascent_rises(&backend_wgpu::Wgpu::new().unwrap());
    let cpu = ascent_rises(&backend_cpu::Cpu);
    for (g, c) in gpu.iter().flatten().zip(cpu.iter().flatten()) {
        assert!((g - c).abs() <= 1e-3 * c.abs(), "wgpu {g} vs cpu {c}");
    }
}

/// With a step too small to change a pixel, the octaves give back the input: the first
/// octave is the shrunk original, and each later one adds exactly the detail the
/// shrinking lost (original at that size minus the shrunk original upscaled), so the
/// last is the original. Fails if the lost detail is taken from the dreamed image or
/// from the wrong size.
#[test]
fn without_ascent_the_octaves_give_the_input_back() {
    let be = backend_cpu::Cpu;
    let model = models::mnist_cnn::network(&be, 1).unwrap();
    let dreamer = Dreamer::new(&model, &layers(&[("conv2d_1", 1.0)])).unwrap();
    let image = digit(&be, 37, 29);
    let recipe = Recipe {
        step: 1e-12,
        iterations: 1,
        clip: None,
        ..Recipe::default()
    };
    let dream = dreamer.dream(&image, &recipe, |_| Ok(())).unwrap();
    let (a, b) = (image.to_vec().unwrap(), dream.image.to_vec().unwrap());
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-5, "the dream differs from the input by {worst}");
    // The octaves themselves are the original at their sizes: 37 / 1.96 = 18.9,
    // 29 / 1.96 = 14.8; 37 / 1.4 = 26.4, 29 / 1.4 = 20.7.
    let dims: Vec<Vec<usize>> = dream.octaves.iter().map(|o| o.dims().to_vec()).collect();
    assert_eq!(
        dims,
        vec![vec![1, 18, 14, 1], vec![1, 26, 20, 1], vec![1, 37, 29, 1]]
    );
    let small = image.resize_bilinear(18, 14).unwrap().to_vec().unwrap();
    let first = dream.octaves[0].to_vec().unwrap();
    assert!(small.iter().zip(&first).all(|(a, b)| (a - b).abs() < 1e-6));
}

/// A stopping bound ends an octave after the iteration whose loss passes it.
#[test]
fn an_octave_stops_once_the_loss_passes_the_bound() {
    let be = backend_cpu::Cpu;
    let model = models::mnist_cnn::network(&be, 5).unwrap();
    let dreamer = Dreamer::new(&model, &layers(&[("conv2d", 1.0)])).unwrap();
    let image = digit(&be, 28, 28);
    let first = dreamer.loss(&image).unwrap().to_scalar().unwrap();
    let recipe = Recipe {
        octaves: 2,
        iterations: 5,
        max_loss: Some(first * 0.5),
        ..Recipe::default()
    };
    let dream = dreamer.dream(&image, &recipe, |_| Ok(())).unwrap();
    // Every octave's first loss is already above half the input's: one iteration each.
    assert_eq!(dream.stopped, vec![true, true]);
    assert!(
        dream.losses.iter().all(|l| l.len() == 1),
        "{:?}",
        dream.losses
    );
}

/// Layer names: unknown ones, ones after the Flatten, twice the same, none at all.
#[test]
fn layers_are_checked_by_name() {
    let be = backend_cpu::Cpu;
    let model = models::mnist_cnn::network(&be, 1).unwrap();
    let err = |l: &[(&str, f32)]| Dreamer::new(&model, &layers(l)).err().unwrap().to_string();
    let unknown = err(&[("mixed4", 1.0)]);
    assert!(unknown.contains("mixed4 is not a layer"), "{unknown}");
    for name in ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1"] {
        assert!(unknown.contains(name), "{unknown}");
    }
    assert!(!unknown.contains("dense"), "{unknown}");
    assert!(err(&[("dense", 1.0)]).contains("after the network's Flatten"));
    assert!(err(&[("conv2d", 1.0), ("conv2d", 2.0)]).contains("twice"));
    assert!(err(&[]).contains("no layer chosen"));
}

/// The smallest picture for the default layers at 3 octaves of 1.4, by hand: conv2d_1
/// runs after a 2x2 SAME pool, so its map is ceil(s0 / 2) for a smallest octave of s0,
/// and keeping anything past a 2-pixel border on each side needs ceil(s0 / 2) >= 5,
/// s0 >= 9; s0 = floor(s / 1.96) >= 9 first holds at s = 18 (17 / 1.96 = 8.7).
#[test]
fn the_smallest_picture_is_worked_out_from_the_layers() {
    let be = backend_cpu::Cpu;
    let model = models::mnist_cnn::network(&be, 1).unwrap();
    let dreamer = Dreamer::new(&model, &layers(&[("conv2d", 1.0), ("conv2d_1", 2.0)])).unwrap();
    let recipe = Recipe::default();
    assert_eq!(octave_shapes(18, 18, 3, 1.4)[0], (9, 9));
    assert!(dreamer.check_size(&be, 18, 18, &recipe).is_ok());
    let e = dreamer
        .check_size(&be, 17, 40, &recipe)
        .unwrap_err()
        .to_string();
    assert!(e.contains("40x17 px is too small"), "{e}");
    assert!(e.contains("conv2d_1 is 4x"), "{e}");
    assert!(e.contains("at least 18x18"), "{e}");
    let one = dreamer
        .check_size(&be, 1, 1, &recipe)
        .unwrap_err()
        .to_string();
    assert!(one.contains("the smallest octave would be 0x0"), "{one}");
}

// ---- the binary ----

fn dream(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deep_dream"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// An (untrained) mnist_cnn network saved as a run's model.safetensors would be.
fn model_file(dir: &Path) -> String {
    let model = models::mnist_cnn::network(&backend_cpu::Cpu, 3).unwrap();
    let path = dir.join("model.safetensors");
    train::save_weights(&model, models::mnist_cnn::NAME, &path, &[]).unwrap();
    path.to_string_lossy().into_owned()
}

fn png(path: &Path, w: u32, h: u32, colour: bool) {
    if colour {
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 8) as u8, (y * 8) as u8, 200]))
            .save(path)
            .unwrap();
    } else {
        image::GrayImage::from_fn(w, h, |x, y| image::Luma([((x + y) * 5) as u8]))
            .save(path)
            .unwrap();
    }
}

/// Fails without panicking, and the message contains every one of `want`.
fn refused(out: &Output, want: &[&str]) {
    let (o, e) = text(out);
    assert_eq!(out.status.code(), Some(1), "stdout:\n{o}\nstderr:\n{e}");
    for w in want {
        assert!(e.contains(w), "{w:?} not in:\n{e}");
    }
}

#[test]
fn the_binary_dreams_on_a_colour_picture_and_writes_its_files() {
    let dir = scratch("deep_dream", "colour");
    let model = model_file(&dir);
    png(&dir.join("in.png"), 30, 20, true);
    let args = [
        "in.png",
        "--model",
        &model,
        "--steps",
        "2",
        "--octaves",
        "2",
        "--out",
        "out/d.png",
    ];
    let (stdout, stderr) = ok(&dream(&dir, &args));
    assert!(
        stderr.contains("colour converted to one grey channel"),
        "{stderr}"
    );
    assert!(stdout.contains("out/d.png"), "{stdout}");
    let d = image::open(dir.join("out/d.png")).unwrap();
    assert_eq!((d.width(), d.height()), (30, 20), "the input's size");
    assert_eq!(d.color(), image::ColorType::L8);
    // The input, then 2 octaves, each 30 px wide, 8 px apart.
    let strip = image::open(dir.join("out/d-octaves.png")).unwrap();
    assert_eq!((strip.width(), strip.height()), (3 * 30 + 2 * 8, 20));
    let log = std::fs::read_to_string(dir.join("out/d-metrics.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4, "2 octaves of 2 iterations:\n{log}");
    assert_eq!(rows[0]["octave"], 0);
    assert_eq!(rows[0]["width"], 21, "30 / 1.4");
    assert_eq!(rows[3]["octave"], 1);
    assert!(
        rows.iter()
            .all(|r| r["loss"].as_f64().is_some_and(f64::is_finite))
    );
    // A second run into the same files is refused and leaves them as they are.
    let before = std::fs::read(dir.join("out/d.png")).unwrap();
    refused(
        &dream(&dir, &args),
        &["out/d.png already exists", "--overwrite"],
    );
    assert_eq!(std::fs::read(dir.join("out/d.png")).unwrap(), before);
    ok(&dream(&dir, &[&args[..], &["--overwrite"]].concat()));
}

#[test]
fn the_binary_reads_jpeg_and_lists_layers() {
    let dir = scratch("deep_dream", "jpeg");
    let model = model_file(&dir);
    image::GrayImage::from_fn(40, 26, |x, _| image::Luma([(x * 6) as u8]))
        .save(dir.join("in.jpg"))
        .unwrap();
    let (stdout, _) = ok(&dream(
        &dir,
        &["in.jpg", "--model", &model, "--list-layers"],
    ));
    assert!(stdout.contains("conv2d_1 (Conv2D)"), "{stdout}");
    assert!(
        stdout.contains("(None, 13, 20, 128)"),
        "26x40 halved by the pool:\n{stdout}"
    );
    assert!(!stdout.contains("dense"), "{stdout}");
    let args = [
        "in.jpg", "--model", &model, "--steps", "1", "--out", "j.png", "--quiet",
    ];
    ok(&dream(&dir, &args));
    assert_eq!(image::open(dir.join("j.png")).unwrap().width(), 40);
}

#[test]
fn bad_pictures_are_clear_errors() {
    let dir = scratch("deep_dream", "bad");
    let model = model_file(&dir);
    let run = |input: &str| dream(&dir, &[input, "--model", &model, "--out", "x.png"]);
    refused(&run("missing.png"), &["missing.png"]);
    std::fs::write(dir.join("empty.png"), b"").unwrap();
    refused(&run("empty.png"), &["empty.png", "empty"]);
    std::fs::write(dir.join("text.png"), b"this is not a picture\n").unwrap();
    refused(&run("text.png"), &["text.png", "not a PNG or JPEG"]);
    png(&dir.join("whole.png"), 64, 64, false);
    let bytes = std::fs::read(dir.join("whole.png")).unwrap();
    std::fs::write(dir.join("cut.png"), &bytes[..bytes.len() / 2]).unwrap();
    refused(&run("cut.png"), &["cut.png", "cannot decode"]);
    png(&dir.join("dot.png"), 1, 1, false);
    refused(&run("dot.png"), &["1x1 px is too small", "at least 18x18"]);
    // 1,200,000 pixels: above the 262,144 a dream takes, refused from the header.
    png(&dir.join("huge.png"), 1200, 1000, false);
    refused(
        &run("huge.png"),
        &["huge.png", "1200x1000", "at most 262144 pixels"],
    );
    std::fs::create_dir_all(dir.join("folder.png")).unwrap();
    refused(&run("folder.png"), &["folder.png", "directory"]);
    assert!(!dir.join("x.png").exists(), "no output from a refused run");
}

#[test]
fn bad_options_and_models_are_clear_errors() {
    let dir = scratch("deep_dream", "options");
    let model = model_file(&dir);
    png(&dir.join("in.png"), 32, 32, false);
    let run = |extra: &[&str]| dream(&dir, &[&["in.png", "--model", &model][..], extra].concat());
    refused(
        &run(&["--layer", "mixed4=1"]),
        &["mixed4 is not a layer", "conv2d_1 (Conv2D)"],
    );
    let (_, e) = text(&run(&["--layer", "conv2d"]));
    assert!(e.contains("expected NAME=WEIGHT"), "{e}");
    refused(&run(&["--octave-scale", "0.5"]), &["--octave-scale"]);
    refused(&run(&["--step", "0"]), &["--step"]);
    refused(&run(&["--out", "dream.jpg"]), &["name the dream *.png"]);
    // Another model's checkpoint.
    let mut ck = nn::Checkpoint::new();
    ck.metadata.insert(train::MODEL_KEY.into(), "gan".into());
    ck.save(dir.join("gan.safetensors")).unwrap();
    let gan = dream(&dir, &["in.png", "--model", "gan.safetensors"]);
    refused(&gan, &["gan.safetensors holds a gan model", "mnist_cnn"]);
    std::fs::write(dir.join("junk.safetensors"), b"not a checkpoint").unwrap();
    refused(
        &dream(&dir, &["in.png", "--model", "junk.safetensors"]),
        &["junk.safetensors"],
    );
    assert!(
        !dir.join("runs").exists(),
        "no run directory from a refused run"
    );
}
