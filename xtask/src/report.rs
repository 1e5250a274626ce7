//! The report: `report.md` (a table per group), `report.json`, and the charts.

use plotters::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// What one iteration of a benchmark processes.
#[derive(Clone, Copy, Debug)]
pub enum Throughput {
    /// Floating-point operations.
    Flop(f64),
    /// Bytes read and written.
    Bytes(f64),
}

/// One benchmark's estimate.
#[derive(Clone, Debug)]
pub struct Entry {
    /// criterion's full id, `group/backend/case`.
    pub id: String,
    pub group: String,
    /// `cpu` or `wgpu` (`None` when the id names neither).
    pub backend: Option<String>,
    /// The id without the group and the backend.
    pub case: String,
    /// Median time per iteration and its 95% interval, in nanoseconds.
    pub median_ns: f64,
    pub lower_ns: f64,
    pub upper_ns: f64,
    pub throughput: Option<Throughput>,
}

impl Entry {
    pub fn new(
        id: String,
        median_ns: f64,
        lower_ns: f64,
        upper_ns: f64,
        throughput: Option<Throughput>,
    ) -> Self {
        let parts: Vec<&str> = id.split('/').collect();
        let group = parts.first().copied().unwrap_or("").to_string();
        let at = parts
            .iter()
            .skip(1)
            .position(|p| *p == "cpu" || *p == "wgpu")
            .map(|i| i + 1);
        let backend = at.map(|i| parts[i].to_string());
        let case = parts
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(i, _)| Some(*i) != at)
            .map(|(_, p)| *p)
            .collect::<Vec<_>>()
            .join("/");
        Entry {
            id,
            group,
            backend,
            case,
            median_ns,
            lower_ns,
            upper_ns,
            throughput,
        }
    }

    /// `12.3 GFLOP/s` or `4.5 GB/s`.
    pub fn rate(&self) -> Option<String> {
        let per_sec = |n: f64| n / (self.median_ns * 1e-9);
        match self.throughput? {
            Throughput::Flop(n) => Some(format!("{:.1} GFLOP/s", per_sec(n) / 1e9)),
            Throughput::Bytes(n) => Some(format!("{:.1} GB/s", per_sec(n) / 1e9)),
        }
    }

    fn json(&self) -> Value {
        let (kind, per_sec) = match self.throughput {
            Some(Throughput::Flop(n)) => (Some("flop"), Some(n / (self.median_ns * 1e-9))),
            Some(Throughput::Bytes(n)) => (Some("bytes"), Some(n / (self.median_ns * 1e-9))),
            None => (None, None),
        };
        json!({
            "id": self.id,
            "group": self.group,
            "backend": self.backend,
            "case": self.case,
            "median_ns": self.median_ns,
            "lower_ns": self.lower_ns,
            "upper_ns": self.upper_ns,
            "throughput_kind": kind,
            "throughput_per_sec": per_sec,
        })
    }
}

/// `812 ns`, `3.41 µs`, `12.5 ms`, `2.01 s`.
pub fn time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// A case of a group on each backend.
#[derive(Default)]
struct Row {
    cpu: Option<Entry>,
    gpu: Option<Entry>,
}

/// Everything the report shows.
pub struct Report {
    groups: BTreeMap<String, BTreeMap<String, Row>>,
    entries: Vec<Entry>,
    machine: Value,
    baseline: Option<(String, BTreeMap<String, f64>)>,
    /// The reference's times by `group/case`, and its note.
    reference: Option<(BTreeMap<String, f64>, String)>,
    /// Whether this was a `--quick` run.
    pub quick: bool,
    /// Benchmarks the run left out (`group/backend/case`) and why.
    pub skipped: BTreeMap<String, String>,
}

impl Report {
    pub fn new(
        entries: Vec<Entry>,
        machine: Value,
        baseline: Option<(String, Value)>,
        reference: Option<Value>,
    ) -> Self {
        let mut groups: BTreeMap<String, BTreeMap<String, Row>> = BTreeMap::new();
        for e in &entries {
            let row = groups
                .entry(e.group.clone())
                .or_default()
                .entry(e.case.clone())
                .or_default();
            match e.backend.as_deref() {
                Some("wgpu") => row.gpu = Some(e.clone()),
                _ => row.cpu = Some(e.clone()),
            }
        }
        let baseline = baseline.map(|(name, v)| {
            let times = v["benchmarks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|b| Some((b["id"].as_str()?.to_string(), b["median_ns"].as_f64()?)))
                .collect();
            (name, times)
        });
        let reference = reference.map(|v| {
            let times = v["steps"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, t)| Some((k.clone(), t.as_f64()? * 1e9)))
                .collect();
            (times, v["note"].as_str().unwrap_or("").to_string())
        });
        Report {
            groups,
            entries,
            machine,
            baseline,
            reference,
            quick: false,
            skipped: BTreeMap::new(),
        }
    }

