//! Locking and wgpu error capture: the leaf every other module of the crate may
//! use (it imports nothing from the crate, so no import circle goes through it).

use std::sync::Mutex;

/// Locks a mutex, recovering the data if another thread panicked while holding it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One line for a wgpu error, with its kind.
pub(crate) fn describe_error(e: &wgpu::Error) -> String {
    match e {
        wgpu::Error::OutOfMemory { .. } => "out of device memory".to_string(),
        wgpu::Error::Validation { description, .. } => format!("validation error: {description}"),
        wgpu::Error::Internal { description, .. } => format!("internal error: {description}"),
    }
}

/// Runs `f` inside Validation, OutOfMemory and Internal error scopes and turns
/// anything they catch into an `Err`.
pub(crate) fn scoped<T>(
    device: &wgpu::Device,
    what: &str,
    f: impl FnOnce() -> T,
) -> std::result::Result<T, String> {
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let memory = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
    let value = f();
    let caught: Vec<String> = [
        pollster::block_on(internal.pop()),
        pollster::block_on(memory.pop()),
        pollster::block_on(validation.pop()),
    ]
    .into_iter()
    .flatten()
    .map(|e| describe_error(&e))
    .collect();
    if caught.is_empty() {
        Ok(value)
    } else {
        Err(format!("{what}: {}", caught.join("; ")))
    }
}
