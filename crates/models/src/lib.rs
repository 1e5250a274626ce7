//! The example models: GANs, CNNs, LSTMs.
