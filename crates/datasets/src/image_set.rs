//! A labelled set of images held as bytes, channels-last.

use std::path::Path;

use crate::error::{DatasetError, Result};
use crate::idx::{self, IdxImages};
use crate::normalize;

/// Labelled images, NHWC: image `i` is `images[i*h*w*c..(i+1)*h*w*c]`, pixel
/// `(r, col, ch)` of it at `(r*cols + col)*channels + ch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSet {
    /// `count * rows * cols * channels` pixel bytes.
    pub images: Vec<u8>,
    /// One class index per image, each `< num_classes`.
    pub labels: Vec<u8>,
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub channels: usize,
    pub num_classes: usize,
}

impl ImageSet {
    /// Builds a set after checking that the sizes agree and every label is a class.
    pub fn new(
        images: Vec<u8>,
        labels: Vec<u8>,
        rows: usize,
        cols: usize,
        channels: usize,
        num_classes: usize,
    ) -> Result<Self> {
        idx::check_num_classes(num_classes)?;
        let count = labels.len();
        let expected = count
            .checked_mul(rows)
            .and_then(|n| n.checked_mul(cols))
            .and_then(|n| n.checked_mul(channels));
        if expected != Some(images.len()) {
            return Err(DatasetError::invalid(format!(
                "{} image bytes for {count} labels of {rows}x{cols}x{channels}",
                images.len()
            )));
        }
        if let Some(i) = labels.iter().position(|&l| l as usize >= num_classes) {
            return Err(DatasetError::invalid(format!(
                "label {} at index {i} is out of range for {num_classes} classes",
                labels[i]
            )));
        }
        Ok(ImageSet {
            images,
            labels,
            count,
            rows,
            cols,
            channels,
            num_classes,
        })
    }

