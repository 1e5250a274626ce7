//! MNIST/CIFAR loaders, generated data sets and batching.
