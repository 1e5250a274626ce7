//! Random shifts and horizontal flips of HWC images, as Keras'
//! `ImageDataGenerator(width_shift_range=w, height_shift_range=h, horizontal_flip=True)`.
//!
//! Keras shifts with `scipy.ndimage.affine_transform(order=1, mode='nearest')`: output
//! pixel `(i, j)` reads the input at `(i + tx, j + ty)` by bilinear interpolation, with
//! coordinates clamped to the edge (so the border rows and columns repeat), where
//! `tx = uniform(-h, h) * rows` and `ty = uniform(-w, w) * cols` are real numbers, not
//! rounded. The flip (a coin toss per image) is applied after the shift.
//!
//! ```
//! use datasets::Augment;
//!
//! let aug = Augment::new(0.1, 0.1, true)?;
//! let (n, rows, cols, channels) = (2, 4, 4, 3);
//! let mut batch = vec![0.5f32; n * rows * cols * channels];
//! // Pass a seed that differs per batch (for example derived from the run seed and
//! // the step): image `i` of the batch is transformed from `(seed, i)` alone.
//! aug.apply_batch(&mut batch, n, rows, cols, channels, 7)?;
//! assert!(batch.iter().all(|&v| v == 0.5)); // a constant image stays constant
//! # Ok::<(), datasets::DatasetError>(())
//! ```

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::{DatasetError, Result};

/// The random shift and flip options of Keras' `ImageDataGenerator`.
///
/// The fields are public for reading; [`Augment::new`] checks them, and
/// [`Augment::apply_batch`] checks them again in case they were changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Augment {
    /// Largest shift along the columns, as a fraction of the width, in `[0, 1)`
    /// (`width_shift_range`).
    pub width_shift: f32,
    /// Largest shift along the rows, as a fraction of the height, in `[0, 1)`
    /// (`height_shift_range`).
    pub height_shift: f32,
    /// Mirror left-right with probability 1/2 (`horizontal_flip`).
    pub horizontal_flip: bool,
}

/// The transform drawn for one image: a shift of `tx` rows and `ty` columns (real
/// valued), then an optional left-right mirror.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transform {
    /// Row offset: output row `i` reads input row `i + tx`.
    pub tx: f32,
    /// Column offset: output column `j` reads input column `j + ty`.
    pub ty: f32,
    /// Reverse the columns after shifting.
    pub flip: bool,
}

impl Augment {
    /// Checked options: both shifts finite and in `[0, 1)`.
    pub fn new(width_shift: f32, height_shift: f32, horizontal_flip: bool) -> Result<Augment> {
        let aug = Augment {
            width_shift,
            height_shift,
            horizontal_flip,
        };
        aug.validate()?;
        Ok(aug)
    }

    /// No augmentation: every image is left as it is.
    pub fn none() -> Augment {
        Augment {
            width_shift: 0.0,
            height_shift: 0.0,
            horizontal_flip: false,
        }
    }

    /// True when no option is on, so applying it changes nothing.
    pub fn is_identity(&self) -> bool {
        self.width_shift == 0.0 && self.height_shift == 0.0 && !self.horizontal_flip
    }

    /// An error naming the option when a shift is non-finite or outside `[0, 1)`.
    pub fn validate(&self) -> Result<()> {
        check_range("width_shift (width_shift_range)", self.width_shift)?;
        check_range("height_shift (height_shift_range)", self.height_shift)
    }

    /// The transform of image `index` of a batch augmented with `seed`, for images of
    /// `rows x cols`. It depends only on `(seed, index)` and the options.
    pub fn draw(&self, rows: usize, cols: usize, seed: u64, index: u64) -> Transform {
        let mut rng = StdRng::seed_from_u64(image_seed(seed, index));
        // Keras' order of draws: the row shift, the column shift, then the flip.
        let tx = symmetric(&mut rng, self.height_shift) * rows as f32;
        let ty = symmetric(&mut rng, self.width_shift) * cols as f32;
        let flip = self.horizontal_flip && rng.random_bool(0.5);
        Transform { tx, ty, flip }
    }

