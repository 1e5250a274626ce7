//! Shader modules and compute pipelines, compiled once per device and cached.

use crate::sync::{lock, scoped};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A WGSL program: the concatenation of `parts` (shared helpers first), then of
/// the text each `generated` function returns (code generated from Rust tables,
/// such as the elementwise op switches), built when the module is first compiled.
pub(crate) struct Shader {
    pub name: &'static str,
    pub parts: &'static [&'static str],
    pub generated: &'static [fn() -> String],
}

impl Shader {
    /// The whole WGSL source.
    pub fn source(&self) -> String {
        let mut source: String = self.parts.concat();
        for generate in self.generated {
            source.push('\n');
            source.push_str(&generate());
        }
        source
    }
}

/// Helpers every shader may use (the flat index of a folded 2-D launch).
pub(crate) const COMMON_WGSL: &str = include_str!("../../../shaders/common.wgsl");

/// How a kernel uses one storage binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    ReadWrite,
}

/// One entry point of a shader with its bindings: `@binding(0)` is always the
/// uniform parameter block, `@binding(1..)` the storage buffers in `storage` order.
pub(crate) struct Kernel {
    pub shader: &'static Shader,
    pub entry: &'static str,
    pub storage: &'static [Access],
}

/// A compiled pipeline with the layout its bind groups are built against.
pub(crate) struct Pipeline {
    pub pipeline: wgpu::ComputePipeline,
    pub layout: wgpu::BindGroupLayout,
}

/// `(shader, entry point, pipeline constants)`: one cache entry.
type Key = (&'static str, &'static str, Vec<(&'static str, u64)>);

#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<Key, Arc<Pipeline>>>,
}

impl PipelineCache {
    /// The pipeline for `kernel` specialised with WGSL `override` `constants`,
    /// compiled on first use; `Err` describes what failed.
    pub(crate) fn get(
        &self,
        device: &wgpu::Device,
        kernel: &Kernel,
        constants: &[(&'static str, f64)],
    ) -> Result<Arc<Pipeline>, String> {
        let cache = self;
        let key: Key = (
            kernel.shader.name,
            kernel.entry,
            constants.iter().map(|&(n, v)| (n, v.to_bits())).collect(),
        );
        if let Some(p) = lock(&cache.pipelines).get(&key) {
            return Ok(p.clone());
        }
        // Compiled outside the cache lock: two threads may race to build the same
        // pipeline, which costs time but is harmless (the first insert wins).
        let module = self.module(device, kernel.shader)?;
        let what = format!("compiling {}::{}", kernel.shader.name, kernel.entry);
        let built = scoped(device, &what, || {
            let mut entries = vec![wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }];
            for (i, access) in kernel.storage.iter().enumerate() {
                entries.push(wgpu::BindGroupLayoutEntry {
                    binding: i as u32 + 1,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Storage {
                            read_only: *access == Access::Read,
                        },
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                });
            }
            let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(kernel.entry),
                entries: &entries,
            });
            let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(kernel.entry),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
            let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(kernel.entry),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(kernel.entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants,
                    // Every kernel writes its workgroup memory before reading it.
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            });
            Pipeline { pipeline, layout }
        })?;
        let built = Arc::new(built);
        Ok(lock(&cache.pipelines).entry(key).or_insert(built).clone())
    }

    fn module(
        &self,
        device: &wgpu::Device,
        shader: &'static Shader,
    ) -> Result<wgpu::ShaderModule, String> {
        let cache = self;
        if let Some(m) = lock(&cache.modules).get(shader.name) {
            return Ok(m.clone());
        }
        let source = shader.source();
        let what = format!("parsing shaders/{}.wgsl", shader.name);
        let module = scoped(device, &what, || {
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(shader.name),
                source: wgpu::ShaderSource::Wgsl(Cow::Owned(source)),
            })
        })?;
        Ok(lock(&cache.modules)
            .entry(shader.name)
            .or_insert(module)
            .clone())
    }
}
