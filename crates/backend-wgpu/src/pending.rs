//! The state of lazy submission: the open encoder and pass, and the uniform arena
//! (see `launch.rs`, which records into it).

/// Dispatches recorded before a submit is forced.
pub(crate) const MAX_PENDING: usize = 64;
/// Bytes reserved per dispatch in the uniform arena (also the largest params struct).
pub(crate) const SLOT: u64 = 256;

/// The encoder being recorded and the uniform bytes that go with it.
pub(crate) struct Pending {
    pub(crate) encoder: Option<wgpu::CommandEncoder>,
    pub(crate) pass: Option<wgpu::ComputePass<'static>>,
    pub(crate) dispatches: usize,
    pub(crate) uniforms: Vec<u8>,
    pub(crate) arena: wgpu::Buffer,
    pub(crate) slot: u64,
    pub(crate) last_submission: Option<wgpu::SubmissionIndex>,
}

impl Pending {
    pub fn new(device: &wgpu::Device, limits: &wgpu::Limits) -> Self {
        let slot = SLOT.max(limits.min_uniform_buffer_offset_alignment as u64);
        let arena = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("uniform arena"),
            size: slot * MAX_PENDING as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Pending {
            encoder: None,
            pass: None,
            dispatches: 0,
            uniforms: Vec::new(),
            arena,
            slot,
            last_submission: None,
        }
    }
}
