//! The Conv2D / MaxPool2D worked example of SEEDS.md section 4, computed with the
//! framework's own ops on any backend: a 6x6 image, a 3x3 diagonal filter, the VALID and
//! SAME convolutions (stride 1), and 2x2 stride-2 max and average pools of the VALID map,
//! printed as tables and, on request, drawn into a PNG.
//!
//! ```
//! let maps = models::conv_pool::compute(&backend_cpu::Cpu)?;
//! assert_eq!(maps.max_pool.values, [3.0, 0.0, 3.0, 1.0]);
//! # Ok::<(), train::Error>(())
//! ```

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use tensor::{Backend, Padding, Tensor};

/// The article's 6x6 single-channel image, row-major.
pub const IMAGE: [f32; 36] = [
    1., 0., 0., 0., 0., 1., //
    0., 1., 0., 0., 1., 0., //
    0., 0., 1., 1., 0., 0., //
    1., 0., 0., 0., 1., 0., //
    0., 1., 0., 0., 1., 0., //
    0., 0., 1., 0., 1., 0., //
];

/// The 3x3 filter that picks out top-left to bottom-right diagonals, row-major.
pub const FILTER: [f32; 9] = [
    1., -1., -1., //
    -1., 1., -1., //
    -1., -1., 1., //
];

/// One 2-D map (a single channel) with a title.
#[derive(Debug, Clone, PartialEq)]
pub struct Map {
    /// What the map is, as printed above its table.
    pub title: &'static str,
    /// A short name for the picture.
    pub label: &'static str,
    pub rows: usize,
    pub cols: usize,
    /// `rows * cols` values, row-major.
    pub values: Vec<f32>,
}

/// Every map of the worked example, as computed on one backend.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvPoolMaps {
    /// The backend's own description (`cpu`, or the wgpu adapter).
    pub backend: String,
    pub image: Map,
    pub filter: Map,
    /// `conv2d` VALID, stride 1: 4x4.
    pub valid: Map,
    /// 2x2 max pool, stride 2, of `valid`: 2x2.
    pub max_pool: Map,
    /// `conv2d` SAME, stride 1: 6x6 (one zero row/column of padding on every side).
    pub same: Map,
    /// 2x2 average pool, stride 2, of `valid`: 2x2.
    pub avg_pool: Map,
}

/// Runs the example's ops on `be`: input NHWC `[1, 6, 6, 1]`, filter HWIO `[3, 3, 1, 1]`.
pub fn compute<B: Backend>(be: &B) -> train::Result<ConvPoolMaps> {
    let x = Tensor::from_slice(be, &IMAGE, [1, 6, 6, 1])?;
    let w = Tensor::from_slice(be, &FILTER, [3, 3, 1, 1])?;
    let valid = x.conv2d(&w, (1, 1), Padding::Valid)?;
    let max_pool = valid.max_pool2d((2, 2), (2, 2), Padding::Valid)?;
    let same = x.conv2d(&w, (1, 1), Padding::Same)?;
    let avg_pool = valid.avg_pool2d((2, 2), (2, 2), Padding::Valid)?;
    // Maps are NHWC with n = c = 1, so rows and columns are dims 1 and 2.
    let map = |t: &Tensor<B>, title, label| -> train::Result<Map> {
        let d = t.dims();
        Ok(Map {
            title,
            label,
            rows: d[1],
            cols: d[2],
            values: t.to_vec()?,
        })
    };
    // The HWIO filter with i = o = 1: rows and columns are dims 0 and 1.
    let filter = Map {
        title: "filter (3x3)",
        label: "filter 3x3",
        rows: w.dims()[0],
        cols: w.dims()[1],
        values: w.to_vec()?,
    };
    Ok(ConvPoolMaps {
        backend: be.name(),
        image: map(&x, "input image (6x6)", "image 6x6")?,
        filter,
        valid: map(&valid, "conv2d VALID, stride 1 (4x4)", "VALID 4x4")?,
        max_pool: map(
            &max_pool,
            "max_pool2d 2x2, stride 2, of the VALID output (2x2)",
            "max-pool 2x2",
        )?,
        same: map(&same, "conv2d SAME, stride 1 (6x6)", "SAME 6x6")?,
        avg_pool: map(
            &avg_pool,
            "avg_pool2d 2x2, stride 2, of the VALID output (2x2)",
            "avg-pool 2x2",
        )?,
    })
}

