//! `deep_dream`: gradient ascent on an image to strengthen what chosen layers of a
//! trained network respond to (SEEDS.md section 8, Keras' `deep_dream` example).
//!
//! The recipe is Keras': the loss is a weighted sum, over the chosen layers, of the
//! mean square of their activations (the sum runs over the map without its 2-pixel
//! border and is divided by the size of the whole map); the gradient with respect to
//! the *image* is divided by its mean absolute value and added with a fixed step;
//! this runs at 3 scales ("octaves", each 1.4 times the one before, the smallest
//! first), 20 iterations each, and an octave stops early once the loss passes
//! `max_loss`. Between octaves the detail the shrinking lost is put back: the original
//! at the new size minus the shrunk original upscaled to it.
//!
//! Two departures, both because the network reads bounded pixels (0 black to 1 white)
//! and a digit picture is mostly black: every step's picture is clipped to 0..1 (an
//! ascent without it pushes the background below black, where no picture shows it),
//! and the step is 0.03 rather than 0.01 (see [`STEP`]). `max_loss` has no default
//! (see [`KERAS_MAX_LOSS`]).
//!
//! Keras dreams with InceptionV3 downloaded from the internet; ours dreams with the
//! project's own MNIST CNN ([`crate::mnist_cnn`]), so it grows strokes. The layers a
//! dream can use are those before the network's `Flatten` (their outputs are images of
//! any size); [`dream_layers`] lists them.
//!
//! ```
//! use models::deep_dream::{Dreamer, Recipe};
//! let be = backend_cpu::Cpu;
//! let model = models::mnist_cnn::network(&be, 1)?;
//! let dreamer = Dreamer::new(&model, &[("conv2d_1".to_string(), 1.0)])?;
//! let image = tensor::Tensor::full(&be, [1, 24, 24, 1], 0.5)?;
//! let recipe = Recipe { octaves: 1, iterations: 3, ..Recipe::default() };
//! let dream = dreamer.dream(&image, &recipe, |_| Ok(()))?;
//! assert!(dream.losses[0][2] > dream.losses[0][0]);
//! # Ok::<(), train::Error>(())
//! ```

pub mod image;
pub mod run;

use nn::{Mode, Module, Sequential};
use tensor::{Backend, Tensor, no_grad};
use train::{Error, Result};

/// The program's name (run directories, messages).
pub const NAME: &str = "deep_dream";
/// The step the normalised gradient is added with. Keras' is 0.01 (on pixels from -1
/// to 1); on the MNIST CNN, with pixels from 0 to 1 and the picture clipped to them,
/// 0.01 only thickens the strokes of the example (the mean square of `conv2d_1` goes
/// from 0.0106 to 0.0176) and 0.03 grows new ones (to 0.0279).
pub const STEP: f32 = 0.03;
/// Keras' step, for `--step` users comparing with the original.
pub const KERAS_STEP: f32 = 0.01;
/// Keras' number of octaves.
pub const OCTAVES: usize = 3;
/// Keras' ratio between the sizes of successive octaves.
pub const OCTAVE_SCALE: f32 = 1.4;
/// Keras' ascent iterations per octave.
pub const ITERATIONS: usize = 20;
/// Keras' bound on the loss, above which an octave stops. It is InceptionV3's scale:
/// the MNIST CNN's loss stays below 1 (0.03 to 0.07 on the example), so by default no
/// bound is set and `--max-loss` sets one.
pub const KERAS_MAX_LOSS: f32 = 15.0;
/// Pixels trimmed from every side of an activation map before its squares are summed.
pub const BORDER: usize = 2;
/// The layers and weights dreamed on when none are chosen: both convolutions of the
/// MNIST CNN, the deeper one weighted more (as Keras weights its deeper mixed blocks).
pub const DEFAULT_LAYERS: &[(&str, f32)] = &[("conv2d", 1.0), ("conv2d_1", 2.0)];

