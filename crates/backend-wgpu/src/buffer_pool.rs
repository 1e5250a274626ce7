//! Buffer pool: storage buffers are recycled by size class instead of freed.
//!
//! A [`WgpuStorage`] returns its buffer to the pool when the last clone drops.
//! The buffer is not reusable at once: commands that read it may still sit in
//! the pending (unsubmitted) encoder, and a `queue.write_buffer` into it would
//! run *before* them at the next submit. So released buffers wait in
//! `released` until the next submit, and only then move to `free`.

use crate::sync::{lock, scoped};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// Buffers bigger than this in total are destroyed rather than cached.
const MAX_CACHED_BYTES: u64 = 1 << 30;

/// A flat f32 buffer on a wgpu device.
#[derive(Clone)]
pub struct WgpuStorage {
    pub(crate) buf: Arc<PooledBuffer>,
}

impl fmt::Debug for WgpuStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WgpuStorage({} bytes)", self.buf.bytes)
    }
}

impl WgpuStorage {
    /// The wgpu buffer (possibly larger than the tensor: it is a pooled size class).
    pub fn buffer(&self) -> &wgpu::Buffer {
        self.buf.buffer.as_ref().expect("buffer present until drop")
    }

    /// Bytes in use: what a binding of this storage covers (at least 4).
    pub fn bytes(&self) -> u64 {
        self.buf.bytes
    }
}

pub(crate) struct PooledBuffer {
    buffer: Option<wgpu::Buffer>,
    class: u64,
    bytes: u64,
    pool: Arc<BufferPool>,
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            self.pool.release(self.class, buffer);
        }
    }
}

#[derive(Default)]
struct PoolState {
    free: HashMap<u64, Vec<wgpu::Buffer>>,
    released: Vec<(u64, wgpu::Buffer)>,
    cached_bytes: u64,
}

/// Free storage buffers by size class.
pub(crate) struct BufferPool {
    device: wgpu::Device,
    max_buffer_size: u64,
    state: Mutex<PoolState>,
}

/// Rounds a request up to its size class: at most 25% larger, so that buffers of
/// nearby sizes are shared (256, 320, 384, 448, 512, 640, ...). Classes are
/// multiples of 64 bytes, so every buffer holds whole vec4s.
pub(crate) fn size_class(bytes: u64) -> u64 {
    let b = bytes.max(256);
    let step = (1u64 << (63 - b.leading_zeros())) / 4;
    b.div_ceil(step) * step
}

impl BufferPool {
    pub fn new(device: wgpu::Device, limits: &wgpu::Limits) -> Self {
        BufferPool {
            device,
            max_buffer_size: limits.max_buffer_size,
            state: Mutex::default(),
        }
    }

    /// A storage buffer of at least `bytes` bytes, recycled when possible.
    pub fn alloc(self: &Arc<Self>, bytes: u64) -> Result<WgpuStorage, String> {
        let bytes = bytes.max(4);
        let mut class = size_class(bytes);
        if class > self.max_buffer_size {
            // Still whole vec4s: launches bind buffers rounded up to 16 bytes.
            class = bytes.div_ceil(16) * 16;
        }
        let reused = {
            let mut st = lock(&self.state);
            let found = st.free.get_mut(&class).and_then(|v| v.pop());
            if found.is_some() {
                st.cached_bytes -= class;
            }
            found
        };
        let buffer = match reused {
            Some(b) => b,
            None => self.create(class)?,
        };
        Ok(WgpuStorage {
            buf: Arc::new(PooledBuffer {
                buffer: Some(buffer),
                class,
                bytes,
                pool: self.clone(),
            }),
        })
    }

    fn create(&self, class: u64) -> Result<wgpu::Buffer, String> {
        let make = || {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("tensor"),
                size: class,
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        match scoped(&self.device, "allocating a buffer", make) {
            Ok(b) => Ok(b),
            Err(first) => {
                // Out of memory with buffers cached: drop the cache and try once more.
                if self.trim() == 0 {
                    return Err(format!("{first} ({class} bytes)"));
                }
                scoped(&self.device, "allocating a buffer", make)
                    .map_err(|e| format!("{e} ({class} bytes, after emptying the pool)"))
            }
        }
    }

    fn release(&self, class: u64, buffer: wgpu::Buffer) {
        lock(&self.state).released.push((class, buffer));
    }

    /// Makes the buffers released before the submit that just happened reusable.
    /// Call right after `queue.submit`, under the pending-encoder lock.
    pub fn recycle_released(&self) {
        let mut st = lock(&self.state);
        let released = std::mem::take(&mut st.released);
        for (class, buffer) in released {
            if st.cached_bytes + class > MAX_CACHED_BYTES {
                // Dropped, not destroyed: in-flight submissions may still use it.
                drop(buffer);
                continue;
            }
            st.cached_bytes += class;
            st.free.entry(class).or_default().push(buffer);
        }
    }

    /// Drops every cached buffer; returns how many bytes that frees (once
    /// in-flight work that used them has finished).
    pub fn trim(&self) -> u64 {
        let mut st = lock(&self.state);
        let freed = st.cached_bytes;
        st.free.clear();
        st.cached_bytes = 0;
        freed
    }
}

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn size_classes_waste_at_most_a_quarter() {
        assert_eq!(size_class(1), 256);
        assert_eq!(size_class(256), 256);
        assert_eq!(size_class(257), 320);
        assert_eq!(size_class(512), 512);
        assert_eq!(size_class(513), 640);
        for b in [300u64, 1000, 4097, 123_457, 10_000_000] {
            let c = size_class(b);
            assert!(c >= b && c as f64 <= b as f64 * 1.25 + 64.0, "{b} -> {c}");
            assert_eq!(size_class(c), c);
        }
    }
}
