//! The progress bar (or periodic lines when quiet), with steps/s.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Instant;

/// Progress bar (interactive) or periodic lines (quiet), with steps/s.
pub struct Progress {
    bar: Option<ProgressBar>,
    start: Instant,
    start_step: u64,
    total: u64,
}

impl Progress {
    /// Progress over `start..total` steps.
    pub fn new(start: u64, total: u64, quiet: bool) -> Self {
        let bar = (!quiet).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_position(start);
            bar
        });
        Progress {
            bar,
            start: Instant::now(),
            start_step: start,
            total,
        }
    }

    /// Steps per second since the start of this session.
    pub fn rate(&self, step: u64) -> f64 {
        let secs = self.start.elapsed().as_secs_f64();
        if secs > 0.0 {
            (step - self.start_step) as f64 / secs
        } else {
            0.0
        }
    }

    /// Moves to `step` with a message; in quiet mode prints when `print` is set.
    pub fn update(&self, step: u64, msg: &str, print: bool) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(step);
                bar.set_message(msg.to_string());
            }
            None if print => {
                eprintln!(
                    "step {step}/{} {:.1} it/s {msg}",
                    self.total,
                    self.rate(step)
                );
            }
            None => {}
        }
    }

    /// Prints a line above the bar (or on its own when quiet).
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Ends the display.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }

    /// Seconds since the start.
    pub fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}
