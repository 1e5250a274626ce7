//! Helpers shared by the integration tests: tensors from literals, deterministic
//! inputs, and a finite-difference gradient check for modules.
//!
//! The gradient check builds `loss = sum(f(inputs) * w)` with fixed pseudo-random
//! weights `w`, takes the analytic gradient of every input and every trainable
//! parameter from `backward()`, and compares it with central differences
//! `(L(x + h) - L(x - h)) / 2h` where `L` is accumulated in f64 on the host. With f32
//! forward passes and h = 1e-2 the truncation error is O(h^2) ~ 1e-4 (relative) and
//! rounding ~ 1e-7 |L| / h, so 2e-3 absolute plus 1e-2 relative separates a correct
//! gradient from a wrong one (off by O(1)). Inputs stay away from kinks.

#![allow(dead_code)]

use backend_cpu::Cpu;
use nn::{Mode, Module, NamedParam};
use tensor::{Result, Tensor, no_grad};

const H: f64 = 1e-2;

/// A CPU tensor from literals.
pub fn t(data: &[f32], shape: &[usize]) -> Tensor<Cpu> {
    Tensor::from_slice(&Cpu, data, shape.to_vec()).unwrap()
}

/// Deterministic pseudo-random values in [-1, 1) at least 0.05 away from 0.
pub fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = ((state >> 40) as f64) / (1u64 << 24) as f64;
            let v = 0.05 + 0.95 * u;
            if (state >> 20) & 1 == 0 {
                v as f32
            } else {
                -v as f32
            }
        })
        .collect()
}

/// `n` distinct values `0.1 * k - c` in a scrambled order: any two differ by at least
/// 0.1, so a perturbation of h = 0.01 never changes which one is the largest.
pub fn distinct(n: usize, seed: u64) -> Vec<f32> {
    let mut idx: Vec<usize> = (0..n).collect();
    let mut state = seed | 1;
    for i in (1..n).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        idx.swap(i, (state >> 33) as usize % (i + 1));
    }
    idx.into_iter()
        .map(|k| 0.1 * k as f32 - 0.05 * n as f32)
        .collect()
}

/// Asserts `|a - b| <= tol` elementwise.
pub fn assert_close(name: &str, got: &[f32], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g as f64 - w).abs() <= tol,
            "{name}: element {i}: got {g}, want {w}"
        );
    }
}

/// Bit patterns, for exact comparisons that also distinguish -0.0 and NaN payloads.
pub fn bits(xs: &[f32]) -> Vec<u32> {
    xs.iter().map(|x| x.to_bits()).collect()
}

/// Checks the gradients of `f` with respect to each of `inputs` (made leaves that
/// require grad) and each trainable parameter in `params` (perturbed in place), by
/// central differences. Every one of them must receive a gradient.
pub fn gradcheck(
    name: &str,
    params: &[NamedParam<Cpu>],
    inputs: &[(Vec<f32>, Vec<usize>)],
    f: impl Fn(&[Tensor<Cpu>]) -> Result<Tensor<Cpu>>,
) {
    let params: Vec<&NamedParam<Cpu>> = params.iter().filter(|(_, p)| p.is_trainable()).collect();
    let leaves: Vec<Tensor<Cpu>> = inputs
        .iter()
        .map(|(d, s)| t(d, s).requires_grad())
        .collect();
    let out = f(&leaves).unwrap_or_else(|e| panic!("{name}: forward failed: {e}"));
    let w = values(out.numel(), 99);
    let wt = t(&w, out.dims());
    let grads = out.mul(&wt).unwrap().sum_all().unwrap().backward().unwrap();

    // Analytic gradients first: perturbing a parameter replaces its tensor (and id).
    let input_grads: Vec<Vec<f32>> = leaves
        .iter()
        .enumerate()
        .map(|(i, l)| {
            grads
                .get(l)
                .unwrap_or_else(|| panic!("{name}: no gradient for input {i}"))
                .to_vec()
                .unwrap()
        })
        .collect();
    let param_grads: Vec<Vec<f32>> = params
        .iter()
        .map(|(n, p)| {
            p.grad(&grads)
                .unwrap_or_else(|| panic!("{name}: no gradient for parameter {n}"))
                .to_vec()
                .unwrap()
        })
        .collect();

    let mut current: Vec<Vec<f32>> = inputs.iter().map(|(d, _)| d.clone()).collect();
    let host_loss = |xs: &[Vec<f32>]| -> f64 {
        no_grad(|| {
            let ts: Vec<Tensor<Cpu>> = xs.iter().zip(inputs).map(|(d, (_, s))| t(d, s)).collect();
            let o = f(&ts).unwrap().to_vec().unwrap();
            o.iter().zip(&w).map(|(&a, &b)| a as f64 * b as f64).sum()
        })
    };
    let compare = |what: String, a: f32, numeric: f64| {
        let a = a as f64;
        assert!(
            (a - numeric).abs() <= 2e-3 + 1e-2 * numeric.abs(),
            "{name}: {what}: analytic {a} vs numeric {numeric}"
        );
    };

    for i in 0..current.len() {
        for j in 0..current[i].len() {
            let orig = current[i][j];
            current[i][j] = (orig as f64 + H) as f32;
            let plus = host_loss(&current);
            current[i][j] = (orig as f64 - H) as f32;
            let minus = host_loss(&current);
            current[i][j] = orig;
            compare(
                format!("input {i} element {j}"),
                input_grads[i][j],
                (plus - minus) / (2.0 * H),
            );
        }
    }

    for ((pname, p), analytic) in params.iter().zip(&param_grads) {
        let original = p.value();
        let dims = original.dims().to_vec();
        let mut data = original.to_vec().unwrap();
        assert_eq!(
            analytic.len(),
            data.len(),
            "{name}: gradient size of {pname}"
        );
        for j in 0..data.len() {
            let orig = data[j];
            data[j] = (orig as f64 + H) as f32;
            p.set(t(&data, &dims));
            let plus = host_loss(&current);
            data[j] = (orig as f64 - H) as f32;
            p.set(t(&data, &dims));
            let minus = host_loss(&current);
            data[j] = orig;
            compare(
                format!("parameter {pname} element {j}"),
                analytic[j],
                (plus - minus) / (2.0 * H),
            );
        }
        p.set(original);
    }
}

/// Gradient check of a module's forward pass with respect to its input and parameters.
pub fn check_layer<M: Module<Cpu>>(
    name: &str,
    layer: &M,
    input: Vec<f32>,
    shape: &[usize],
    mode: Mode,
) {
    gradcheck(name, &layer.params(), &[(input, shape.to_vec())], |x| {
        layer.forward(&x[0], mode)
    });
}

/// Gradient check of a module with respect to its parameters only (inputs that are
/// not differentiable, such as embedding ids).
pub fn check_params<M: Module<Cpu>>(name: &str, layer: &M, input: &Tensor<Cpu>, mode: Mode) {
    gradcheck(name, &layer.params(), &[], |_| layer.forward(input, mode));
}
