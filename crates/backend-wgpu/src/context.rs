//! Opening a device: instance, adapter choice, limits and error capture.

use crate::buffer_pool::BufferPool;
use crate::pending::Pending;
use crate::pipeline::PipelineCache;
use crate::sync::{describe_error, lock};
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tensor::{Error, Result};

/// Environment variable that picks an adapter by a case-insensitive substring of its name.
pub const ADAPTER_ENV: &str = "WGPU_ADAPTER_NAME";

/// Name under which this backend reports errors.
pub(crate) const BACKEND: &str = "wgpu";

/// A handle to one wgpu device with its pipeline cache, buffer pool and pending
/// command encoder. Cloning is cheap (an `Arc`); clones share everything.
#[derive(Clone)]
pub struct Wgpu {
    pub(crate) inner: Arc<Inner>,
}

/// Everything one device needs, shared by all clones of a [`Wgpu`].
pub(crate) struct Inner {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    /// Errors reported by wgpu outside any error scope (validation of a dispatch,
    /// a lost device); drained into an `Err` by the next operation that checks.
    pub errors: Arc<Mutex<Vec<String>>>,
    pub pool: Arc<BufferPool>,
    pub pipelines: PipelineCache,
    pub pending: Mutex<Pending>,
    /// Workgroups per grid dimension that launches may use: the device limit,
    /// lowered only by tests (see [`Wgpu::limit_grid_for_testing`]).
    pub grid_limit: AtomicU32,
}

impl fmt::Debug for Wgpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.describe())
    }
}

impl Wgpu {
    /// Opens the default adapter.
    ///
    /// The backends tried follow `WGPU_BACKEND` (e.g. `vulkan`, `gl`; all when unset),
    /// the adapter follows [`ADAPTER_ENV`] (`WGPU_ADAPTER_NAME`, a substring of the
    /// adapter's name) or else `WGPU_POWER_PREF` (`high` by default). Without any
    /// adapter this returns [`Error::Backend`] saying what was tried and how to
    /// install a software driver; it never panics.
    pub fn new() -> Result<Wgpu> {
        pollster::block_on(Self::open())
    }

