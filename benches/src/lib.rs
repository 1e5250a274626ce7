//! What the benchmarks of this package share: the quick-run switch and the record of
//! what a quick run leaves out (read by `cargo xtask bench` for its report).

use std::io::Write;
use std::time::Instant;

/// Whether a short run was asked for (`BENCH_QUICK=1`, set by `cargo xtask bench --quick`).
pub fn quick() -> bool {
    std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The longest one iteration may take on wgpu in a quick run, in seconds.
pub const QUICK_WGPU_LIMIT_SECS: f64 = 1.5;

/// Records that benchmark `id` was left out and why: a line `id\twhy` appended to the
/// file named by `BENCH_SKIPPED_FILE` (when set), and a note on stderr.
pub fn note_skipped(id: &str, why: &str) {
    eprintln!("{id}: skipped ({why})");
    if let Some(path) = std::env::var_os("BENCH_SKIPPED_FILE")
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = writeln!(f, "{id}\t{why}");
    }
}

/// Benchmarks a quick run leaves out on a software adapter without timing them first
/// (one ACGAN iteration takes about a minute on lavapipe).
const HEAVY: [&str; 1] = ["/acgan/"];

/// Whether the wgpu adapter is a CPU (a software driver such as lavapipe).
fn software_adapter() -> bool {
    backend_wgpu::Wgpu::new().is_ok_and(|g| format!("{:?}", g.adapter_info().device_type) == "Cpu")
}

/// In a quick run on wgpu, times one call of `iteration` (which also warms the
/// pipelines up) and skips benchmark `id` when it took longer than
/// [`QUICK_WGPU_LIMIT_SECS`]; returns whether it is skipped. Elsewhere it runs
/// nothing and returns `false`.
pub fn skip_if_slow(id: &str, backend: &str, mut iteration: impl FnMut()) -> bool {
    if !quick() || backend != "wgpu" {
        return false;
    }
    if HEAVY.iter().any(|h| id.contains(h)) && software_adapter() {
        note_skipped(
            id,
            "--quick: about a minute an iteration on a software adapter",
        );
        return true;
    }
    let t = Instant::now();
    iteration();
    let secs = t.elapsed().as_secs_f64();
    if secs > QUICK_WGPU_LIMIT_SECS {
        note_skipped(
            id,
            &format!("--quick: one iteration took {secs:.1} s on this adapter"),
        );
        return true;
    }
    false
}