    fn change(&self, e: Option<&Entry>) -> String {
        let Some((_, base)) = &self.baseline else {
            return String::new();
        };
        match e.and_then(|e| Some((e, base.get(&e.id)?))) {
            Some((e, b)) => format!("{:+.1}%", 100.0 * (e.median_ns - b) / b),
            None => "new".into(),
        }
    }

    /// The markdown tables (also printed).
    pub fn markdown(&self) -> String {
        let m = &self.machine;
        let mut out = String::from("# Benchmark report\n\n");
        out += &format!("- CPU: {}\n", crate::machine::cpu_line(m));
        out += &format!("- GPU: {}\n", crate::machine::adapter_line(m));
        let no_gpu = m["adapter"]["none"].as_str().is_some();
        if let Some((_, note)) = &self.reference {
            out += &format!("- Reference: {note}\n");
        }
        if let Some((name, _)) = &self.baseline {
            out += &format!("- Change: against the run saved as `{name}` (negative: faster now)\n");
        }
        if self.quick {
            out += "- Quick run (`--quick`): half a second of warm-up and of measurement per benchmark; on wgpu it \
                    leaves out convolutions over 5 GFLOP a call and steps over 1.5 s an iteration \
                    (listed below)\n";
        }
        out += "\nTimes are criterion's medians per iteration. GPU speed-up = CPU time / GPU time \
                (above 1: the GPU is faster); GPU timings include the wait for the device.\n";
        if !self.skipped.is_empty() {
            out += "\nLeft out of this run:\n\n";
            for (id, why) in &self.skipped {
                out += &format!("- `{id}`: {why}\n");
            }
        }
        for (group, rows) in &self.groups {
            let has_tf = self
                .reference
                .as_ref()
                .is_some_and(|(t, _)| rows.keys().any(|c| t.contains_key(&format!("{group}/{c}"))));
            out += &format!(
                "\n## {group}\n\n| benchmark | CPU | GPU | GPU speed-up | CPU rate | GPU rate |"
            );
            let mut rule = String::from("|---|---:|---:|---:|---:|---:|");
            if has_tf {
                out += " TensorFlow | CPU / TF |";
                rule += "---:|---:|";
            }
            if self.baseline.is_some() {
                out += " CPU change | GPU change |";
                rule += "---:|---:|";
            }
            out += &format!("\n{rule}\n");
            for (case, row) in rows {
                let t = |e: &Option<Entry>| e.as_ref().map_or("-".into(), |e| time(e.median_ns));
                let skipped = self.skipped.contains_key(&format!("{group}/wgpu/{case}"));
                let gpu = match (&row.gpu, no_gpu, skipped) {
                    (None, true, _) => "no adapter".into(),
                    (None, false, true) => "skipped".into(),
                    _ => t(&row.gpu),
                };
                let speedup = match (&row.cpu, &row.gpu) {
                    (Some(c), Some(g)) => format!("{:.2}x", c.median_ns / g.median_ns),
                    _ => "-".into(),
                };
                let rate = |e: &Option<Entry>| {
                    e.as_ref()
                        .and_then(Entry::rate)
                        .unwrap_or_else(|| "-".into())
                };
                out += &format!(
                    "| {case} | {} | {gpu} | {speedup} | {} | {} |",
                    t(&row.cpu),
                    rate(&row.cpu),
                    rate(&row.gpu)
                );
                if has_tf {
                    let tf = self
                        .reference
                        .as_ref()
                        .and_then(|(t, _)| t.get(&format!("{group}/{case}")));
                    match (tf, &row.cpu) {
                        (Some(tf), Some(c)) => {
                            out += &format!(" {} | {:.2} |", time(*tf), c.median_ns / tf)
                        }
                        (Some(tf), None) => out += &format!(" {} | - |", time(*tf)),
                        _ => out += " - | - |",
                    }
                }
                if self.baseline.is_some() {
                    out += &format!(
                        " {} | {} |",
                        self.change(row.cpu.as_ref()),
                        self.change(row.gpu.as_ref())
                    );
                }
                out.push('\n');
            }
        }
        out
    }