    async fn open() -> Result<Wgpu> {
        check_backend_env()?;
        let desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        let backends = desc.backends;
        let instance = wgpu::Instance::new(desc);
        let adapter = match std::env::var(ADAPTER_ENV) {
            Ok(wanted) if !wanted.is_empty() => {
                let adapters = instance.enumerate_adapters(backends).await;
                let wanted_lc = wanted.to_lowercase();
                let names: Vec<String> = adapters
                    .iter()
                    .map(|a| {
                        let i = a.get_info();
                        format!("{} ({:?})", i.name, i.backend)
                    })
                    .collect();
                adapters
                    .into_iter()
                    .find(|a| a.get_info().name.to_lowercase().contains(&wanted_lc))
                    .ok_or_else(|| {
                        Error::backend(
                            BACKEND,
                            format!(
                                "{ADAPTER_ENV}={wanted:?} matches no adapter; backends tried: \
                                 {backends:?}; adapters found: [{}]",
                                names.join(", ")
                            ),
                        )
                    })?
            }
            _ => {
                let options = wgpu::RequestAdapterOptions {
                    power_preference: wgpu::PowerPreference::from_env()
                        .unwrap_or(wgpu::PowerPreference::HighPerformance),
                    ..Default::default()
                };
                instance.request_adapter(&options).await.map_err(|e| {
                    Error::backend(
                        BACKEND,
                        format!(
                            "no GPU adapter found (backends tried: {backends:?}; wgpu: {e}). \
                             On a machine without a GPU, install the software Vulkan driver \
                             with `apt-get install mesa-vulkan-drivers libvulkan1` (lavapipe); \
                             choose a backend with WGPU_BACKEND=vulkan|gl|metal|dx12"
                        ),
                    )
                })?
            }
        };
        let info = adapter.get_info();
        let device_desc = wgpu::DeviceDescriptor {
            label: Some("backend-wgpu"),
            required_features: wgpu::Features::empty(),
            // The adapter's own limits: the defaults cap workgroup memory at 16 KiB
            // and storage bindings at 128 MiB even where the device allows more.
            required_limits: adapter.limits(),
            memory_hints: wgpu::MemoryHints::Performance,
            ..Default::default()
        };
        let (device, queue) = adapter.request_device(&device_desc).await.map_err(|e| {
            Error::backend(
                BACKEND,
                format!(
                    "request_device on {} ({:?}) failed: {e}",
                    info.name, info.backend
                ),
            )
        })?;
        let limits = device.limits();

        // The default handler panics; ours records the error for the next op to return.
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            lock(&sink).push(describe_error(&e));
        }));
        let sink = errors.clone();
        device.set_device_lost_callback(move |reason, message| {
            lock(&sink).push(format!("device lost ({reason:?}): {message}"));
        });

        let pool = Arc::new(BufferPool::new(device.clone(), &limits));
        let pending = Pending::new(&device, &limits);
        let pipelines = PipelineCache::default();
        let grid_limit = AtomicU32::new(limits.max_compute_workgroups_per_dimension);
        Ok(Wgpu {
            inner: Arc::new(Inner {
                device,
                queue,
                info,
                limits,
                errors,
                pool,
                pipelines,
                pending: Mutex::new(pending),
                grid_limit,
            }),
        })
    }

    /// `wgpu (<adapter name>, <backend>)`, e.g. `wgpu (llvmpipe (LLVM 15.0.6, 256 bits), Vulkan)`.
    pub fn describe(&self) -> String {
        format!(
            "wgpu ({}, {:?})",
            self.inner.info.name, self.inner.info.backend
        )
    }

    /// The adapter this backend runs on.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.inner.info
    }

    /// The device limits in force (the adapter's own limits).
    pub fn limits(&self) -> &wgpu::Limits {
        &self.inner.limits
    }

    /// Lowers the workgroups per grid dimension that launches use (at least 1), so
    /// that tests can exercise folded and split grids on small data. Affects every
    /// clone of this handle; meant for tests only.
    #[doc(hidden)]
    pub fn limit_grid_for_testing(&self, max_workgroups_per_dimension: u32) {
        let limit = max_workgroups_per_dimension
            .clamp(1, self.inner.limits.max_compute_workgroups_per_dimension);
        self.inner.grid_limit.store(limit, Ordering::Relaxed);
    }

    /// Workgroups per grid dimension that launches may use.
    pub(crate) fn grid_limit(&self) -> u32 {
        self.inner.grid_limit.load(Ordering::Relaxed)
    }

    /// Submits all recorded work and waits until the device has finished it.
    pub fn synchronize(&self) -> Result<()> {
        let index = self.flush()?;
        if let Some(index) = index {
            self.wait_for(index)?;
        }
        self.check_errors()
    }

    /// Returns the errors wgpu reported outside error scopes since the last check.
    pub(crate) fn check_errors(&self) -> Result<()> {
        let mut errors = lock(&self.inner.errors);
        if errors.is_empty() {
            return Ok(());
        }
        let all = std::mem::take(&mut *errors).join("; ");
        Err(Error::backend(BACKEND, all))
    }

    /// An `Error::Backend` naming this device.
    pub(crate) fn error(&self, reason: impl fmt::Display) -> Error {
        Error::backend(
            format!("{BACKEND} ({})", self.inner.info.name),
            reason.to_string(),
        )
    }

    /// Fails if `len` f32 elements cannot be bound as one storage buffer.
    pub(crate) fn check_binding_size(&self, op: &str, len: usize) -> Result<()> {
        let bytes = (len as u64).saturating_mul(4);
        let limit = self
            .inner
            .limits
            .max_storage_buffer_binding_size
            .min(self.inner.limits.max_buffer_size);
        if bytes > limit {
            return Err(self.error(format!(
                "{op}: a tensor of {len} elements ({bytes} bytes) exceeds this device's \
                 max_storage_buffer_binding_size of {limit} bytes"
            )));
        }
        Ok(())
    }
}

/// Names `WGPU_BACKEND` may list (wgpu ignores others, which would leave no backend).
const BACKEND_NAMES: [&str; 11] = [
    "vulkan", "vk", "dx12", "d3d12", "metal", "mtl", "gl", "gles", "opengl", "webgpu", "noop",
];

/// Refuses a `WGPU_BACKEND` naming a backend wgpu does not know, instead of trying none.
fn check_backend_env() -> Result<()> {
    let Ok(value) = std::env::var("WGPU_BACKEND") else {
        return Ok(());
    };
    let unknown: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty() && !BACKEND_NAMES.contains(&t.to_lowercase().as_str()))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Error::backend(
            BACKEND,
            format!(
                "WGPU_BACKEND={value:?}: unknown backend {}; use vulkan, gl, metal or dx12 \
                 (comma-separated), or unset it to try all",
                unknown.join(", ")
            ),
        ))
    }
}