    /// Joins an IDX image file's content with its labels; the counts must agree.
    pub fn from_idx(
        images: IdxImages,
        labels: Vec<u8>,
        num_classes: usize,
        images_path: &Path,
        labels_path: &Path,
    ) -> Result<Self> {
        if images.count != labels.len() {
            return Err(DatasetError::CountMismatch {
                images_path: images_path.to_path_buf(),
                labels_path: labels_path.to_path_buf(),
                images: images.count,
                labels: labels.len(),
            });
        }
        idx::check_num_classes(num_classes)?;
        idx::check_labels(&labels, num_classes, labels_path)?;
        Ok(ImageSet {
            images: images.pixels,
            labels,
            count: images.count,
            rows: images.rows,
            cols: images.cols,
            channels: 1,
            num_classes,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes per image: `rows * cols * channels`.
    pub fn image_len(&self) -> usize {
        self.rows * self.cols * self.channels
    }

    /// `[count, rows, cols, channels]`, the NHWC tensor shape.
    pub fn shape(&self) -> [usize; 4] {
        [self.count, self.rows, self.cols, self.channels]
    }

    /// The pixels of image `i` (HWC), or `None` past the end.
    pub fn image(&self, i: usize) -> Option<&[u8]> {
        let n = self.image_len();
        self.images
            .get(i.checked_mul(n)?..i.checked_add(1)?.checked_mul(n)?)
    }

    /// The label of image `i`, or `None` past the end.
    pub fn label(&self, i: usize) -> Option<u8> {
        self.labels.get(i).copied()
    }

    /// All pixels as `f32` in `[0, 1]` (`p / 255`).
    pub fn to_f32_unit(&self) -> Vec<f32> {
        normalize::u8_to_unit(&self.images)
    }

    /// All pixels as `f32` in `[-1, 1]` (`p / 127.5 - 1`), the GAN convention.
    pub fn to_f32_signed(&self) -> Vec<f32> {
        normalize::u8_to_signed(&self.images)
    }

    /// Labels one-hot encoded, `[count, num_classes]`.
    pub fn labels_one_hot(&self) -> Vec<f32> {
        one_hot(&self.labels, self.num_classes)
    }

    /// Number of images of each class, indexed by class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0usize; self.num_classes];
        for &l in &self.labels {
            counts[l as usize] += 1;
        }
        counts
    }

    /// Keeps only the images whose label is in `keep`, in their original order.
    /// With `relabel`, class `keep[j]` becomes `j` and the set has `keep.len()`
    /// classes (digits 5-9 with `keep = [5,6,7,8,9]` become 0-4).
    pub fn filter_classes(&self, keep: &[u8], relabel: bool) -> Result<ImageSet> {
        let mut map = [None::<u8>; 256];
        for (j, &c) in keep.iter().enumerate() {
            if c as usize >= self.num_classes {
                return Err(DatasetError::invalid(format!(
                    "class {c} to keep is out of range for {} classes",
                    self.num_classes
                )));
            }
            if map[c as usize].is_some() {
                return Err(DatasetError::invalid(format!(
                    "class {c} listed twice in keep"
                )));
            }
            map[c as usize] = Some(if relabel { j as u8 } else { c });
        }
        if keep.is_empty() {
            return Err(DatasetError::invalid("keep lists no class"));
        }
        let n = self.image_len();
        let mut images = Vec::new();
        let mut labels = Vec::new();
        for (i, &l) in self.labels.iter().enumerate() {
            if let Some(new_label) = map[l as usize] {
                images.extend_from_slice(&self.images[i * n..(i + 1) * n]);
                labels.push(new_label);
            }
        }
        Ok(ImageSet {
            count: labels.len(),
            images,
            labels,
            rows: self.rows,
            cols: self.cols,
            channels: self.channels,
            num_classes: if relabel {
                keep.len()
            } else {
                self.num_classes
            },
        })
    }

    /// The images at `indices`, in that order (repeats allowed).
    pub fn select(&self, indices: &[usize]) -> Result<ImageSet> {
        let n = self.image_len();
        let mut images = Vec::with_capacity(indices.len() * n);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            let img = self.image(i).ok_or_else(|| {
                DatasetError::invalid(format!("index {i} out of range for {} images", self.count))
            })?;
            images.extend_from_slice(img);
            labels.push(self.labels[i]);
        }
        Ok(ImageSet {
            count: labels.len(),
            images,
            labels,
            ..self.empty_like()
        })
    }

    /// Splits into the first `n` images (or all, if fewer) and the rest.
    pub fn split_at(&self, n: usize) -> (ImageSet, ImageSet) {
        let n = n.min(self.count);
        let cut = n * self.image_len();
        let first = ImageSet {
            images: self.images[..cut].to_vec(),
            labels: self.labels[..n].to_vec(),
            count: n,
            ..self.empty_like()
        };
        let second = ImageSet {
            images: self.images[cut..].to_vec(),
            labels: self.labels[n..].to_vec(),
            count: self.count - n,
            ..self.empty_like()
        };
        (first, second)
    }

    /// The first `n` images (or all, if fewer).
    pub fn take(&self, n: usize) -> ImageSet {
        self.split_at(n).0
    }

    /// Swaps rows and columns of every image. EMNIST files store images
    /// transposed relative to MNIST; this puts them upright.
    pub fn transpose_hw(&mut self) {
        let (r, c, ch) = (self.rows, self.cols, self.channels);
        let n = self.image_len();
        let mut out = vec![0u8; self.images.len()];
        for (src, dst) in self.images.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
            for y in 0..r {
                for x in 0..c {
                    let s = (y * c + x) * ch;
                    let d = (x * r + y) * ch;
                    dst[d..d + ch].copy_from_slice(&src[s..s + ch]);
                }
            }
        }
        self.images = out;
        std::mem::swap(&mut self.rows, &mut self.cols);
    }

    /// Writes the set as an IDX image file and an IDX label file (atomically;
    /// gzipped where a path ends in `.gz`). Only single-channel sets fit IDX3.
    pub fn write_idx(
        &self,
        images_path: impl AsRef<Path>,
        labels_path: impl AsRef<Path>,
    ) -> Result<()> {
        if self.channels != 1 {
            return Err(DatasetError::invalid(format!(
                "IDX3 holds single-channel images; this set has {} channels",
                self.channels
            )));
        }
        idx::write_idx_images(images_path, &self.images, self.count, self.rows, self.cols)?;
        idx::write_idx_labels(labels_path, &self.labels)
    }

    fn empty_like(&self) -> ImageSet {
        ImageSet {
            images: Vec::new(),
            labels: Vec::new(),
            count: 0,
            rows: self.rows,
            cols: self.cols,
            channels: self.channels,
            num_classes: self.num_classes,
        }
    }
}

/// One-hot encodes class indices: `[labels.len(), num_classes]`. Labels
/// `>= num_classes` give an all-zero row.
pub fn one_hot(labels: &[u8], num_classes: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; labels.len() * num_classes];
    for (i, &l) in labels.iter().enumerate() {
        if (l as usize) < num_classes {
            out[i * num_classes + l as usize] = 1.0;
        }
    }
    out
}

