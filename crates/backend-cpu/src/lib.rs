//! The reference CPU backend (ndarray + a multi-threaded GEMM).
