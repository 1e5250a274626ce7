//! Checkpoints: named f32 tensors in a safetensors file, written atomically.
//!
//! A checkpoint holds a module tree's parameters under their names and, optionally,
//! optimizer state under `optimizer.<name>/...`, plus string metadata (step count,
//! model name). Loading checks names and shapes and names every mismatch.

use crate::error::{Error, Result};
use crate::{NamedParam, Optimizer, Params};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use tensor::{Backend, Tensor};

/// Tensors read from a checkpoint: host data and shape by name, plus metadata.
#[derive(Debug, Default, Clone)]
pub struct Checkpoint {
    pub tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
    pub metadata: HashMap<String, String>,
    /// The file it was read from (named in errors), `None` for one built in memory.
    pub source: Option<String>,
}

fn io_err(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::file(path, reason)
}

impl Checkpoint {
    /// An empty checkpoint.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds tensors (downloaded from the device) under `prefix` + name.
    pub fn insert_tensors<B: Backend>(
        &mut self,
        prefix: &str,
        tensors: &[(String, Tensor<B>)],
    ) -> Result<()> {
        for (name, t) in tensors {
            self.tensors
                .insert(format!("{prefix}{name}"), (t.dims().to_vec(), t.to_vec()?));
        }
        Ok(())
    }

    /// Adds a module's parameters (weights and buffers) under `prefix`.
    pub fn insert_module<B: Backend, M: Params<B> + ?Sized>(
        &mut self,
        prefix: &str,
        module: &M,
    ) -> Result<()> {
        let named: Vec<(String, Tensor<B>)> = module
            .params()
            .into_iter()
            .map(|(n, p)| (n, p.value()))
            .collect();
        self.insert_tensors(prefix, &named)
    }

    /// Adds an optimizer's state under `prefix`.
    pub fn insert_optimizer<B: Backend>(
        &mut self,
        prefix: &str,
        optimizer: &dyn Optimizer<B>,
    ) -> Result<()> {
        self.insert_tensors(prefix, &optimizer.state()?)
    }

