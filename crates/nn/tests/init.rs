//! Initializers: Keras fans, Glorot limits, He standard deviations, orthogonality.

use backend_cpu::Cpu;
use nn::{Init, Seeds, fans};

fn sample(init: Init, dims: &[usize], seed: u64) -> Vec<f64> {
    init.make(&Cpu, dims, seed)
        .unwrap()
        .to_vec()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

#[test]
fn fans_follow_keras() {
    assert_eq!(fans(&[784, 128]), (784, 128));
    // Conv HWIO [3, 3, 32, 64]: receptive field 9 -> (9 * 32, 9 * 64).
    assert_eq!(fans(&[3, 3, 32, 64]), (288, 576));
    assert_eq!(fans(&[5]), (5, 5));
}

#[test]
fn glorot_uniform_limit() {
    // limit = sqrt(6 / (200 + 300)) = 0.1095445; uniform std = limit / sqrt(3) = 0.0632456
    let w = sample(Init::GlorotUniform, &[200, 300], 1);
    assert!(w.iter().all(|x| x.abs() <= 0.1095446));
    let max = w.iter().cloned().fold(f64::MIN, f64::max);
    let min = w.iter().cloned().fold(f64::MAX, f64::min);
    assert!(
        max > 0.109 && min < -0.109,
        "60000 draws reach the limits: [{min}, {max}]"
    );
    let (mean, std) = mean_std(&w);
    // Standard errors: mean 0.0632 / sqrt(60000) = 2.6e-4; std about 1.2e-4.
    assert!(mean.abs() < 1.5e-3, "mean {mean}");
    assert!((std - 0.0632456).abs() < 1e-3, "std {std}");
    // Conv kernels use the receptive field: limit = sqrt(6 / (288 + 576)) = 0.0833333.
    let k = sample(Init::GlorotUniform, &[3, 3, 32, 64], 2);
    assert!(k.iter().all(|x| x.abs() <= 0.0833334));
    assert!(k.iter().any(|x| x.abs() > 0.083));
}

#[test]
fn glorot_normal_and_he_standard_deviations() {
    // Glorot normal: std = sqrt(2 / (200 + 300)) = 0.0632456
    let (mean, std) = mean_std(&sample(Init::GlorotNormal, &[200, 300], 3));
    assert!(
        mean.abs() < 1.5e-3 && (std - 0.0632456).abs() < 1e-3,
        "{mean} {std}"
    );
    // He normal: std = sqrt(2 / 200) = 0.1
    let (mean, std) = mean_std(&sample(Init::HeNormal, &[200, 300], 4));
    assert!(
        mean.abs() < 2e-3 && (std - 0.1).abs() < 1.5e-3,
        "{mean} {std}"
    );
    // He normal on a conv kernel: fan_in = 3 * 3 * 32 = 288 -> std = sqrt(2 / 288) = 0.0833333
    let (_, std) = mean_std(&sample(Init::HeNormal, &[3, 3, 32, 64], 5));
    assert!((std - 0.0833333).abs() < 1.5e-3, "{std}");
    // He uniform: limit = sqrt(6 / 200) = 0.1732051, std = limit / sqrt(3) = 0.1
    let w = sample(Init::HeUniform, &[200, 300], 6);
    assert!(w.iter().all(|x| x.abs() <= 0.1732052));
    let (_, std) = mean_std(&w);
    assert!((std - 0.1).abs() < 1.5e-3, "{std}");
}

/// `A^T A` for a row-major `rows x cols` matrix (`cols x cols`).
fn gram_of_columns(a: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut g = vec![0.0; cols * cols];
    for i in 0..cols {
        for j in 0..cols {
            g[i * cols + j] = (0..rows).map(|r| a[r * cols + i] * a[r * cols + j]).sum();
        }
    }
    g
}

fn assert_identity(g: &[f64], n: usize, what: &str) {
    for i in 0..n {
        for j in 0..n {
            let want = if i == j { 1.0 } else { 0.0 };
            assert!(
                (g[i * n + j] - want).abs() < 1e-5,
                "{what}: [{i}][{j}] = {}",
                g[i * n + j]
            );
        }
    }
}

fn transpose(a: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut t = vec![0.0; a.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = a[r * cols + c];
        }
    }
    t
}

#[test]
fn orthogonal_is_orthonormal() {
    // Tall [64, 16]: orthonormal columns, W^T W = I.
    let w = sample(Init::Orthogonal, &[64, 16], 7);
    assert_identity(&gram_of_columns(&w, 64, 16), 16, "tall W^T W");
    // Square: both W^T W = I and W W^T = I.
    let w = sample(Init::Orthogonal, &[20, 20], 8);
    assert_identity(&gram_of_columns(&w, 20, 20), 20, "square W^T W");
    assert_identity(
        &gram_of_columns(&transpose(&w, 20, 20), 20, 20),
        20,
        "square W W^T",
    );
    // Wide [16, 64] (an LSTM recurrent kernel): orthonormal rows, W W^T = I.
    let w = sample(Init::Orthogonal, &[16, 64], 9);
    assert_identity(
        &gram_of_columns(&transpose(&w, 16, 64), 64, 16),
        16,
        "wide W W^T",
    );
    // Different seeds, different matrices; too few dimensions is an error.
    assert_ne!(
        sample(Init::Orthogonal, &[8, 8], 1),
        sample(Init::Orthogonal, &[8, 8], 2)
    );
    assert!(Init::Orthogonal.make(&Cpu, &[5], 1).is_err());
}

#[test]
fn constants_and_seeds() {
    assert!(sample(Init::Zeros, &[3, 2], 0).iter().all(|&x| x == 0.0));
    assert!(sample(Init::Ones, &[3, 2], 0).iter().all(|&x| x == 1.0));
    assert!(
        sample(Init::Constant(0.25), &[4], 0)
            .iter()
            .all(|&x| x == 0.25)
    );
    // Same seed, same weights; a seed stream never repeats in its first values.
    assert_eq!(
        sample(Init::GlorotUniform, &[4, 4], 11),
        sample(Init::GlorotUniform, &[4, 4], 11)
    );
    let mut s = Seeds::new(1);
    let firsts: std::collections::HashSet<u64> = (0..1000).map(|_| s.next()).collect();
    assert_eq!(firsts.len(), 1000);
}