    /// Augments `n` HWC images of `rows x cols x channels` stored back to back in
    /// `pixels`, in place. Image `i` gets [`Augment::draw`]`(rows, cols, seed, i)`, so
    /// the result is reproducible from `seed`; use a different seed for each batch.
    pub fn apply_batch(
        &self,
        pixels: &mut [f32],
        n: usize,
        rows: usize,
        cols: usize,
        channels: usize,
        seed: u64,
    ) -> Result<()> {
        self.validate()?;
        let image_len = image_len(rows, cols, channels)?;
        let expected = n.checked_mul(image_len).ok_or_else(|| {
            DatasetError::invalid(format!(
                "augment: {n} images of {rows}x{cols}x{channels} overflow the address space"
            ))
        })?;
        if pixels.len() != expected {
            return Err(DatasetError::invalid(format!(
                "augment: buffer holds {} values, {n} images of {rows}x{cols}x{channels} need {expected}",
                pixels.len()
            )));
        }
        if self.is_identity() {
            return Ok(());
        }
        for (index, image) in pixels.chunks_exact_mut(image_len).enumerate() {
            let t = self.draw(rows, cols, seed, index as u64);
            if t.tx == 0.0 && t.ty == 0.0 && !t.flip {
                continue;
            }
            let out = transform_checked(image, rows, cols, channels, t);
            image.copy_from_slice(&out);
        }
        Ok(())
    }
}

impl Default for Augment {
    fn default() -> Self {
        Augment::none()
    }
}

/// One HWC image shifted by `tx` rows and `ty` columns (bilinear, edges repeated), then
/// mirrored left-right when `flip`: output `(i, j)` is the input at
/// `(i + tx, j' + ty)` with `j' = cols - 1 - j` when flipping, else `j`.
///
/// ```
/// // One row [1, 2, 3] shifted by half a column: neighbours averaged, the edge repeated.
/// let out = datasets::augment::shift_image(&[1.0, 2.0, 3.0], 1, 3, 1, 0.0, 0.5, false)?;
/// assert_eq!(out, vec![1.5, 2.5, 3.0]);
/// # Ok::<(), datasets::DatasetError>(())
/// ```
pub fn shift_image(
    src: &[f32],
    rows: usize,
    cols: usize,
    channels: usize,
    tx: f32,
    ty: f32,
    flip: bool,
) -> Result<Vec<f32>> {
    let len = image_len(rows, cols, channels)?;
    if src.len() != len {
        return Err(DatasetError::invalid(format!(
            "shift_image: image holds {} values, {rows}x{cols}x{channels} needs {len}",
            src.len()
        )));
    }
    if !tx.is_finite() || !ty.is_finite() {
        return Err(DatasetError::invalid(format!(
            "shift_image: shifts must be finite, got tx {tx}, ty {ty}"
        )));
    }
    Ok(transform_checked(
        src,
        rows,
        cols,
        channels,
        Transform { tx, ty, flip },
    ))
}

/// [`shift_image`] once sizes and shifts are known to be valid.
fn transform_checked(
    src: &[f32],
    rows: usize,
    cols: usize,
    channels: usize,
    t: Transform,
) -> Vec<f32> {
    // The shift is the same for every pixel, so the two taps and the weight of each
    // output row and column are computed once.
    let row_taps = axis_taps(rows, t.tx, false);
    let col_taps = axis_taps(cols, t.ty, t.flip);
    let mut out = Vec::with_capacity(src.len());
    for &(r0, r1, fr) in &row_taps {
        for &(c0, c1, fc) in &col_taps {
            let at = |r: usize, c: usize, ch: usize| src[(r * cols + c) * channels + ch];
            for ch in 0..channels {
                let top = at(r0, c0, ch) * (1.0 - fc) + at(r0, c1, ch) * fc;
                let bottom = at(r1, c0, ch) * (1.0 - fc) + at(r1, c1, ch) * fc;
                out.push(top * (1.0 - fr) + bottom * fr);
            }
        }
    }
    out
}

