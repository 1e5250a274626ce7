//! Layers, losses, optimizers, initializers and checkpoints with Keras semantics.