    /// Writes report.md, report.json and the charts into `dir`; returns the markdown.
    pub fn write(&self, dir: &Path) -> Result<String, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let md = self.markdown();
        let json = json!({
            "machine": self.machine,
            "generated_unix": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            "benchmarks": self.entries.iter().map(Entry::json).collect::<Vec<_>>(),
            "reference": self.reference.as_ref().map(|(t, note)| json!({
                "note": note,
                "median_ns": t,
            })),
        });
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))
        };
        write("report.md", md.as_bytes())?;
        write(
            "report.json",
            serde_json::to_string_pretty(&json)
                .unwrap_or_default()
                .as_bytes(),
        )?;
        self.speedup_chart(&dir.join("speedup.png"))?;
        self.matmul_chart(&dir.join("matmul_gflops.png"))?;
        Ok(md)
    }

    /// Horizontal bars: the GPU speed-up of every benchmark run on both backends, on a
    /// log scale (bars to the right of 1: the GPU is faster).
    fn speedup_chart(&self, path: &Path) -> Result<(), String> {
        let pairs: Vec<(String, f64)> = self
            .groups
            .iter()
            .flat_map(|(g, rows)| {
                rows.iter().filter_map(move |(c, r)| {
                    let (cpu, gpu) = (r.cpu.as_ref()?, r.gpu.as_ref()?);
                    Some((format!("{g}/{c}"), cpu.median_ns / gpu.median_ns))
                })
            })
            .collect();
        register_font();
        let height = (120 + 18 * pairs.len().max(1)) as u32;
        let root = BitMapBackend::new(path, (1100, height)).into_drawing_area();
        let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        root.fill(&WHITE).map_err(|e| err(&e))?;
        if pairs.is_empty() {
            root.draw(&Text::new(
                "no benchmark ran on both backends (no wgpu adapter?)",
                (20, 40),
                ("sans-serif", 18).into_font(),
            ))
            .map_err(|e| err(&e))?;
            return root.present().map_err(|e| err(&e));
        }
        let logs: Vec<f64> = pairs.iter().map(|(_, s)| s.log10()).collect();
        let lo = logs
            .iter()
            .copied()
            .fold(0.0f64, f64::min)
            .floor()
            .min(-1.0);
        let hi = logs.iter().copied().fold(0.0f64, f64::max).ceil().max(1.0);
        let n = pairs.len();
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "GPU speed-up (CPU time / GPU time, log scale)",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(420)
            .build_cartesian_2d(lo..hi, (0..n).into_segmented())
            .map_err(|e| err(&e))?;
        let names: Vec<String> = pairs.iter().map(|(n, _)| n.clone()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|y| match y {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => names
                    .get(n.wrapping_sub(1).wrapping_sub(*i))
                    .cloned()
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .x_label_formatter(&|x| format!("{}x", fmt_factor(10f64.powf(*x))))
            .x_desc("GPU speed-up")
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(|e| err(&e))?;
        chart
            .draw_series(pairs.iter().enumerate().map(|(i, (_, s))| {
                let y = n - 1 - i;
                let colour = if *s >= 1.0 {
                    RGBColor(40, 130, 60)
                } else {
                    RGBColor(200, 80, 50)
                };
                Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(y)),
                        (s.log10(), SegmentValue::Exact(y + 1)),
                    ],
                    colour.filled(),
                )
            }))
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))
    }

    /// GFLOP/s of the square matmuls against n, one line per backend.
    fn matmul_chart(&self, path: &Path) -> Result<(), String> {
        let mut series = Vec::new();
        for (backend, label) in [("cpu", "CPU"), ("wgpu", "GPU (wgpu)")] {
            let mut points: Vec<(f64, f64)> = self
                .entries
                .iter()
                .filter(|e| e.group == "matmul" && e.backend.as_deref() == Some(backend))
                .filter_map(|e| {
                    let dims: Vec<usize> =
                        e.case.split('x').filter_map(|d| d.parse().ok()).collect();
                    let square = dims.len() == 3 && dims[0] == dims[1] && dims[1] == dims[2];
                    let Some(Throughput::Flop(f)) = e.throughput else {
                        return None;
                    };
                    square.then(|| (dims[0] as f64, f / (e.median_ns * 1e-9) / 1e9))
                })
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            if !points.is_empty() {
                series.push(train::Series {
                    name: label.into(),
                    points,
                });
            }
        }
        if series.is_empty() {
            return Ok(());
        }
        train::line_chart(path, "matmul, square n x n x n", "n", "GFLOP/s", &series)
            .map_err(|e| e.to_string())
    }
}

