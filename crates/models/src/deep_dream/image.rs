//! Pictures in and out of a dream: any PNG or JPEG read as one grey channel, the
//! bundled example, grey PNGs written atomically.

use std::path::Path;
use train::{Error, Result};

/// The largest picture a dream takes, in pixels (512 x 512). The MNIST CNN's first
/// max-pool sees 64 channels of the full picture, and the pooling backends keep the
/// argmax of one image as an f32 index, exact up to 2^24 = 64 x 512 x 512 elements.
/// At this size the default dream peaks at about 1 GiB and takes about 45 s on 2 cores.
pub const MAX_PIXELS: u64 = 1 << 18;

/// A one-channel picture, pixels 0 (black) to 1 (white), row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct GreyImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<f32>,
}

impl GreyImage {
    /// The pixels as 8-bit grey, each clipped to 0..1 first.
    pub fn to_luma8(&self) -> ::image::GrayImage {
        let bytes = self
            .pixels
            .iter()
            .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect();
        ::image::GrayImage::from_raw(self.width as u32, self.height as u32, bytes)
            .expect("width * height pixels")
    }

    /// Encodes the picture as a grey PNG.
    pub fn png_bytes(&self) -> Result<Vec<u8>> {
        let mut png = std::io::Cursor::new(Vec::new());
        self.to_luma8()
            .write_to(&mut png, ::image::ImageFormat::Png)
            .map_err(|e| Error::io(Path::new("<png>"), e))?;
        Ok(png.into_inner())
    }
}

/// Reads the PNG or JPEG at `path` as one grey channel. Returns the picture and, when
/// it had colour or transparency, a note saying how it was converted.
///
/// Refused with an error naming the file: a missing or unreadable file, an empty one,
/// one that is neither PNG nor JPEG, a truncated or corrupt one, and one above
/// [`MAX_PIXELS`] (checked from the header, before any pixel is decoded).
pub fn read_image(path: &Path) -> Result<(GreyImage, Option<String>)> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::io(path, "is a directory, not a picture"));
    }
    if meta.len() == 0 {
        return Err(Error::io(
            path,
            "the file is empty, not a PNG or JPEG picture",
        ));
    }
    let open = || -> Result<::image::ImageReader<std::io::BufReader<std::fs::File>>> {
        let reader = ::image::ImageReader::open(path)
            .map_err(|e| Error::io(path, e))?
            .with_guessed_format()
            .map_err(|e| Error::io(path, e))?;
        match reader.format() {
            Some(::image::ImageFormat::Png | ::image::ImageFormat::Jpeg) => Ok(reader),
            Some(other) => Err(Error::io(
                path,
                format!("is a {other:?} picture; deep_dream reads PNG and JPEG"),
            )),
            None => Err(Error::io(path, "is not a PNG or JPEG picture")),
        }
    };
    let (w, h) = open()?.into_dimensions().map_err(|e| {
        Error::io(
            path,
            format!("is not a PNG or JPEG picture, or its header is damaged ({e})"),
        )
    })?;
    if w == 0 || h == 0 {
        return Err(Error::io(
            path,
            format!("the picture is {w}x{h} px: it has no pixels"),
        ));
    }
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(Error::io(
            path,
            format!(
                "the picture is {w}x{h} px ({:.1} megapixels); deep_dream takes at most {MAX_PIXELS} \
                 pixels (e.g. 512x512): scale it down first",
                f64::from(w) * f64::from(h) / 1e6
            ),
        ));
    }
    let decoded = open()?
        .decode()
        .map_err(|e| Error::io(path, format!("cannot decode the picture: {e}")))?;
    let colour = decoded.color();
    let note = match (colour.has_color(), colour.has_alpha()) {
        (false, false) => None,
        (c, a) => Some(format!(
            "{}: {} converted to one grey channel for the one-channel network{}",
            path.display(),
            if c {
                "colour"
            } else {
                "grey with transparency"
            },
            match (c, a) {
                (true, true) => " (luma 0.2126 R + 0.7152 G + 0.0722 B; transparency dropped)",
                (true, false) => " (luma 0.2126 R + 0.7152 G + 0.0722 B)",
                _ => " (transparency dropped)",
            }
        )),
    };
    let grey = decoded.to_luma32f();
    Ok((
        GreyImage {
            width: w as usize,
            height: h as usize,
            pixels: grey.into_raw(),
        },
        note,
    ))
}

/// Where the bundled example comes from, for the log.
pub const EXAMPLE_SOURCE: &str = "the first 8 held-out digits of the bundled MNIST \
     (crates/datasets/data, the last 2,000 digits), 4 x 2, each enlarged 2x (bilinear): 224x112 px";

/// The example dreamed on when no picture is given (see [`EXAMPLE_SOURCE`]): white
/// digits on black, as the network saw them in training.
pub fn bundled_example() -> Result<GreyImage> {
    let mnist = datasets::Mnist::bundled()?;
    let test = &mnist.test;
    let (cols, rows, side) = (4usize, 2usize, 28usize);
    let mut grid = vec![0f32; cols * rows * side * side];
    for k in 0..cols * rows {
        let (gr, gc) = (k / cols, k % cols);
        let digit = &test.images[k * side * side..(k + 1) * side * side];
        for r in 0..side {
            for c in 0..side {
                grid[(gr * side + r) * cols * side + gc * side + c] =
                    f32::from(digit[r * side + c]) / 255.0;
            }
        }
    }
    let be = backend_cpu::Cpu;
    let (h, w) = (rows * side, cols * side);
    let small = tensor::Tensor::from_vec(&be, grid, [1, h, w, 1])?;
    let big = small.resize_bilinear(2 * h, 2 * w)?;
    Ok(GreyImage {
        width: 2 * w,
        height: 2 * h,
        pixels: big.to_vec()?,
    })
}

/// Pictures side by side on black, each resized (bilinear) to `height x width`, with
/// an 8-pixel gap: the input and the octaves of a dream.
pub fn strip(panels: &[GreyImage], height: usize, width: usize) -> Result<GreyImage> {
    const GAP: usize = 8;
    let n = panels.len();
    let total_w = n * width + n.saturating_sub(1) * GAP;
    let mut pixels = vec![0f32; total_w * height];
    let be = backend_cpu::Cpu;
    for (k, p) in panels.iter().enumerate() {
        let t = tensor::Tensor::from_slice(&be, &p.pixels, [1, p.height, p.width, 1])?;
        let resized = t.resize_bilinear(height, width)?.to_vec()?;
        let left = k * (width + GAP);
        for r in 0..height {
            pixels[r * total_w + left..r * total_w + left + width]
                .copy_from_slice(&resized[r * width..(r + 1) * width]);
        }
    }
    Ok(GreyImage {
        width: total_w,
        height,
        pixels,
    })
}