/// For each output index along an axis of `n` cells: the lower and upper input cell
/// and the weight of the upper one, reading at `k + shift` clamped to `[0, n - 1]`
/// (`k` counted from the far end when `reverse`). Clamping the coordinate is what
/// scipy's `mode='nearest'` amounts to for linear interpolation.
fn axis_taps(n: usize, shift: f32, reverse: bool) -> Vec<(usize, usize, f32)> {
    let last = n - 1;
    (0..n)
        .map(|k| {
            let k = if reverse { last - k } else { k };
            let coord = (k as f32 + shift).clamp(0.0, last as f32);
            let lo = (coord.floor() as usize).min(last);
            let frac = coord - lo as f32;
            (lo, (lo + 1).min(last), frac)
        })
        .collect()
}

/// Values per image, checked: every size positive and the product addressable.
fn image_len(rows: usize, cols: usize, channels: usize) -> Result<usize> {
    if rows == 0 || cols == 0 || channels == 0 {
        return Err(DatasetError::invalid(format!(
            "augment: image size {rows}x{cols}x{channels} must be positive in every dimension"
        )));
    }
    rows.checked_mul(cols)
        .and_then(|p| p.checked_mul(channels))
        .ok_or_else(|| {
            DatasetError::invalid(format!(
                "augment: image size {rows}x{cols}x{channels} overflows the address space"
            ))
        })
}

fn check_range(name: &str, value: f32) -> Result<()> {
    if value.is_finite() && (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(DatasetError::invalid(format!(
            "{name} must be a fraction in [0, 1), got {value}"
        )))
    }
}

/// `uniform(-range, range)`, or exactly 0 (drawing nothing) when `range` is 0, as
/// Keras skips the draw of an unset option.
fn symmetric(rng: &mut StdRng, range: f32) -> f32 {
    if range > 0.0 {
        rng.random_range(-range..range)
    } else {
        0.0
    }
}