fn fmt_factor(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}").trim_end_matches('0').to_string()
    }
}

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The font the run charts use (crates/train/assets, free licence).
        static FONT: &[u8] = include_bytes!("../../crates/train/assets/DejaVuSansMono.ttf");
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Runs `benches/reference/tf_steps.py` with the Python of `$BENCH_PYTHON` (or
/// `python3`): `{"steps": {"train_step/gan/batch32": seconds, ...}, "note": ...}`, or
/// a note saying how to install TensorFlow.
pub fn tensorflow_reference(root: &Path) -> Value {
    let python = std::env::var("BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = root.join("benches/reference/tf_steps.py");
    eprintln!(
        "xtask: timing the TensorFlow twins with {python} {}",
        script.display()
    );
    let out = std::process::Command::new(&python).arg(&script).output();
    let install = "install it with `python3 -m venv ~/tf && ~/tf/bin/pip install tensorflow-cpu`, \
                   then BENCH_PYTHON=~/tf/bin/python cargo xtask bench --reference tensorflow";
    match out {
        Ok(o) if o.status.success() => match serde_json::from_slice::<Value>(&o.stdout) {
            Ok(v) => v,
            Err(e) => json!({"steps": {}, "note": format!("{script:?} printed no report ({e})")}),
        },
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            let last = err
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("")
                .to_string();
            json!({"steps": {}, "note": format!("TensorFlow not available to {python} ({last}); {install}")})
        }
        Err(e) => json!({"steps": {}, "note": format!("cannot run {python}: {e}; {install}")}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_into_group_backend_and_case() {
        let e = Entry::new("train_step/wgpu/gan/batch32".into(), 1.0, 1.0, 1.0, None);
        assert_eq!(
            (e.group.as_str(), e.backend.as_deref(), e.case.as_str()),
            ("train_step", Some("wgpu"), "gan/batch32")
        );
        let e = Entry::new("matmul/cpu/256x256x256".into(), 1.0, 1.0, 1.0, None);
        assert_eq!(
            (e.backend.as_deref(), e.case.as_str()),
            (Some("cpu"), "256x256x256")
        );
        let e = Entry::new("other/thing".into(), 1.0, 1.0, 1.0, None);
        assert_eq!((e.backend, e.case.as_str()), (None, "thing"));
    }

    #[test]
    fn rates_and_times_read_as_written() {
        // 2 GFLOP in 10 ms is 200 GFLOP/s; 1 GB in 0.5 s is 2 GB/s.
        let e = Entry::new("m/cpu/x".into(), 1e7, 1e7, 1e7, Some(Throughput::Flop(2e9)));
        assert_eq!(e.rate().unwrap(), "200.0 GFLOP/s");
        let e = Entry::new(
            "m/cpu/x".into(),
            5e8,
            5e8,
            5e8,
            Some(Throughput::Bytes(1e9)),
        );
        assert_eq!(e.rate().unwrap(), "2.0 GB/s");
        assert_eq!(time(812.0), "812 ns");
        assert_eq!(time(3_410.0), "3.41 µs");
        assert_eq!(time(12_500_000.0), "12.50 ms");
        assert_eq!(time(2_010_000_000.0), "2.01 s");
    }

    /// A CPU row and its GPU twin make one line with the speed-up CPU / GPU; a
    /// baseline gives the change; without an adapter the GPU column says so.
    #[test]
    fn rows_pair_backends_and_compare_with_the_baseline() {
        let entries = vec![
            Entry::new("train_step/cpu/gan/batch32".into(), 8e6, 8e6, 8e6, None),
            Entry::new("train_step/wgpu/gan/batch32".into(), 2e6, 2e6, 2e6, None),
        ];
        let base = json!({"benchmarks": [{"id": "train_step/cpu/gan/batch32", "median_ns": 1e7}]});
        let machine = json!({"cpu": "c", "logical_cores": 2, "os": "o", "adapter": {"name": "g"}});
        let md = Report::new(
            entries.clone(),
            machine,
            Some(("before".into(), base)),
            None,
        )
        .markdown();
        let line = md.lines().find(|l| l.starts_with("| gan/batch32")).unwrap();
        assert_eq!(
            line,
            "| gan/batch32 | 8.00 ms | 2.00 ms | 4.00x | - | - | -20.0% | new |"
        );
        let none =
            json!({"cpu": "c", "logical_cores": 2, "os": "o", "adapter": {"none": "no Vulkan"}});
        let md = Report::new(entries[..1].to_vec(), none, None, None).markdown();
        assert!(md.contains("no wgpu adapter: no Vulkan"), "{md}");
        assert!(
            md.contains("| gan/batch32 | 8.00 ms | no adapter | - |"),
            "{md}"
        );
    }
}
