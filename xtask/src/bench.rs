//! `cargo xtask bench`: runs criterion, collects its estimates, writes the report.

use crate::report::{self, Entry, Throughput};
use clap::Args;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// Options of `cargo xtask bench`.
#[derive(Args, Clone, Debug)]
pub struct BenchArgs {
    /// A short run (half a second of warm-up and of measurement per benchmark, the square matmuls up to
    /// 1024): under 10 minutes on a 2-core machine with lavapipe.
    #[arg(long)]
    pub quick: bool,
    /// Only the benchmarks whose id (`group/backend/case`) matches this regex.
    #[arg(long)]
    pub filter: Option<String>,
    /// Compare with the run saved under this name (see --save-baseline).
    #[arg(long)]
    pub baseline: Option<String>,
    /// Save this run's figures under a name, for a later --baseline.
    #[arg(long)]
    pub save_baseline: Option<String>,
    /// Add a column from a reference implementation: `tensorflow` runs
    /// benches/reference/tf_steps.py with the Python in $BENCH_PYTHON (or python3).
    #[arg(long, value_parser = ["tensorflow"])]
    pub reference: Option<String>,
    /// Add the n = 4096 matmul (minutes on a software GPU driver).
    #[arg(long)]
    pub large: bool,
    /// Do not run anything: write the report from the estimates criterion already has.
    #[arg(long)]
    pub report_only: bool,
}

/// Where the benchmarks record what they left out (`id\twhy` lines).
pub const SKIPPED: &str = "skipped.txt";

/// The workspace root (the xtask crate's parent).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

/// The cargo target directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

pub fn run(args: &BenchArgs) -> Result<(), String> {
    let filter = args
        .filter
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| format!("--filter: {e}"))?;
    let started = SystemTime::now();
    if !args.report_only {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.current_dir(root())
            .args([
                "bench", "-p", "benches", "--bench", "ops", "--bench", "training",
            ])
            .args(["--bench", "sequence", "--"]);
        if let Some(f) = &args.filter {
            cmd.arg(f);
        }
        if args.quick {
            cmd.args(["--warm-up-time", "0.5", "--measurement-time", "0.5"]);
            cmd.env("BENCH_QUICK", "1");
        }
        let skipped = target_dir().join("bench-report").join(SKIPPED);
        let _ = std::fs::create_dir_all(skipped.parent().expect("a folder"));
        let _ = std::fs::remove_file(&skipped);
        cmd.env("BENCH_SKIPPED_FILE", &skipped);
        if args.large {
            cmd.env("BENCH_LARGE", "1");
        }
        eprintln!("xtask: running {cmd:?}");
        let status = cmd
            .status()
            .map_err(|e| format!("could not run cargo bench: {e}"))?;
        if !status.success() {
            return Err(format!("cargo bench failed ({status})"));
        }
    }
    let since = (!args.report_only).then_some(started);
    let mut entries = collect(&target_dir().join("criterion"), since)?;
    if let Some(re) = &filter {
        entries.retain(|e| re.is_match(&e.id));
    }
    if entries.is_empty() {
        return Err(format!(
            "no criterion results found under {}{}",
            target_dir().join("criterion").display(),
            if args.report_only {
                " (run `cargo xtask bench` first)"
            } else {
                ""
            }
        ));
    }
    let out = target_dir().join("bench-report");
    let baselines = out.join("baselines");
    let baseline = match &args.baseline {
        Some(name) => {
            let path = baselines.join(format!("{name}.json"));
            let text = std::fs::read_to_string(&path).map_err(|e| {
                format!(
                    "--baseline {name}: cannot read {}: {e} (save one with --save-baseline {name})",
                    path.display()
                )
            })?;
            let v: Value = serde_json::from_str(&text).map_err(|e| {
                format!("--baseline {name}: {} is not a report: {e}", path.display())
            })?;
            Some((name.clone(), v))
        }
        None => None,
    };
    let reference = args
        .reference
        .as_ref()
        .map(|_| crate::report::tensorflow_reference(&root()));
    let machine = crate::machine::describe();
    let mut rep = report::Report::new(entries, machine, baseline, reference);
    rep.quick = args.quick;
    rep.skipped = std::fs::read_to_string(out.join(SKIPPED))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(id, why)| (id.to_string(), why.to_string()))
        .collect();
    let table = rep.write(&out)?;
    println!("{table}");
    if let Some(name) = &args.save_baseline {
        std::fs::create_dir_all(&baselines).map_err(|e| format!("{}: {e}", baselines.display()))?;
        let path = baselines.join(format!("{name}.json"));
        std::fs::copy(out.join("report.json"), &path)
            .map_err(|e| format!("cannot save the baseline {}: {e}", path.display()))?;
        eprintln!("xtask: baseline saved as {}", path.display());
    }
    eprintln!(
        "xtask: report in {} (report.md, report.json, speedup.png, matmul_gflops.png)",
        out.display()
    );
    Ok(())
}

/// Every `new/estimates.json` under `dir` written since `since` (all when `None`).
pub fn collect(dir: &Path, since: Option<SystemTime>) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&d) else {
            continue;
        };
        for item in read.flatten() {
            let path = item.path();
            if path.is_dir() {
                if path
                    .file_name()
                    .is_some_and(|n| n != "base" && n != "change")
                {
                    stack.push(path);
                }
                continue;
            }
            if path.file_name().is_none_or(|n| n != "estimates.json")
                || path
                    .parent()
                    .and_then(Path::file_name)
                    .is_none_or(|n| n != "new")
            {
                continue;
            }
            if let Some(since) = since {
                let fresh = item
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t >= since);
                if !fresh {
                    continue;
                }
            }
            if let Some(e) = read_entry(&path) {
                out.push(e);
            }
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn read_entry(estimates: &Path) -> Option<Entry> {
    let est = read_json(estimates)?;
    let bench = read_json(&estimates.with_file_name("benchmark.json"))?;
    let id = bench["full_id"].as_str()?.to_string();
    let throughput = match &bench["throughput"] {
        Value::Object(m) => m.iter().next().and_then(|(k, v)| {
            let n = v.as_u64()? as f64;
            match k.as_str() {
                "Elements" => Some(Throughput::Flop(n)),
                "Bytes" | "BytesDecimal" => Some(Throughput::Bytes(n)),
                _ => None,
            }
        }),
        _ => None,
    };
    let median = &est["median"];
    Some(Entry::new(
        id,
        median["point_estimate"].as_f64()?,
        median["confidence_interval"]["lower_bound"].as_f64()?,
        median["confidence_interval"]["upper_bound"].as_f64()?,
        throughput,
    ))
}