/// SplitMix64 of `(seed, index)`, so nearby pairs give unrelated streams. The constant
/// xor-ed in keeps these streams apart from the batch sampler's `(seed, epoch)` ones.
fn image_seed(seed: u64, index: u64) -> u64 {
    const AUGMENT_DOMAIN: u64 = 0x6175_676D_656E_7421; // "augment!"
    let mut z = (seed ^ AUGMENT_DOMAIN) ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 3x3 one-channel image
    /// ```text
    /// 1 2 3
    /// 4 5 6
    /// 7 8 9
    /// ```
    const GRID: [f32; 9] = [1., 2., 3., 4., 5., 6., 7., 8., 9.];

    fn shift(tx: f32, ty: f32, flip: bool) -> Vec<f32> {
        shift_image(&GRID, 3, 3, 1, tx, ty, flip).unwrap()
    }

    #[test]
    fn integer_shifts_move_pixels_and_repeat_the_edge() {
        // Row i reads row i + 1; the last row reads row 3, clamped to row 2.
        assert_eq!(shift(1.0, 0.0, false), [4., 5., 6., 7., 8., 9., 7., 8., 9.]);
        // Row i reads row i - 1; row 0 reads row -1, clamped to row 0.
        assert_eq!(
            shift(-1.0, 0.0, false),
            [1., 2., 3., 1., 2., 3., 4., 5., 6.]
        );
        // Column j reads column j + 1.
        assert_eq!(shift(0.0, 1.0, false), [2., 3., 3., 5., 6., 6., 8., 9., 9.]);
        // Two columns left: columns -2, -1, 0 all clamp to column 0.
        assert_eq!(
            shift(0.0, -2.0, false),
            [1., 1., 1., 4., 4., 4., 7., 7., 7.]
        );
        // A shift past the whole image repeats the far edge everywhere.
        assert_eq!(
            shift(10.0, 0.0, false),
            [7., 8., 9., 7., 8., 9., 7., 8., 9.]
        );
    }

    #[test]
    fn fractional_shifts_interpolate() {
        // Half a column: (1+2)/2, (2+3)/2, and column 2.5 clamps to 2 -> 3.
        assert_eq!(
            shift(0.0, 0.5, false),
            [1.5, 2.5, 3., 4.5, 5.5, 6., 7.5, 8.5, 9.]
        );
        // Half a row and half a column: (0,0) is the mean of 1, 2, 4, 5 = 3; (1,2) reads
        // (1.5, 2.5 -> 2) = (6 + 9)/2 = 7.5; (2,2) reads (2.5 -> 2, 2.5 -> 2) = 9.
        let both = shift(0.5, 0.5, false);
        assert_eq!(both[0], 3.0);
        assert_eq!(both[5], 7.5);
        assert_eq!(both[8], 9.0);
        // A quarter column: 0.75 * 1 + 0.25 * 2 = 1.25 at (0,0); 0.75 * 5 + 0.25 * 6 = 5.25 at (1,1).
        let quarter = shift(0.0, 0.25, false);
        assert_eq!((quarter[0], quarter[4]), (1.25, 5.25));
        // Minus a quarter row: (1,0) reads row 0.75 = 0.25 * 1 + 0.75 * 4 = 3.25; row 0
        // reads -0.25, clamped to 0 -> 1.
        let up = shift(-0.25, 0.0, false);
        assert_eq!((up[0], up[3]), (1.0, 3.25));
    }

    #[test]
    fn flip_reverses_columns_after_the_shift() {
        assert_eq!(shift(0.0, 0.0, true), [3., 2., 1., 6., 5., 4., 9., 8., 7.]);
        // Shifted by one column [2, 3, 3], then mirrored: [3, 3, 2].
        assert_eq!(shift(0.0, 1.0, true), [3., 3., 2., 6., 6., 5., 9., 9., 8.]);
    }

    #[test]
    fn channels_move_together() {
        // 1x2 image with two channels: pixel 0 = (1, 10), pixel 1 = (2, 20).
        let src = [1., 10., 2., 20.];
        assert_eq!(
            shift_image(&src, 1, 2, 2, 0.0, 1.0, false).unwrap(),
            [2., 20., 2., 20.]
        );
        assert_eq!(
            shift_image(&src, 1, 2, 2, 0.0, 0.5, false).unwrap(),
            [1.5, 15., 2., 20.]
        );
        assert_eq!(
            shift_image(&src, 1, 2, 2, 0.0, 0.0, true).unwrap(),
            [2., 20., 1., 10.]
        );
    }

    #[test]
    fn zero_shift_without_flip_is_the_identity() {
        assert_eq!(shift(0.0, 0.0, false), GRID);
        let none = Augment::none();
        assert!(none.is_identity());
        assert_eq!(Augment::default(), none);
        let mut batch: Vec<f32> = (0..2 * 9).map(|v| v as f32).collect();
        let before = batch.clone();
        none.apply_batch(&mut batch, 2, 3, 3, 1, 5).unwrap();
        assert_eq!(batch, before);
        assert!(!Augment::new(0.0, 0.0, true).unwrap().is_identity());
        assert!(!Augment::new(0.1, 0.0, false).unwrap().is_identity());
    }

    #[test]
    fn seeds_reproduce_and_differ() {
        let aug = Augment::new(0.2, 0.2, true).unwrap();
        let (n, rows, cols, ch) = (4, 5, 6, 2);
        let data: Vec<f32> = (0..n * rows * cols * ch).map(|v| v as f32).collect();
        let run = |seed| {
            let mut b = data.clone();
            aug.apply_batch(&mut b, n, rows, cols, ch, seed).unwrap();
            b
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        assert_ne!(run(1), data);
        // Image i depends only on (seed, i): the first two images of a batch of four
        // equal a batch of those two alone.
        let mut two = data[..2 * rows * cols * ch].to_vec();
        aug.apply_batch(&mut two, 2, rows, cols, ch, 1).unwrap();
        assert_eq!(two, run(1)[..2 * rows * cols * ch]);
        // And each image is shift_image with its drawn transform.
        let len = rows * cols * ch;
        let t = aug.draw(rows, cols, 1, 3);
        let expected = shift_image(&data[3 * len..], rows, cols, ch, t.tx, t.ty, t.flip).unwrap();
        assert_eq!(run(1)[3 * len..], expected);
    }

    #[test]
    fn draws_cover_the_range() {
        // height 0.25 of 8 rows: |tx| < 2; width 0.5 of 10 columns: |ty| < 5.
        let aug = Augment::new(0.5, 0.25, true).unwrap();
        let draws: Vec<Transform> = (0..2000).map(|i| aug.draw(8, 10, 3, i)).collect();
        assert!(draws.iter().all(|t| t.tx.abs() < 2.0 && t.ty.abs() < 5.0));
        let max_tx = draws.iter().map(|t| t.tx).fold(f32::MIN, f32::max);
        let min_ty = draws.iter().map(|t| t.ty).fold(f32::MAX, f32::min);
        assert!(max_tx > 1.9 && min_ty < -4.9, "{max_tx} {min_ty}");
        // Real-valued, not rounded.
        assert!(draws.iter().any(|t| t.tx.fract() != 0.0));
        let flips = draws.iter().filter(|t| t.flip).count();
        assert!((900..1100).contains(&flips), "{flips} flips of 2000");
        // An option that is off draws nothing.
        let flip_only = Augment::new(0.0, 0.0, true).unwrap();
        assert!((0..100).all(|i| {
            let t = flip_only.draw(8, 8, 1, i);
            t.tx == 0.0 && t.ty == 0.0
        }));
    }

    #[test]
    fn bad_ranges_are_errors_naming_the_option() {
        for bad in [1.0, 1.5, -0.1, f32::NAN, f32::INFINITY] {
            let err = Augment::new(bad, 0.0, false).unwrap_err().to_string();
            assert!(err.contains("width_shift"), "{err}");
            let err = Augment::new(0.0, bad, false).unwrap_err().to_string();
            assert!(err.contains("height_shift"), "{err}");
        }
        let mut aug = Augment::none();
        aug.width_shift = 2.0;
        let mut data = vec![0.0; 9];
        assert!(aug.apply_batch(&mut data, 1, 3, 3, 1, 0).is_err());
    }

    #[test]
    fn bad_sizes_are_errors() {
        let aug = Augment::new(0.1, 0.1, true).unwrap();
        let mut data = vec![0.0f32; 2 * 9];
        assert!(aug.apply_batch(&mut data, 3, 3, 3, 1, 0).is_err());
        assert!(aug.apply_batch(&mut data, 2, 3, 3, 2, 0).is_err());
        assert!(aug.apply_batch(&mut data, 2, 0, 3, 1, 0).is_err());
        assert!(
            aug.apply_batch(&mut data, usize::MAX, usize::MAX, 2, 1, 0)
                .is_err()
        );
        assert!(aug.apply_batch(&mut data, 2, 3, 3, 1, 0).is_ok());
        // An identity augmentation still checks the sizes.
        assert!(
            Augment::none()
                .apply_batch(&mut data, 1, 3, 3, 1, 0)
                .is_err()
        );
        assert!(Augment::none().apply_batch(&mut [], 0, 3, 3, 1, 0).is_ok());
        assert!(shift_image(&GRID, 3, 2, 1, 0.0, 0.0, false).is_err());
        assert!(shift_image(&GRID, 3, 3, 0, 0.0, 0.0, false).is_err());
        assert!(shift_image(&GRID, 3, 3, 1, f32::NAN, 0.0, false).is_err());
        assert!(shift_image(&GRID, 3, 3, 1, 0.0, f32::INFINITY, false).is_err());
    }
}
