//! Recording dispatches lazily, submitting them, and reading results back.
//!
//! Dispatches go into one command encoder (and one open compute pass). Nothing
//! is submitted until the host reads a buffer (`to_vec`) or [`MAX_PENDING`]
//! dispatches have piled up. Each dispatch's parameters take a 256-byte slot of
//! one uniform "arena" buffer; the arena is uploaded with a single
//! `write_buffer` just before the submit, which WebGPU orders before the
//! submitted commands, so every dispatch sees its own slot.

use crate::buffer_pool::WgpuStorage;
use crate::context::Wgpu;
use crate::pending::{MAX_PENDING, Pending, SLOT};
use crate::pipeline::{Access, Kernel};
use crate::sync::{lock, scoped};
use bytemuck::Pod;
use tensor::Result;

/// Invocations per workgroup of every 1-D kernel (`const WG` in the shaders).
pub(crate) const WG: u32 = 256;

impl Wgpu {
    /// A fresh output buffer for `len` f32 values (contents undefined).
    pub(crate) fn alloc(&self, op: &str, len: usize) -> Result<WgpuStorage> {
        self.check_binding_size(op, len)?;
        self.inner
            .pool
            .alloc(len as u64 * 4)
            .map_err(|e| self.error(format!("{op}: {e}")))
    }

    /// Uploads raw 32-bit words (f32 data or u32 indices) into a pooled buffer.
    pub(crate) fn upload<T: Pod>(&self, op: &str, data: &[T]) -> Result<WgpuStorage> {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        let storage = self.alloc(op, bytes.len() / 4)?;
        if !bytes.is_empty() {
            // The buffer is free (not used by unsubmitted commands), so this write,
            // which runs at the start of the next submit, cannot clobber a reader.
            self.inner
                .queue
                .write_buffer(storage.buffer(), 0, &bytes[..bytes.len() / 4 * 4]);
        }
        Ok(storage)
    }