impl Map {
    /// The value at `(row, col)`; panics outside the map.
    pub fn get(&self, row: usize, col: usize) -> f32 {
        self.values[row * self.cols + col]
    }

    /// The title, then one line per row with the values right-aligned in columns.
    pub fn table(&self) -> String {
        let cells: Vec<String> = self.values.iter().map(|&v| format_value(v)).collect();
        let width = cells.iter().map(String::len).max().unwrap_or(1);
        let mut out = format!("{}\n", self.title);
        for row in cells.chunks(self.cols.max(1)) {
            let line: Vec<String> = row.iter().map(|c| format!("{c:>width$}")).collect();
            out.push_str("  ");
            out.push_str(&line.join("  "));
            out.push('\n');
        }
        out
    }

    /// `(min, max)` of the values.
    fn range(&self) -> (f32, f32) {
        self.values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            })
    }
}

/// A value with at most two decimals and no trailing zeros (`3`, `-1.75`, `0`).
pub fn format_value(v: f32) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    // Rounding can leave "-0" (from -0.0 or -0.001): zero has no sign here.
    if s == "-0" { "0".into() } else { s.into() }
}

impl ConvPoolMaps {
    /// The maps in the order they are printed and drawn.
    pub fn maps(&self) -> [&Map; 6] {
        [
            &self.image,
            &self.filter,
            &self.valid,
            &self.max_pool,
            &self.same,
            &self.avg_pool,
        ]
    }

    /// Every table, separated by blank lines, with a heading and closing notes.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "Conv2D and MaxPool2D (SEEDS.md section 4) on backend {}\n\
             layout NHWC: input [1, 6, 6, 1], filter HWIO [3, 3, 1, 1]\n\n",
            self.backend
        );
        for map in self.maps() {
            out.push_str(&map.table());
            out.push('\n');
        }
        out.push_str(
            "notes:\n\
             - VALID: no padding, output 6 - 3 + 1 = 4; top-left window = 3, window at row 1, column 1 = 1.\n\
             - SAME: one zero row/column on every side (total pad 2), output ceil(6 / 1) = 6;\n  \
               its inner 4x4 is the VALID output.\n\
             - max-pooling keeps the strongest response (texture), average-pooling the mean (background).\n",
        );
        out
    }

    /// The maps side by side as an RGB picture: each cell a square of grey (black at the
    /// map's minimum, white at its maximum) with its value written in it, a title above
    /// each map and its grey scale below.
    pub fn render(&self) -> std::result::Result<image::RgbImage, String> {
        register_font()?;
        let maps = self.maps();
        let panels_w: u32 = maps.iter().map(|m| m.cols as u32 * CELL).sum();
        let tallest = maps.iter().map(|m| m.rows as u32).max().unwrap_or(1);
        let width = 2 * MARGIN + panels_w + GAP * (maps.len() as u32 - 1);
        let grid_top = MARGIN + TITLE_H;
        let bar_top = grid_top + tallest * CELL + 12;
        let height = bar_top + BAR_H + 24 + MARGIN;
        let mut buf = vec![255u8; (width * height * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (width, height)).into_drawing_area();
            let mut left = MARGIN;
            for map in maps {
                draw_map(&root, map, left, grid_top, bar_top).map_err(|e| e.to_string())?;
                left += map.cols as u32 * CELL + GAP;
            }
            root.present().map_err(|e| e.to_string())?;
        }
        image::RgbImage::from_raw(width, height, buf)
            .ok_or_else(|| "the picture buffer has the wrong size".to_string())
    }

    /// The picture of [`ConvPoolMaps::render`] encoded as PNG.
    pub fn png_bytes(&self) -> std::result::Result<Vec<u8>, String> {
        let img = self.render()?;
        let mut png = std::io::Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png)
            .map_err(|e| e.to_string())?;
        Ok(png.into_inner())
    }

    /// Draws the maps into the PNG file `path` (see [`crate::cli::write_new_file`]).
    pub fn write_png(&self, path: &Path, overwrite: bool) -> train::Result<()> {
        crate::cli::check_output("--png", path, overwrite)?;
        let bytes = self
            .png_bytes()
            .map_err(|e| train::Error::io(path, format!("cannot draw the picture: {e}")))?;
        crate::cli::write_new_file("--png", path, &bytes, overwrite)
    }
}