    /// Writes the file atomically: a temporary file in the same directory, then a rename.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let mut names: Vec<&String> = self.tensors.keys().collect();
        names.sort();
        let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = names
            .iter()
            .map(|n| {
                let (shape, data) = &self.tensors[*n];
                let raw: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
                ((*n).clone(), raw, shape.clone())
            })
            .collect();
        let views = bytes
            .iter()
            .map(|(n, raw, shape)| {
                TensorView::new(Dtype::F32, shape.clone(), raw)
                    .map(|v| (n.clone(), v))
                    .map_err(|e| io_err(path, format!("tensor {n}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let metadata = (!self.metadata.is_empty()).then(|| self.metadata.clone());
        let encoded = safetensors::serialize(views, metadata).map_err(|e| io_err(path, e))?;
        write_atomic(path, &encoded)
    }

    /// Reads a checkpoint; a truncated or corrupt file gives an error naming the file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes =
            fs::read(path).map_err(|e| io_err(path, format!("cannot read checkpoint: {e}")))?;
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| io_err(path, format!("not a valid safetensors checkpoint: {e}")))?;
        let (_, meta) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| io_err(path, format!("bad checkpoint header: {e}")))?;
        let mut out = Checkpoint {
            metadata: meta.metadata().clone().unwrap_or_default(),
            source: Some(path.display().to_string()),
            ..Default::default()
        };
        for (name, view) in st.tensors() {
            if view.dtype() != Dtype::F32 {
                return Err(io_err(
                    path,
                    format!(
                        "tensor {name} has dtype {:?}; only F32 is supported",
                        view.dtype()
                    ),
                ));
            }
            let data: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            out.tensors.insert(name, (view.shape().to_vec(), data));
        }
        Ok(out)
    }

    /// Entries under `prefix` with the prefix removed.
    pub fn with_prefix(&self, prefix: &str) -> HashMap<String, &(Vec<usize>, Vec<f32>)> {
        self.tensors
            .iter()
            .filter_map(|(n, v)| n.strip_prefix(prefix).map(|s| (s.to_string(), v)))
            .collect()
    }

    /// Sets every parameter of `module` from the entries under `prefix`. Missing,
    /// extra and mis-shaped tensors are all reported in one error.
    pub fn restore_module<B: Backend, M: Params<B> + ?Sized>(
        &self,
        prefix: &str,
        module: &M,
        backend: &B,
    ) -> Result<()> {
        restore_params(&self.with_prefix(prefix), &module.params(), backend, prefix)
            .map_err(|e| self.name_file(e))
    }

    /// Restores an optimizer's state from the entries under `prefix`.
    pub fn restore_optimizer<B: Backend>(
        &self,
        prefix: &str,
        optimizer: &mut dyn Optimizer<B>,
        backend: &B,
    ) -> Result<()> {
        let entries = self.with_prefix(prefix);
        if entries.is_empty() {
            // A fresh optimizer would silently restart the moments and the step count.
            return Err(self.name_file(Error::Mismatch {
                file: String::new(),
                reason: format!("no optimizer state (no tensor named {prefix}...)"),
            }));
        }
        let mut state = Vec::new();
        for (name, (shape, data)) in entries {
            state.push((
                name,
                Tensor::from_vec(backend, data.clone(), shape.clone())?,
            ));
        }
        optimizer
            .load_state(state)
            .map_err(|e| self.name_file(e.into()))
    }

    /// `e` with this checkpoint's file named, when it came from one.
    fn name_file(&self, e: Error) -> Error {
        let file = self.source.clone().unwrap_or_else(|| "checkpoint".into());
        match e {
            Error::Mismatch { reason, .. } => Error::Mismatch { file, reason },
            // What the file's contents caused; a device failure stays what it is.
            Error::Tensor(t @ (tensor::Error::Argument { .. } | tensor::Error::Shape { .. })) => {
                Error::File {
                    path: file,
                    reason: t.to_string(),
                }
            }
            other => other,
        }
    }
}

fn restore_params<B: Backend>(
    found: &HashMap<String, &(Vec<usize>, Vec<f32>)>,
    params: &[NamedParam<B>],
    backend: &B,
    prefix: &str,
) -> Result<()> {
    let mut problems = Vec::new();
    for (name, p) in params {
        match found.get(name) {
            None => problems.push(format!("missing tensor {prefix}{name}")),
            Some((shape, _)) if shape.as_slice() != p.value().dims() => problems.push(format!(
                "tensor {prefix}{name} has shape {shape:?}, the model expects {:?}",
                p.value().dims()
            )),
            Some((_, data)) => {
                if let Some(i) = data.iter().position(|v| !v.is_finite()) {
                    problems.push(format!(
                        "tensor {prefix}{name} holds a non-finite value ({} at element {i})",
                        data[i]
                    ));
                }
            }
        }
    }
    let expected: std::collections::HashSet<&String> = params.iter().map(|(n, _)| n).collect();
    let mut extra: Vec<&String> = found.keys().filter(|n| !expected.contains(n)).collect();
    extra.sort();
    for n in extra {
        problems.push(format!("unexpected tensor {prefix}{n}"));
    }
    if !problems.is_empty() {
        return Err(Error::Mismatch {
            file: String::new(),
            reason: problems.join("; "),
        });
    }
    for (name, p) in params {
        let (shape, data) = found[name];
        p.set(Tensor::from_vec(backend, data.clone(), shape.clone())?);
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a crash never
/// leaves a half-written file under the final name, and a failed write leaves the
/// previous file untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        fs::create_dir_all(dir)
            .map_err(|e| io_err(dir, format!("cannot create directory: {e}")))?;
    }
    let file_name = path
        .file_name()
        .ok_or_else(|| io_err(path, "not a file path"))?
        .to_string_lossy();
    // Unique per process and per call, so concurrent saves never share a temporary file.
    static SAVES: AtomicU64 = AtomicU64::new(0);
    let n = SAVES.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_file_name(format!(".{file_name}.{}.{n}.tmp", std::process::id()));
    write_through(path, &tmp, bytes)
}

/// Writes `tmp`, syncs it and renames it over `path`; removes `tmp` on failure.
fn write_through(path: &Path, tmp: &Path, bytes: &[u8]) -> Result<()> {
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(tmp);
        return Err(io_err(path, format!("cannot write: {e}")));
    }
    // Make the rename itself durable; not every platform can open a directory, and the
    // data is already safe, so a failure here is not an error.
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(d) = fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("nn-ckpt-unit-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn failed_write_keeps_the_old_file() {
        let dir = scratch("keep");
        let path = dir.join("model.safetensors");
        fs::write(&path, b"old contents").unwrap();
        // A directory squatting on the temporary name makes creating it fail, even as root.
        let tmp = dir.join("squatter");
        fs::create_dir(&tmp).unwrap();
        fs::write(tmp.join("inside"), b"x").unwrap();
        let err = write_through(&path, &tmp, b"new contents").unwrap_err();
        assert!(err.to_string().contains("model.safetensors"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"old contents");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn successful_write_replaces_and_cleans_up() {
        let dir = scratch("replace");
        let path = dir.join("model.safetensors");
        fs::write(&path, b"old contents").unwrap();
        write_atomic(&path, b"new contents").unwrap();
        write_atomic(&path, b"newer").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"newer");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("model.safetensors")]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