/// How a dream runs (the defaults are Keras').
#[derive(Clone, Debug, PartialEq)]
pub struct Recipe {
    /// Gradient-ascent step on the normalised gradient.
    pub step: f32,
    /// Number of scales, the smallest first.
    pub octaves: usize,
    /// Size ratio between successive octaves.
    pub octave_scale: f32,
    /// Ascent iterations per octave.
    pub iterations: usize,
    /// An octave stops after the iteration whose loss passes this (`None`: never).
    pub max_loss: Option<f32>,
    /// The range the image is clipped to after every step and after the detail is put
    /// back (`None`: not clipped).
    pub clip: Option<(f32, f32)>,
}

impl Default for Recipe {
    fn default() -> Self {
        Recipe {
            step: STEP,
            octaves: OCTAVES,
            octave_scale: OCTAVE_SCALE,
            iterations: ITERATIONS,
            max_loss: None,
            clip: Some((0.0, 1.0)),
        }
    }
}

impl Recipe {
    /// Refuses settings that cannot run: a step that is not a positive number, no
    /// octave, a scale below 1, no iteration, a bound that is not a number.
    pub fn check(&self) -> Result<()> {
        let bad = |what: &'static str, reason: String| Err(Error::argument(what, reason));
        if !(self.step.is_finite() && self.step > 0.0) {
            return bad("--step", format!("{} is not a number above 0", self.step));
        }
        if self.octaves == 0 {
            return bad("--octaves", "at least 1 octave is needed".into());
        }
        if !(self.octave_scale.is_finite() && self.octave_scale >= 1.0) {
            return bad(
                "--octave-scale",
                format!(
                    "{} is not a ratio of at least 1 (each octave is this much larger than the one before)",
                    self.octave_scale
                ),
            );
        }
        if self.iterations == 0 {
            return bad(
                "--steps",
                "at least 1 iteration per octave is needed".into(),
            );
        }
        if let Some(m) = self.max_loss.filter(|m| !m.is_finite()) {
            return bad("--max-loss", format!("{m} is not a finite number"));
        }
        if let Some((lo, hi)) = self
            .clip
            .filter(|(lo, hi)| !(lo < hi && lo.is_finite() && hi.is_finite()))
        {
            return bad("clip", format!("{lo}..{hi} is not a range of numbers"));
        }
        Ok(())
    }
}

/// The octave sizes for an image of `height x width`, the smallest first and the
/// image's own size last: octave `i` from the top is `floor(side / scale^i)` (Keras').
pub fn octave_shapes(
    height: usize,
    width: usize,
    octaves: usize,
    scale: f32,
) -> Vec<(usize, usize)> {
    let mut shapes: Vec<(usize, usize)> = (0..octaves)
        .map(|i| {
            let f = (scale as f64).powi(i as i32);
            (
                (height as f64 / f).floor() as usize,
                (width as f64 / f).floor() as usize,
            )
        })
        .collect();
    shapes.reverse();
    shapes
}

/// The layers of `model` a dream can use: `(index, name, kind)` of every layer before
/// the first `Flatten` (whose outputs are images of any size).
pub fn dream_layers<B: Backend>(model: &Sequential<B>) -> Vec<(usize, String, String)> {
    model
        .layers()
        .iter()
        .enumerate()
        .map(|(i, (name, layer))| (i, name.clone(), layer.kind()))
        .take_while(|(_, _, kind)| kind != "Flatten")
        .collect()
}

/// The result of [`Dreamer::dream`].
pub struct Dream<B: Backend> {
    /// The dream at the input's size (clipped as the recipe says).
    pub image: Tensor<B>,
    /// Each octave's image after its ascent and the detail put back, smallest first.
    pub octaves: Vec<Tensor<B>>,
    /// The loss at every iteration, per octave (before that iteration's step).
    pub losses: Vec<Vec<f32>>,
    /// Whether each octave stopped at `max_loss`.
    pub stopped: Vec<bool>,
}

