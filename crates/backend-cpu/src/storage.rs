//! The base family: buffers are reference-counted host vectors.

use crate::{Cpu, check_len};
use std::sync::Arc;
use tensor::{Result, StorageOps};

impl StorageOps for Cpu {
    type Storage = Arc<Vec<f32>>;

    fn name(&self) -> String {
        "cpu".to_string()
    }

    fn from_vec(&self, data: Vec<f32>) -> Result<Self::Storage> {
        Ok(Arc::new(data))
    }

    fn to_vec(&self, x: &Self::Storage, len: usize) -> Result<Vec<f32>> {
        check_len("to_vec", "the buffer", x, len)?;
        Ok(x[..len].to_vec())
    }

    fn fill(&self, len: usize, value: f32) -> Result<Self::Storage> {
        crate::alloc::filled("fill", len, value).map(Arc::new)
    }
}
