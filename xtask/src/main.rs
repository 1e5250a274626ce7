//! `cargo xtask <task>`: project chores.
//!
//! - `cargo xtask bench [--quick] [--filter REGEX] [--baseline NAME] [--save-baseline NAME]
//!   [--reference tensorflow] [--large] [--report-only]`: runs the criterion benchmarks
//!   of package `benches` on the CPU backend and on wgpu, and writes the report
//!   (`target/bench-report/`: report.md, report.json, speedup.png, matmul_gflops.png).
//! - `cargo xtask workbench matmul [--version N] [--sizes 256,512] [--check]`: the WGSL
//!   matmul kernel versions side by side, each checked against the CPU and timed.

mod bench;
mod machine;
mod report;
mod workbench;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(about = "Project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run the benchmarks and write the CPU-vs-GPU report to target/bench-report/.
    Bench(bench::BenchArgs),
    /// Compare the WGSL kernel versions of an op: correctness against the CPU, speed.
    Workbench(workbench::WorkbenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Bench(args) => bench::run(&args),
        Task::Workbench(args) => workbench::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}
