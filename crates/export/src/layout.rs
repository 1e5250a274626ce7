//! The weight reorderings ONNX and PyTorch share: convolution kernels from the
//! project's HWIO to OIHW, and an LSTM's four gate blocks into another order.

/// A `[kh, kw, in, out]` kernel as `[out, in, kh, kw]`.
pub fn hwio_to_oihw(k: &[f32], [kh, kw, ci, co]: [usize; 4]) -> Vec<f32> {
    let mut out = vec![0.0; k.len()];
    for y in 0..kh {
        for x in 0..kw {
            for i in 0..ci {
                for o in 0..co {
                    out[((o * ci + i) * kh + y) * kw + x] = k[((y * kw + x) * ci + i) * co + o];
                }
            }
        }
    }
    out
}

/// An LSTM matrix `[rows, 4 units]` (the project's blocks i, j, f, o as columns) as
/// `[4 units, rows]` with block `b` of the result taken from the project's block
/// `order[b]`.
pub fn gate_blocks(m: &[f32], rows: usize, units: usize, order: [usize; 4]) -> Vec<f32> {
    let mut out = vec![0.0; m.len()];
    for (b, &ours) in order.iter().enumerate() {
        for k in 0..units {
            for r in 0..rows {
                out[(b * units + k) * rows + r] = m[r * 4 * units + ours * units + k];
            }
        }
    }
    out
}
