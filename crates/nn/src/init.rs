//! Weight initializers (Keras semantics), each from an explicit seed.

use tensor::{Backend, Distribution, Error, Result, Tensor};

/// A reproducible stream of seeds for the layers of a model (splitmix64).
#[derive(Clone, Debug)]
pub struct Seeds(u64);

impl Seeds {
    /// A stream starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Seeds(seed)
    }

    /// The next seed.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// How to fill a new weight tensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    Zeros,
    Ones,
    Constant(f32),
    /// Uniform on `[-limit, limit]` with `limit = sqrt(6 / (fan_in + fan_out))` (Keras default).
    GlorotUniform,
    /// Normal with `std = sqrt(2 / (fan_in + fan_out))`.
    GlorotNormal,
    /// Uniform with `limit = sqrt(6 / fan_in)`.
    HeUniform,
    /// Normal with `std = sqrt(2 / fan_in)`.
    HeNormal,
    /// A random orthogonal matrix (rows or columns orthonormal), as Keras' `Orthogonal`
    /// for recurrent kernels; the shape is flattened to `[prod(leading), last]`.
    Orthogonal,
    Uniform(f32, f32),
    Normal(f32, f32),
}

/// `(fan_in, fan_out)` as Keras computes them: dense `[in, out]`; conv HWIO
/// `[kh, kw, in, out]` multiplies both by the receptive field.
pub fn fans(dims: &[usize]) -> (usize, usize) {
    match dims.len() {
        0 => (1, 1),
        1 => (dims[0], dims[0]),
        2 => (dims[0], dims[1]),
        r => {
            let field: usize = dims[..r - 2].iter().product();
            (field * dims[r - 2], field * dims[r - 1])
        }
    }
}

impl Init {
    /// A new tensor of `dims` filled by this initializer.
    pub fn make<B: Backend>(self, backend: &B, dims: &[usize], seed: u64) -> Result<Tensor<B>> {
        // Fans and the orthogonal factorisation multiply dimensions: refuse a shape
        // no tensor can have before any of that.
        tensor::Shape::new(dims).check("initializer")?;
        let (fan_in, fan_out) = fans(dims);
        let fan_sum = (fan_in + fan_out).max(1) as f32;
        let fan_in = fan_in.max(1) as f32;
        let dist = match self {
            Init::Zeros => return Tensor::zeros(backend, dims.to_vec()),
            Init::Ones => return Tensor::ones(backend, dims.to_vec()),
            Init::Constant(c) => return Tensor::full(backend, dims.to_vec(), c),
            Init::Orthogonal => return orthogonal(backend, dims, seed),
            Init::GlorotUniform => {
                let l = (6.0 / fan_sum).sqrt();
                Distribution::Uniform { low: -l, high: l }
            }
            Init::GlorotNormal => Distribution::Normal {
                mean: 0.0,
                std: (2.0 / fan_sum).sqrt(),
            },
            Init::HeUniform => {
                let l = (6.0 / fan_in).sqrt();
                Distribution::Uniform { low: -l, high: l }
            }
            Init::HeNormal => Distribution::Normal {
                mean: 0.0,
                std: (2.0 / fan_in).sqrt(),
            },
            Init::Uniform(low, high) => Distribution::Uniform { low, high },
            Init::Normal(mean, std) => Distribution::Normal { mean, std },
        };
        Tensor::random(backend, dims.to_vec(), dist, seed)
    }
}

/// Gram-Schmidt on a Gaussian matrix, in f64 on the host (weights are made once).
fn orthogonal<B: Backend>(backend: &B, dims: &[usize], seed: u64) -> Result<Tensor<B>> {
    if dims.len() < 2 {
        return Err(Error::argument(
            "orthogonal",
            "needs a shape of at least 2 dimensions",
        ));
    }
    let cols = *dims.last().unwrap();
    let rows: usize = dims[..dims.len() - 1].iter().product();
    // Orthonormalise the shorter side: vectors of length `len`, `count` of them.
    let (count, len) = if rows < cols {
        (rows, cols)
    } else {
        (cols, rows)
    };
    let g: Vec<f64> = (0..count * len)
        .map(|i| {
            tensor::random::sample(
                Distribution::Normal {
                    mean: 0.0,
                    std: 1.0,
                },
                seed,
                i as u32,
            ) as f64
        })
        .collect();
    let mut q = vec![0.0f64; count * len];
    for v in 0..count {
        let mut vec: Vec<f64> = g[v * len..(v + 1) * len].to_vec();
        for u in 0..v {
            let qu = &q[u * len..(u + 1) * len];
            let dot: f64 = vec.iter().zip(qu).map(|(a, b)| a * b).sum();
            for (x, y) in vec.iter_mut().zip(qu) {
                *x -= dot * y;
            }
        }
        let norm = vec.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
        for (x, y) in q[v * len..(v + 1) * len].iter_mut().zip(&vec) {
            *x = y / norm;
        }
    }
    // q holds `count` orthonormal vectors; lay them out as rows or columns.
    let mut data = vec![0.0f32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            data[r * cols + c] = if rows < cols {
                q[r * len + c]
            } else {
                q[c * len + r]
            } as f32;
        }
    }
    Tensor::from_vec(backend, data, dims.to_vec())
}
