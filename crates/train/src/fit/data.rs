//! What `fit` trains on: a data set of examples, each an input and its class labels.

use crate::{Error, Result};
use datasets::{Augment, ImageSet};

/// The inputs and labels of a mini-batch.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// The inputs of the examples, row-major, one after the other.
    pub inputs: Vec<f32>,
    /// The class labels of the examples, [`Dataset::labels_per_example`] each.
    pub labels: Vec<usize>,
}

/// A data set `fit` and `evaluate` draw mini-batches from (Keras' `x` and `y`).
///
/// An example is an input of [`Dataset::input_shape`] and a fixed number of class
/// labels: one for a classifier, one per time step for a sequence model.
pub trait Dataset: Send + Sync {
    /// Number of examples.
    fn len(&self) -> usize;

    /// Whether the set has no examples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Shape of one example's input, without the batch dimension.
    fn input_shape(&self) -> Vec<usize>;

    /// Labels per example (the model's output has as many rows of class scores).
    fn labels_per_example(&self) -> usize {
        1
    }

    /// The examples `indices`. `augment` is a seed for random augmentation, given for
    /// training batches only (`None`: the examples as they are).
    fn batch(&self, indices: &[usize], augment: Option<u64>) -> Result<Batch>;
}

/// Examples held in memory: inputs as `f32` rows and class labels, optionally with
/// image augmentation of training batches.
#[derive(Clone, Debug)]
pub struct ArrayDataset {
    inputs: Vec<f32>,
    shape: Vec<usize>,
    labels: Vec<usize>,
    labels_per_example: usize,
    augment: Option<Augment>,
}

impl ArrayDataset {
    /// `labels.len() / labels_per_example` examples whose inputs have `shape` each.
    pub fn new(
        inputs: Vec<f32>,
        shape: &[usize],
        labels: Vec<usize>,
        labels_per_example: usize,
    ) -> Result<Self> {
        let per: usize = shape.iter().product();
        if per == 0 || labels_per_example == 0 {
            return Err(Error::argument(
                "dataset",
                format!(
                    "an example needs a non-empty input shape and labels \
                     (shape {shape:?}, {labels_per_example} labels each)"
                ),
            ));
        }
        let n = labels.len() / labels_per_example;
        if !labels.len().is_multiple_of(labels_per_example) || inputs.len() != n * per {
            return Err(Error::argument(
                "dataset",
                format!(
                    "{} input values and {} labels do not make whole examples of shape \
                     {shape:?} with {labels_per_example} labels each",
                    inputs.len(),
                    labels.len()
                ),
            ));
        }
        Ok(ArrayDataset {
            inputs,
            shape: shape.to_vec(),
            labels,
            labels_per_example,
            augment: None,
        })
    }

    /// The images of `set` as `[rows, cols, channels]` inputs with pixels scaled to
    /// [0, 1], labelled with their classes.
    pub fn from_images(set: &ImageSet) -> Self {
        ArrayDataset {
            inputs: set.to_f32_unit(),
            shape: vec![set.rows, set.cols, set.channels],
            labels: set.labels.iter().map(|&l| l as usize).collect(),
            labels_per_example: 1,
            augment: None,
        }
    }

    /// The images of `set` flattened to `rows * cols * channels` features in [0, 1]
    /// (the input of an MLP).
    pub fn from_images_flat(set: &ImageSet) -> Self {
        let mut data = Self::from_images(set);
        data.shape = vec![set.image_len()];
        data
    }

    /// Augments training batches (random shifts and flips of `[rows, cols, channels]`
    /// images); evaluation batches stay as they are.
    pub fn augmented(mut self, augment: Augment) -> Result<Self> {
        if self.shape.len() != 3 {
            return Err(Error::argument(
                "dataset",
                format!(
                    "augmentation needs image inputs [rows, cols, channels], not {:?}",
                    self.shape
                ),
            ));
        }
        self.augment = (!augment.is_identity()).then_some(augment);
        Ok(self)
    }

    /// The class labels, [`Dataset::labels_per_example`] per example.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The inputs, one example after the other.
    pub fn inputs(&self) -> &[f32] {
        &self.inputs
    }
}

impl Dataset for ArrayDataset {
    fn len(&self) -> usize {
        self.labels.len() / self.labels_per_example
    }

    fn input_shape(&self) -> Vec<usize> {
        self.shape.clone()
    }

    fn labels_per_example(&self) -> usize {
        self.labels_per_example
    }

    fn batch(&self, indices: &[usize], augment: Option<u64>) -> Result<Batch> {
        let per: usize = self.shape.iter().product();
        let mut inputs = datasets::gather_rows(&self.inputs, per, indices)?;
        let labels = datasets::gather_rows(&self.labels, self.labels_per_example, indices)?;
        if let (Some(aug), Some(seed)) = (&self.augment, augment) {
            let (rows, cols, channels) = (self.shape[0], self.shape[1], self.shape[2]);
            aug.apply_batch(&mut inputs, indices.len(), rows, cols, channels, seed)?;
        }
        Ok(Batch { inputs, labels })
    }
}
