//! Taking a trained model out of the project: ONNX files that ONNX Runtime, TensorRT or
//! tract run ([`onnx`]), and weights in the names, shapes and orders of PyTorch's
//! `torch.nn` modules ([`pytorch`]).

pub mod layout;
pub mod onnx;
pub mod pytorch;
