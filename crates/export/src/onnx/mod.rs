//! ONNX export of `nn` models (opset 17).
//!
//! Layouts: the project's images are NHWC and its convolution kernels HWIO; ONNX's
//! `Conv`, pools, `BatchNormalization` and `Resize` work on NCHW with OIHW kernels.
//! An exported model keeps the project's layout at its inputs and outputs (a digit goes
//! in as `[batch, 28, 28, 1]` as it does here): the graph transposes to NCHW before the
//! first image op and back before the first layer that reads the project's order
//! (`Flatten`, `Reshape`, `Dense`, softmax, the output); kernels are permuted to OIHW as
//! they are written. Dropout is left out (inference), BatchNorm is written in inference
//! form (its moving statistics), and the LSTM's gates are reordered to ONNX's i, o, f, c
//! with the run-time forget bias folded into the input bias. An `Embedding` takes its
//! ids as f32, as it does here, and casts them to int64 inside the graph.
//!
//! ```no_run
//! # fn demo(model: &nn::Sequential<backend_cpu::Cpu>, be: &backend_cpu::Cpu) -> nn::Result<()> {
//! use export::onnx::{Exporter, sequential_graph};
//! let graph = sequential_graph(&Exporter::new(), model, be, &[28, 28, 1], "mnist_cnn")?;
//! graph.save(std::path::Path::new("mnist_cnn.onnx"))?;
//! # Ok(()) }
//! ```

mod graph;
mod lower;
#[allow(clippy::all, missing_docs, rustdoc::all)]
pub mod proto;

pub use graph::{Attr, BATCH, Dim, Elem, Graph, IR_VERSION, Layout, OPSET, Value};
pub use lower::{
    Exporter, LayerIo, ToOnnx, activation, batch_dims, channels_first, ours, param_data,
    sequential_graph, unsupported,
};