/// One iteration, as reported to the caller of [`Dreamer::dream`].
#[derive(Clone, Copy, Debug)]
pub struct Iteration {
    /// Octave, from 0 (the smallest).
    pub octave: usize,
    /// Iteration within the octave, from 0.
    pub iteration: usize,
    pub height: usize,
    pub width: usize,
    /// The loss before this iteration's step.
    pub loss: f32,
    /// Whether the loss passed `max_loss`, so the octave stops after this step.
    pub stops: bool,
}

/// Gradient ascent on images for chosen layers of a network.
pub struct Dreamer<'m, B: Backend> {
    model: &'m Sequential<B>,
    /// `(layer index, name, weight)`.
    picks: Vec<(usize, String, f32)>,
    /// The deepest chosen layer: the forward pass stops there.
    last: usize,
}

impl<'m, B: Backend> Dreamer<'m, B> {
    /// Dreams on the layers named in `layers` (summary names, e.g. `conv2d_1`) with
    /// their weights. An unknown or unusable name is an error listing the valid ones.
    pub fn new(model: &'m Sequential<B>, layers: &[(String, f32)]) -> Result<Self> {
        let valid = dream_layers(model);
        let names = || {
            valid
                .iter()
                .map(|(_, n, k)| format!("{n} ({k})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if layers.is_empty() {
            return Err(Error::argument(
                "--layer",
                format!("no layer chosen; the layers to dream on: {}", names()),
            ));
        }
        let mut picks = Vec::with_capacity(layers.len());
        for (name, weight) in layers {
            let Some((index, _, _)) = valid.iter().find(|(_, n, _)| n == name) else {
                let after = if model.layers().iter().any(|(n, _)| n == name) {
                    " is after the network's Flatten, so its output is not an image and \
                     depends on the input's size"
                } else {
                    " is not a layer of the network"
                };
                return Err(Error::argument(
                    "--layer",
                    format!("{name}{after}; the layers to dream on: {}", names()),
                ));
            };
            if !weight.is_finite() {
                return Err(Error::argument(
                    "--layer",
                    format!("{name}={weight}: the weight is not a finite number"),
                ));
            }
            if picks.iter().any(|(i, _, _)| i == index) {
                return Err(Error::argument(
                    "--layer",
                    format!("{name} is chosen twice"),
                ));
            }
            picks.push((*index, name.clone(), *weight));
        }
        let last = picks.iter().map(|p| p.0).max().unwrap_or(0);
        Ok(Dreamer { model, picks, last })
    }

    /// The chosen layers and their weights.
    pub fn layers(&self) -> Vec<(String, f32)> {
        self.picks.iter().map(|(_, n, w)| (n.clone(), *w)).collect()
    }

    fn features(&self, image: &Tensor<B>) -> Result<Vec<Tensor<B>>> {
        Ok(self.model.forward_to(image, Mode::Eval, self.last)?)
    }

    /// The chosen layers' activation shapes `[1, h, w, c]` for an `height x width`
    /// one-channel image.
    pub fn activation_shapes(
        &self,
        be: &B,
        height: usize,
        width: usize,
    ) -> Result<Vec<Vec<usize>>> {
        no_grad(|| {
            let x = Tensor::zeros(be, [1, height, width, 1])?;
            let out = self.features(&x)?;
            Ok(self
                .picks
                .iter()
                .map(|(i, _, _)| out[*i].dims().to_vec())
                .collect())
        })
    }

    /// Refuses an image whose smallest octave is too small for a chosen layer's map to
    /// keep anything once its border is trimmed; names the smallest input that works.
    pub fn check_size(&self, be: &B, height: usize, width: usize, recipe: &Recipe) -> Result<()> {
        let fits = |h: usize, w: usize| -> Result<Option<String>> {
            let (sh, sw) = octave_shapes(h, w, recipe.octaves, recipe.octave_scale)[0];
            if sh == 0 || sw == 0 {
                return Ok(Some(format!("the smallest octave would be {sh}x{sw} px")));
            }
            for ((_, name, _), dims) in self.picks.iter().zip(self.activation_shapes(be, sh, sw)?) {
                if dims[1] <= 2 * BORDER || dims[2] <= 2 * BORDER {
                    return Ok(Some(format!(
                        "at the smallest octave ({sh}x{sw} px) layer {name} is {}x{}, and trimming \
                         its {BORDER}-pixel border leaves nothing",
                        dims[1], dims[2]
                    )));
                }
            }
            Ok(None)
        };
        let Some(problem) = fits(height, width)? else {
            return Ok(());
        };
        let mut side = 1;
        while fits(side, side)?.is_some() && side < 4096 {
            side += 1;
        }
        Err(Error::argument(
            "image",
            format!(
                "{width}x{height} px is too small: {problem}; with {} octave(s) at scale {} the \
                 image needs at least {side}x{side} px",
                recipe.octaves, recipe.octave_scale
            ),
        ))
    }

    /// The dream loss of `image` (`[1, h, w, 1]`): the weighted sum over the chosen
    /// layers of `sum(a[:, 2:-2, 2:-2, :]^2) / size(a)`.
    pub fn loss(&self, image: &Tensor<B>) -> Result<Tensor<B>> {
        let features = self.features(image)?;
        let mut total: Option<Tensor<B>> = None;
        for (index, name, weight) in &self.picks {
            let a = &features[*index];
            let [_, h, w, _] = a.dims() else {
                return Err(Error::argument(
                    "--layer",
                    format!("{name} gives a {:?} output, not an image", a.dims()),
                ));
            };
            let (h, w) = (*h, *w);
            if h <= 2 * BORDER || w <= 2 * BORDER {
                return Err(Error::argument(
                    "image",
                    format!(
                        "layer {name} is {h}x{w}: nothing is left once its {BORDER}-pixel border is trimmed"
                    ),
                ));
            }
            let inner = a
                .narrow(1, BORDER, h - BORDER)?
                .narrow(2, BORDER, w - BORDER)?;
            let term = inner
                .square()?
                .sum_all()?
                .mul_scalar(weight / a.numel() as f32)?;
            total = Some(match total {
                Some(t) => t.add(&term)?,
                None => term,
            });
        }
        total.ok_or_else(|| Error::argument("--layer", "no layer chosen"))
    }

    /// The mean square of each chosen layer's whole activation map on `image`: the
    /// energy a dream raises.
    pub fn energies(&self, image: &Tensor<B>) -> Result<Vec<(String, f32)>> {
        no_grad(|| {
            let features = self.features(image)?;
            self.picks
                .iter()
                .map(|(i, n, _)| Ok((n.clone(), features[*i].square()?.mean_all()?.to_scalar()?)))
                .collect()
        })
    }

    /// One ascent step: returns the loss at `image` and `image + step * g / max(mean|g|,
    /// 1e-6)`, `g` the loss's gradient with respect to the image, clipped to `clip`.
    pub fn ascent_step(
        &self,
        image: &Tensor<B>,
        step: f32,
        clip: Option<(f32, f32)>,
    ) -> Result<(f32, Tensor<B>)> {
        let x = image.detach().requires_grad();
        let loss = self.loss(&x)?;
        let grads = loss.backward()?;
        let value = loss.to_scalar()?;
        if !value.is_finite() {
            return Err(Error::argument(
                "dream",
                format!("the loss is {value}: the image or the network holds a NaN or infinity"),
            ));
        }
        let g = grads
            .get(&x)
            .ok_or_else(|| Error::argument("dream", "the loss does not depend on the image"))?;
        let next = no_grad(|| -> Result<Tensor<B>> {
            let scale = g.abs()?.mean_all()?.clamp(1e-6, f32::MAX)?;
            let y = x.detach().add(&g.div(&scale)?.mul_scalar(step)?)?;
            Ok(match clip {
                Some((lo, hi)) => y.clamp(lo, hi)?,
                None => y,
            })
        })?;
        Ok((value, next))
    }

    /// Runs the recipe on `image` (`[1, h, w, 1]`, pixels 0 to 1); `on_iteration` sees
    /// every iteration (to print or log it) and may stop the dream with an error.
    pub fn dream(
        &self,
        image: &Tensor<B>,
        recipe: &Recipe,
        mut on_iteration: impl FnMut(&Iteration) -> Result<()>,
    ) -> Result<Dream<B>> {
        recipe.check()?;
        let [1, height, width, 1] = image.dims() else {
            return Err(Error::argument(
                "image",
                format!(
                    "a dream takes one 1-channel image [1, h, w, 1], not {:?}",
                    image.dims()
                ),
            ));
        };
        let (height, width) = (*height, *width);
        self.check_size(image.backend(), height, width, recipe)?;
        let original = image.detach();
        let shapes = octave_shapes(height, width, recipe.octaves, recipe.octave_scale);
        let (h0, w0) = shapes[0];
        let mut shrunk = original.resize_bilinear(h0, w0)?;
        let mut img = original.clone();
        let mut dream = Dream {
            image: original.clone(),
            octaves: Vec::new(),
            losses: Vec::new(),
            stopped: Vec::new(),
        };
        for (octave, &(h, w)) in shapes.iter().enumerate() {
            img = no_grad(|| img.resize_bilinear(h, w))?;
            let mut losses = Vec::with_capacity(recipe.iterations);
            let mut stopped = false;
            for iteration in 0..recipe.iterations {
                let (loss, next) = self.ascent_step(&img, recipe.step, recipe.clip)?;
                img = next;
                losses.push(loss);
                let stops = recipe.max_loss.is_some_and(|m| loss > m);
                on_iteration(&Iteration {
                    octave,
                    iteration,
                    height: h,
                    width: w,
                    loss,
                    stops,
                })?;
                if stops {
                    stopped = true;
                    break;
                }
            }
            img = no_grad(|| -> Result<Tensor<B>> {
                let upscaled_shrunk = shrunk.resize_bilinear(h, w)?;
                let same_size = original.resize_bilinear(h, w)?;
                let lost_detail = same_size.sub(&upscaled_shrunk)?;
                shrunk = same_size;
                let back = img.add(&lost_detail)?;
                Ok(match recipe.clip {
                    Some((lo, hi)) => back.clamp(lo, hi)?,
                    None => back,
                })
            })?;
            dream.octaves.push(img.clone());
            dream.losses.push(losses);
            dream.stopped.push(stopped);
        }
        dream.image = img;
        Ok(dream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keras' sizes for a 224x112 image at 1.4: 224 / 1.96 = 114.3, 224 / 1.4 = 160,
    /// 112 / 1.96 = 57.1, 112 / 1.4 = 80.
    #[test]
    fn octaves_shrink_by_the_scale_smallest_first() {
        assert_eq!(
            octave_shapes(112, 224, 3, 1.4),
            vec![(57, 114), (80, 160), (112, 224)]
        );
        assert_eq!(octave_shapes(10, 7, 1, 1.4), vec![(10, 7)]);
    }

    #[test]
    fn recipes_that_cannot_run_are_refused() {
        let ok = Recipe::default();
        assert!(ok.check().is_ok());
        for (bad, flag) in [
            (
                Recipe {
                    step: 0.0,
                    ..ok.clone()
                },
                "--step",
            ),
            (
                Recipe {
                    step: f32::NAN,
                    ..ok.clone()
                },
                "--step",
            ),
            (
                Recipe {
                    octaves: 0,
                    ..ok.clone()
                },
                "--octaves",
            ),
            (
                Recipe {
                    octave_scale: 0.5,
                    ..ok.clone()
                },
                "--octave-scale",
            ),
            (
                Recipe {
                    iterations: 0,
                    ..ok.clone()
                },
                "--steps",
            ),
            (
                Recipe {
                    max_loss: Some(f32::INFINITY),
                    ..ok.clone()
                },
                "--max-loss",
            ),
            (
                Recipe {
                    clip: Some((1.0, 0.0)),
                    ..ok.clone()
                },
                "clip",
            ),
        ] {
            let err = bad.check().unwrap_err().to_string();
            assert!(err.contains(flag), "{err}");
        }
    }
}