#[cfg(feature = "ndarray")]
impl ImageSet {
    /// The pixels as an `ndarray` view `[count, rows, cols, channels]` over
    /// `self.images`, without a copy (feature `ndarray`, on by default).
    ///
    /// ```
    /// let mnist = datasets::Mnist::bundled()?;
    /// let images = mnist.test.view()?;
    /// assert_eq!(images.shape(), &[2000, 28, 28, 1]);
    /// // The first test digit's centre pixel, and the mean brightness of digit 0.
    /// let centre = images[[0, 14, 14, 0]];
    /// let mean = images.index_axis(ndarray::Axis(0), 0).mapv(f32::from).mean().unwrap();
    /// assert!(mean > 0.0 && mean < 255.0);
    /// assert_eq!(centre, mnist.test.images[14 * 28 + 14]);
    /// assert_eq!(mnist.test.labels_view()[0], mnist.test.labels[0]);
    /// # Ok::<(), datasets::DatasetError>(())
    /// ```
    pub fn view(&self) -> Result<ndarray::ArrayView4<'_, u8>> {
        ndarray::ArrayView4::from_shape(
            (self.count, self.rows, self.cols, self.channels),
            &self.images,
        )
        .map_err(|e| {
            DatasetError::invalid(format!(
                "{} image bytes do not make {} images of {}x{}x{}: {e}",
                self.images.len(),
                self.count,
                self.rows,
                self.cols,
                self.channels
            ))
        })
    }

    /// The labels as an `ndarray` view `[count]`, without a copy.
    pub fn labels_view(&self) -> ndarray::ArrayView1<'_, u8> {
        ndarray::ArrayView1::from(&self.labels[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> ImageSet {
        // Four 1x2 images whose pixels encode their index.
        ImageSet::new(
            vec![0, 1, 10, 11, 20, 21, 30, 31],
            vec![3, 7, 5, 3],
            1,
            2,
            1,
            10,
        )
        .unwrap()
    }

    #[test]
    fn image_and_label_access() {
        let s = tiny();
        assert_eq!(s.image(2), Some(&[20u8, 21][..]));
        assert_eq!(s.image(4), None);
        assert_eq!(s.image(usize::MAX), None);
        assert_eq!(s.label(1), Some(7));
        assert_eq!(s.shape(), [4, 1, 2, 1]);
    }

    #[test]
    fn filter_and_relabel() {
        let s = tiny();
        let f = s.filter_classes(&[5, 6, 7, 8, 9], true).unwrap();
        assert_eq!(f.labels, vec![2, 0]); // 7 -> 2, 5 -> 0
        assert_eq!(f.images, vec![10, 11, 20, 21]);
        assert_eq!(f.num_classes, 5);
        let g = s.filter_classes(&[3], false).unwrap();
        assert_eq!(g.labels, vec![3, 3]);
        assert_eq!(g.num_classes, 10);
        assert!(s.filter_classes(&[3, 3], true).is_err());
        assert!(s.filter_classes(&[10], true).is_err());
    }

    #[test]
    fn one_hot_by_hand() {
        assert_eq!(one_hot(&[2, 0], 3), vec![0., 0., 1., 1., 0., 0.]);
    }

    #[test]
    fn split_select_take() {
        let s = tiny();
        let (a, b) = s.split_at(1);
        assert_eq!((a.count, b.count), (1, 3));
        assert_eq!(b.images[0], 10);
        let sel = s.select(&[3, 0]).unwrap();
        assert_eq!(sel.images, vec![30, 31, 0, 1]);
        assert_eq!(sel.labels, vec![3, 3]);
        assert!(s.select(&[4]).is_err());
        assert_eq!(s.take(10).count, 4);
    }

    #[test]
    fn transpose_by_hand() {
        // One 2x3 image: [[1,2,3],[4,5,6]] -> [[1,4],[2,5],[3,6]].
        let mut s = ImageSet::new(vec![1, 2, 3, 4, 5, 6], vec![0], 2, 3, 1, 10).unwrap();
        s.transpose_hw();
        assert_eq!((s.rows, s.cols), (3, 2));
        assert_eq!(s.images, vec![1, 4, 2, 5, 3, 6]);
    }

    #[test]
    fn new_rejects_bad_sizes() {
        assert!(ImageSet::new(vec![0; 3], vec![0], 1, 2, 1, 10).is_err());
        assert!(ImageSet::new(vec![0; 2], vec![10], 1, 2, 1, 10).is_err());
    }
}
