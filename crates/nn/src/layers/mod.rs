//! Layers. Each file holds one layer (or a family of tiny ones).

mod activation;
mod batch_norm;
mod conv2d;
mod dense;
mod dropout;
mod embedding;
mod lstm;
mod pool;
mod repeat_vector;
mod reshape;
mod time_distributed;
mod upsampling;

pub use activation::{Activation, ActivationLayer};
pub use batch_norm::BatchNorm;
pub use conv2d::Conv2d;
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use lstm::{Lstm, LstmState};
pub use pool::{AvgPool2d, MaxPool2d};
pub use repeat_vector::RepeatVector;
pub use reshape::{Flatten, Reshape};
pub use time_distributed::TimeDistributed;
pub use upsampling::UpSampling2d;