    /// Replaces `s` by a private copy if another handle shares its buffer, so that
    /// an in-place kernel may write it.
    pub(crate) fn make_unique(&self, op: &str, s: &mut WgpuStorage) -> Result<()> {
        if std::sync::Arc::strong_count(&s.buf) == 1 {
            return Ok(());
        }
        let copy = self.alloc(op, (s.bytes() / 4) as usize)?;
        let mut st = lock(&self.inner.pending);
        if st.dispatches >= MAX_PENDING {
            self.flush_locked(&mut st, true)?;
        }
        // A copy is not a compute command: close the open pass, record in order.
        drop(st.pass.take());
        let device = &self.inner.device;
        let encoder = st.encoder.get_or_insert_with(|| {
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("backend-wgpu"),
            })
        });
        let bytes = s.bytes().div_ceil(4) * 4;
        encoder.copy_buffer_to_buffer(s.buffer(), 0, copy.buffer(), 0, bytes);
        st.dispatches += 1;
        drop(st);
        *s = copy;
        self.check_errors()
    }

    /// Workgroup counts covering `invocations` threads in groups of `WG`, folded
    /// into a 2-D grid when the count exceeds the per-dimension limit. Shaders
    /// recover the flat index with `flat_index` (shaders/common.wgsl).
    pub(crate) fn grid(&self, invocations: usize) -> Result<[u32; 3]> {
        self.grid_groups(invocations.div_ceil(WG as usize))
    }

    /// Folds `groups` workgroups into `[x, y, 1]` within the device limit.
    pub(crate) fn grid_groups(&self, groups: usize) -> Result<[u32; 3]> {
        let max = self.grid_limit() as usize;
        if groups <= max {
            return Ok([groups as u32, 1, 1]);
        }
        let y = groups.div_ceil(max);
        if y > max {
            return Err(self.error(format!(
                "{groups} workgroups exceed the {max} x {max} grid of this device"
            )));
        }
        Ok([max as u32, y as u32, 1])
    }

    /// Records one dispatch of `kernel` over `groups` workgroups with `params` at
    /// `@binding(0)` and `buffers` at `@binding(1..)`.
    pub(crate) fn launch<P: Pod>(
        &self,
        kernel: &Kernel,
        constants: &[(&'static str, f64)],
        params: &P,
        buffers: &[&WgpuStorage],
        groups: [u32; 3],
    ) -> Result<()> {
        assert_eq!(
            buffers.len(),
            kernel.storage.len(),
            "{}: binding count",
            kernel.entry
        );
        assert!(
            size_of::<P>() as u64 <= SLOT,
            "{}: params too big",
            kernel.entry
        );
        if groups.contains(&0) {
            return Ok(());
        }
        let pipeline = self
            .inner
            .pipelines
            .get(&self.inner.device, kernel, constants)
            .map_err(|e| self.error(e))?;
        let inner = &self.inner;
        let mut st = lock(&inner.pending);
        if st.dispatches >= MAX_PENDING {
            self.flush_locked(&mut st, true)?;
        }
        let offset = st.dispatches as u64 * st.slot;
        let bytes = bytemuck::bytes_of(params);
        st.uniforms.resize(offset as usize, 0);
        st.uniforms.extend_from_slice(bytes);
        // Uniform blocks are sized in multiples of 16 bytes in WGSL.
        let size = (bytes.len() as u64).div_ceil(16).max(1) * 16;
        st.uniforms.resize((offset + size) as usize, 0);

        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &st.arena,
                offset,
                size: wgpu::BufferSize::new(size),
            }),
        }];
        for (i, b) in buffers.iter().enumerate() {
            debug_assert!(kernel.storage[i] == Access::Read || b.bytes() >= 4);
            entries.push(wgpu::BindGroupEntry {
                binding: i as u32 + 1,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: b.buffer(),
                    offset: 0,
                    // Whole vec4s, so kernels may view any buffer as array<vec4<f32>>
                    // (the pool pads every buffer to a multiple of 16 bytes).
                    size: wgpu::BufferSize::new(b.bytes().div_ceil(16) * 16),
                }),
            });
        }
        let bind_group = inner.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(kernel.entry),
            layout: &pipeline.layout,
            entries: &entries,
        });

        if st.pass.is_none() {
            let device = &inner.device;
            let encoder = st.encoder.get_or_insert_with(|| {
                device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("backend-wgpu"),
                })
            });
            let pass = encoder
                .begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: None,
                    timestamp_writes: None,
                })
                .forget_lifetime();
            st.pass = Some(pass);
        }
        let pass = st.pass.as_mut().expect("pass just opened");
        pass.set_pipeline(&pipeline.pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
        st.dispatches += 1;
        drop(st);
        self.check_errors()
    }

    /// Submits the pending encoder, if any; returns its submission index.
    pub(crate) fn flush(&self) -> Result<Option<wgpu::SubmissionIndex>> {
        let mut st = lock(&self.inner.pending);
        self.flush_locked(&mut st, false)
    }

    /// Submits under the pending lock. With `throttle`, first waits for the
    /// previous submission so that at most two batches are in flight.
    fn flush_locked(
        &self,
        st: &mut Pending,
        throttle: bool,
    ) -> Result<Option<wgpu::SubmissionIndex>> {
        drop(st.pass.take());
        let Some(encoder) = st.encoder.take() else {
            return Ok(None);
        };
        let inner = &self.inner;
        if !st.uniforms.is_empty() {
            inner.queue.write_buffer(&st.arena, 0, &st.uniforms);
            st.uniforms.clear();
        }
        let previous = st.last_submission.take();
        let index = inner.queue.submit([encoder.finish()]);
        inner.pool.recycle_released();
        st.dispatches = 0;
        st.last_submission = Some(index.clone());
        if let (true, Some(previous)) = (throttle, previous) {
            self.wait_for(previous)?;
        }
        self.check_errors()?;
        Ok(Some(index))
    }

    /// Blocks until submission `index` has finished on the device.
    pub(crate) fn wait_for(&self, index: wgpu::SubmissionIndex) -> Result<()> {
        self.inner
            .device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(index),
                timeout: None,
            })
            .map_err(|e| self.error(format!("waiting for the device: {e}")))?;
        Ok(())
    }

    /// Submits pending work and copies the first `len` f32 values of `x` to the host.
    pub(crate) fn read(&self, x: &WgpuStorage, len: usize) -> Result<Vec<f32>> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let bytes = len as u64 * 4;
        if bytes > x.bytes() {
            return Err(self.error(format!(
                "to_vec: asked for {len} elements of a buffer holding {}",
                x.bytes() / 4
            )));
        }
        let inner = &self.inner;
        let staging = scoped(&inner.device, "allocating a readback buffer", || {
            inner.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("readback"),
                size: bytes,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        })
        .map_err(|e| self.error(e))?;
        let index = {
            let mut st = lock(&inner.pending);
            drop(st.pass.take());
            let device = &inner.device;
            let encoder = st.encoder.get_or_insert_with(|| {
                device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("backend-wgpu"),
                })
            });
            encoder.copy_buffer_to_buffer(x.buffer(), 0, &staging, 0, bytes);
            self.flush_locked(&mut st, false)?
                .expect("an encoder was just recorded")
        };
        let (sender, receiver) = futures_intrusive::channel::shared::oneshot_channel();
        staging
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |result| {
                let _ = sender.send(result);
            });
        self.wait_for(index)?;
        let mapped = pollster::block_on(receiver.receive())
            .ok_or_else(|| self.error("readback: the map callback never ran"))?;
        mapped.map_err(|e| self.error(format!("readback: mapping failed: {e}")))?;
        let out = {
            let view = staging
                .slice(..)
                .get_mapped_range()
                .map_err(|e| self.error(format!("readback: {e}")))?;
            view.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        };
        staging.unmap();
        self.check_errors()?;
        Ok(out)
    }
}
