//! PNG output: line charts of a run (loss curves, densities) and atomic PNG writes.

use crate::{Error, MetricsLog, Result};
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

fn io_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(path, e)
}

/// Saves a PNG atomically (temp file + rename).
pub fn save_png(path: &Path, img: &image::RgbImage) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    }
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)
        .map_err(|e| io_err(path, e))?;
    Ok(nn::checkpoint::write_atomic(path, png.get_ref())?)
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // DejaVu Sans Mono (free licence, see assets/DejaVu-LICENSE): the chart text
        // renders the same on every machine, with no system font needed.
        static FONT: &[u8] = include_bytes!("../assets/DejaVuSansMono.ttf");
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// One named series of `(x, y)` points.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A line chart of several series with axis labels and a legend, saved as PNG.
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<()> {
    register_font();
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if all.is_empty() {
        return Err(io_err(path, "nothing to plot"));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in &all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let margin = ((y1 - y0) * 0.05).max(1e-6);
    let (y0, y1) = (y0 - margin, y1 + margin);
    // The bitmap backend picks the encoder from the extension, so the temp name ends in .png.
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp.png"));
    let draw = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        let root = BitMapBackend::new(&tmp, (900, 540)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .label_style(("sans-serif", 13))
            .draw()?;
        let colors = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];
        for (i, s) in series.iter().enumerate() {
            let color = colors[i % colors.len()];
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    color.stroke_width(2),
                ))?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| io_err(path, format!("cannot draw chart: {e}")))?;
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

/// Line chart of metrics-log columns against `step`: `(key, legend)` per series.
/// Nothing is drawn for an empty log.
pub fn plot_metrics(
    metrics: &MetricsLog,
    path: &Path,
    title: &str,
    y_label: &str,
    columns: &[(&str, &str)],
) -> Result<()> {
    let records = metrics.read_all()?;
    if records.is_empty() {
        return Ok(());
    }
    let series: Vec<Series> = columns
        .iter()
        .map(|(key, name)| Series {
            name: (*name).into(),
            points: records
                .iter()
                .filter_map(|r| Some((r["step"].as_f64()?, r[*key].as_f64()?)))
                .collect(),
        })
        .collect();
    line_chart(path, title, "iteration", y_label, &series)
}