/// Pixels per cell of a map in the picture.
const CELL: u32 = 48;
/// Space between maps, around the picture, for the titles and for the grey scales.
const GAP: u32 = 36;
const MARGIN: u32 = 32;
const TITLE_H: u32 = 30;
const BAR_H: u32 = 12;
const FONT_FAMILY: &str = "conv_pool-mono";

fn register_font() -> std::result::Result<(), String> {
    // DejaVu Sans Mono (free licence, crates/train/assets/DejaVu-LICENSE), the font the
    // run charts use: the text renders the same on every machine, with no system font.
    static FONT: &[u8] = include_bytes!("../../train/assets/DejaVuSansMono.ttf");
    plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT)
        .map_err(|_| "the bundled font does not load".to_string())
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;
type DrawResult<'a> =
    std::result::Result<(), DrawingAreaErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>>;

/// One map at `(left, top)`: title, grey cells with their values, outline, grey scale.
fn draw_map<'a>(root: &Area<'a>, map: &Map, left: u32, top: u32, bar_top: u32) -> DrawResult<'a> {
    let (lo, hi) = map.range();
    let grey = |v: f32| -> u8 {
        if hi > lo {
            (((v - lo) / (hi - lo)).clamp(0.0, 1.0) * 255.0).round() as u8
        } else {
            128
        }
    };
    let (l, t) = (left as i32, top as i32);
    let (w, h) = (
        (map.cols as u32 * CELL) as i32,
        (map.rows as u32 * CELL) as i32,
    );
    root.draw(&Text::new(
        map.label.to_string(),
        (l + w / 2, t - TITLE_H as i32 / 2),
        text_style(15, BLACK, HPos::Center, VPos::Center),
    ))?;
    let cell = CELL as i32;
    for r in 0..map.rows {
        for c in 0..map.cols {
            let v = map.get(r, c);
            let g = grey(v);
            let (x, y) = (l + c as i32 * cell, t + r as i32 * cell);
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                RGBColor(g, g, g).filled(),
            ))?;
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                RGBColor(160, 160, 160),
            ))?;
            let ink = if g >= 128 { BLACK } else { WHITE };
            root.draw(&Text::new(
                format_value(v),
                (x + cell / 2, y + cell / 2),
                text_style(14, ink, HPos::Center, VPos::Center),
            ))?;
        }
    }
    root.draw(&Rectangle::new([(l, t), (l + w, t + h)], BLACK))?;
    // The grey scale: black at the map's minimum to white at its maximum.
    let bt = bar_top as i32;
    for x in 0..w {
        let g = ((x as f32 / (w - 1).max(1) as f32) * 255.0).round() as u8;
        root.draw(&Rectangle::new(
            [(l + x, bt), (l + x + 1, bt + BAR_H as i32)],
            RGBColor(g, g, g).filled(),
        ))?;
    }
    root.draw(&Rectangle::new(
        [(l, bt), (l + w, bt + BAR_H as i32)],
        BLACK,
    ))?;
    let label_y = bt + BAR_H as i32 + 4;
    root.draw(&Text::new(
        format_value(lo),
        (l, label_y),
        text_style(12, BLACK, HPos::Left, VPos::Top),
    ))?;
    root.draw(&Text::new(
        format_value(hi),
        (l + w, label_y),
        text_style(12, BLACK, HPos::Right, VPos::Top),
    ))?;
    Ok(())
}

fn text_style(size: u32, colour: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle {
        font: (FONT_FAMILY, size).into_font(),
        color: colour.to_backend_color(),
        pos: Pos::new(h, v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_format_without_trailing_zeros() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(-1.75), "-1.75");
        assert_eq!(format_value(-0.5), "-0.5");
        assert_eq!(format_value(-0.0), "0");
        assert_eq!(format_value(0.25), "0.25");
    }

    #[test]
    fn tables_align_right() {
        let map = Map {
            title: "t",
            label: "t",
            rows: 2,
            cols: 2,
            values: vec![3.0, -1.0, -1.75, 0.0],
        };
        assert_eq!(map.table(), "t\n      3     -1\n  -1.75      0\n");
    }
}
