//! Ctrl-C and SIGTERM as a clean stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by Ctrl-C, SIGTERM or SIGHUP (what `timeout`, `docker stop`, Slurm and systemd
/// send); the training loop saves a checkpoint and stops. A second signal ends the
/// process at once (exit code 130), so work after the loop (scoring) never holds a
/// user who asked twice.
#[derive(Clone)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// Installs the Ctrl-C handler (once per process; later calls share the flag).
    pub fn install() -> Self {
        static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
        let flag = FLAG
            .get_or_init(|| {
                let flag = Arc::new(AtomicBool::new(false));
                let f = flag.clone();
                // If a handler is already installed (embedding application), Ctrl-C keeps its behaviour.
                let _ = ctrlc::set_handler(move || {
                    if f.swap(true, Ordering::SeqCst) {
                        eprintln!("stopped again: exiting now");
                        std::process::exit(130);
                    }
                    eprintln!(
                        "stopping: finishing the step and saving a checkpoint (again to exit now)"
                    );
                });
                flag
            })
            .clone();
        StopFlag(flag)
    }

    /// Whether a stop was requested.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
