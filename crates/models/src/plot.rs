//! Sample grids: many small greyscale images in one picture.

/// A grid of `rows x cols` greyscale images (`h x w`, values in `[lo, hi]`),
/// each drawn `scale` times larger with a 2-pixel border.
pub fn image_grid(
    images: &[f32],
    h: usize,
    w: usize,
    rows: usize,
    cols: usize,
    range: (f32, f32),
    scale: u32,
) -> image::RgbImage {
    let pad = 2u32;
    let cell_w = w as u32 * scale + pad;
    let cell_h = h as u32 * scale + pad;
    let mut img = image::RgbImage::from_pixel(
        cols as u32 * cell_w + pad,
        rows as u32 * cell_h + pad,
        image::Rgb([40, 40, 40]),
    );
    let (lo, hi) = range;
    for idx in 0..(rows * cols).min(images.len() / (h * w)) {
        let (r, c) = ((idx / cols) as u32, (idx % cols) as u32);
        for y in 0..h {
            for x in 0..w {
                let v = images[idx * h * w + y * w + x];
                let g = (((v - lo) / (hi - lo)).clamp(0.0, 1.0) * 255.0).round() as u8;
                for dy in 0..scale {
                    for dx in 0..scale {
                        img.put_pixel(
                            pad + c * cell_w + x as u32 * scale + dx,
                            pad + r * cell_h + y as u32 * scale + dy,
                            image::Rgb([g, g, g]),
                        );
                    }
                }
            }
        }
    }
    img
}
