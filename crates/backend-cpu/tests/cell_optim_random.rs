//! LSTM gates, the Adam step, random fills and gather / scatter-add.

mod common;

use backend_cpu::Cpu;
use common::{assert_close, data, host, st};
use tensor::backend::ops::*;
use tensor::{AdamStep, Distribution};

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Reference cell in f64: `(c, h)` for one batch row.
fn cell(g: &[f64], c_prev: &[f64], hidden: usize, fb: f64) -> (Vec<f64>, Vec<f64>) {
    let mut c = vec![0.0; hidden];
    let mut h = vec![0.0; hidden];
    for k in 0..hidden {
        let (i, j, f, o) = (g[k], g[hidden + k], g[2 * hidden + k], g[3 * hidden + k]);
        c[k] = c_prev[k] * sigmoid(f + fb) + sigmoid(i) * j.tanh();
        h[k] = c[k].tanh() * sigmoid(o);
    }
    (c, h)
}

#[test]
fn lstm_gates_hand_computed() {
    // All gates 0, c_prev 2, forget bias 0: c = 2 * 1/2 + 1/2 * tanh 0 = 1,
    // h = tanh(1) * 1/2 = 0.3807970779.
    let (c, h) = Cpu
        .lstm_gates(&st(&[0.; 4]), &st(&[2.]), 1, 1, 0.0)
        .unwrap();
    assert_eq!(host(&c), vec![1.0]);
    assert!((host(&h)[0] - 0.380_797_1).abs() < 1e-7);
    // i = 0, j = ln 3 / 2 (tanh = 1/2), f = -1 with bias 1 (sigmoid 1/2), o = 0;
    // c_prev = 1: c = 1/2 + 1/2 * 1/2 = 0.75, h = tanh(0.75) / 2 = 0.3175745.
    let j = (3.0f32).ln() / 2.0;
    let (c, h) = Cpu
        .lstm_gates(&st(&[0., j, -1., 0.]), &st(&[1.]), 1, 1, 1.0)
        .unwrap();
    assert!((host(&c)[0] - 0.75).abs() < 1e-6);
    assert!((host(&h)[0] - 0.317_574_5).abs() < 1e-6);
}

#[test]
fn lstm_gates_match_the_reference_cell_on_a_batch() {
    let (n, hidden, fb) = (3, 5, 1.0);
    let gates = data(n * 4 * hidden, 1)
        .iter()
        .map(|v| v * 3.0)
        .collect::<Vec<_>>();
    let c_prev = data(n * hidden, 2);
    let (c, h) = Cpu
        .lstm_gates(&st(&gates), &st(&c_prev), n, hidden, fb as f32)
        .unwrap();
    let (c, h) = (host(&c), host(&h));
    for r in 0..n {
        let g: Vec<f64> = gates[r * 4 * hidden..(r + 1) * 4 * hidden]
            .iter()
            .map(|&v| v as f64)
            .collect();
        let cp: Vec<f64> = c_prev[r * hidden..(r + 1) * hidden]
            .iter()
            .map(|&v| v as f64)
            .collect();
        let (wc, wh) = cell(&g, &cp, hidden, fb);
        assert_close(&c[r * hidden..(r + 1) * hidden], &wc, 1e-6, 1e-6);
        assert_close(&h[r * hidden..(r + 1) * hidden], &wh, 1e-6, 1e-6);
    }
}

#[test]
fn lstm_backward_matches_central_differences_of_the_reference() {
    // L = <d_c, c> + <d_h, h>; its gradients by central differences in f64.
    let (n, hidden, fb) = (2, 3, 1.0);
    let gates = data(n * 4 * hidden, 3)
        .iter()
        .map(|v| v * 2.0)
        .collect::<Vec<_>>();
    let c_prev = data(n * hidden, 4);
    let d_c = data(n * hidden, 5);
    let d_h = data(n * hidden, 6);
    let (dg, dcp) = Cpu
        .lstm_gates_backward(
            &st(&gates),
            &st(&c_prev),
            &st(&d_c),
            &st(&d_h),
            n,
            hidden,
            fb as f32,
        )
        .unwrap();
    let (dg, dcp) = (host(&dg), host(&dcp));
    let loss = |g: &[f64], cp: &[f64], r: usize| {
        let (c, h) = cell(g, cp, hidden, fb);
        (0..hidden)
            .map(|k| d_c[r * hidden + k] as f64 * c[k] + d_h[r * hidden + k] as f64 * h[k])
            .sum::<f64>()
    };
    let eps = 1e-6;
    for r in 0..n {
        let g: Vec<f64> = gates[r * 4 * hidden..(r + 1) * 4 * hidden]
            .iter()
            .map(|&v| v as f64)
            .collect();
        let cp: Vec<f64> = c_prev[r * hidden..(r + 1) * hidden]
            .iter()
            .map(|&v| v as f64)
            .collect();
        for q in 0..4 * hidden {
            let (mut up, mut down) = (g.clone(), g.clone());
            up[q] += eps;
            down[q] -= eps;
            let want = (loss(&up, &cp, r) - loss(&down, &cp, r)) / (2.0 * eps);
            let got = dg[r * 4 * hidden + q] as f64;
            assert!(
                (got - want).abs() < 1e-5,
                "d_gates[{r}][{q}]: {got} vs {want}"
            );
        }
        for k in 0..hidden {
            let (mut up, mut down) = (cp.clone(), cp.clone());
            up[k] += eps;
            down[k] -= eps;
            let want = (loss(&g, &up, r) - loss(&g, &down, r)) / (2.0 * eps);
            let got = dcp[r * hidden + k] as f64;
            assert!(
                (got - want).abs() < 1e-5,
                "d_c_prev[{r}][{k}]: {got} vs {want}"
            );
        }
    }
}

#[test]
fn lstm_large_batch_takes_the_threaded_path() {
    let (n, hidden) = (64, 128);
    let gates = data(n * 4 * hidden, 7);
    let c_prev = data(n * hidden, 8);
    let (c, _) = Cpu
        .lstm_gates(&st(&gates), &st(&c_prev), n, hidden, 1.0)
        .unwrap();
    let c = host(&c);
    let r = 41;
    let g: Vec<f64> = gates[r * 4 * hidden..(r + 1) * 4 * hidden]
        .iter()
        .map(|&v| v as f64)
        .collect();
    let cp: Vec<f64> = c_prev[r * hidden..(r + 1) * hidden]
        .iter()
        .map(|&v| v as f64)
        .collect();
    assert_close(
        &c[r * hidden..(r + 1) * hidden],
        &cell(&g, &cp, hidden, 1.0).0,
        1e-6,
        1e-6,
    );
}

#[test]
fn adam_step_hand_computed() {
    // g = 0.5, m = v = 0, beta1 0.9, beta2 0.999, eps 1e-7, lr_t 0.1:
    // m = 0.1 * 0.5 = 0.05; v = 0.001 * 0.25 = 0.00025; sqrt v = 0.0158113883;
    // p = 1 - 0.1 * 0.05 / (0.0158113883 + 1e-7) = 1 - 0.3162258 = 0.6837742.
    // Second element: g = -2, m = 0.2, v = 0.4, p = 3:
    // m = 0.18 - 0.2 = -0.02; v = 0.3996 + 0.004 = 0.4036; sqrt = 0.6352952;
    // p = 3 + 0.1 * 0.02 / 0.6352953 = 3.0031481.
    let step = AdamStep {
        lr_t: 0.1,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-7,
    };
    let (mut p, mut m, mut v) = (st(&[1., 3.]), st(&[0., 0.2]), st(&[0., 0.4]));
    // A second handle to the old parameter must keep its values (clone-on-write).
    let old_p = p.clone();
    Cpu.adam_step(&mut p, &st(&[0.5, -2.]), &mut m, &mut v, 2, step)
        .unwrap();
    assert_eq!(host(&old_p), [1., 3.]);
    assert_close(&host(&m), &[0.05, -0.02], 1e-7, 0.0);
    assert_close(&host(&v), &[0.00025, 0.4036], 1e-7, 0.0);
    // 1 - beta2 is 0.00099998713 in f32 (0.999 is not representable), which moves p
    // by about 2e-6; hence the looser tolerance on p.
    assert_close(&host(&p), &[0.683_774_2, 3.003_148_1], 1e-5, 0.0);
}

#[test]
fn adam_large_vector_matches_the_formula() {
    let len = 100_001;
    let (p, g, m) = (data(len, 1), data(len, 2), data(len, 3));
    let v: Vec<f32> = data(len, 4).iter().map(|x| x.abs()).collect();
    let s = AdamStep {
        lr_t: 0.01,
        beta1: 0.9,
        beta2: 0.99,
        epsilon: 1e-3,
    };
    let (mut np, mut nm, mut nv) = (st(&p), st(&m), st(&v));
    Cpu.adam_step(&mut np, &st(&g), &mut nm, &mut nv, len, s)
        .unwrap();
    let (np, nm, nv) = (host(&np), host(&nm), host(&nv));
    for k in (0..len).step_by(997) {
        let (b1, b2) = (0.9f64, 0.99f64);
        let wm = b1 * m[k] as f64 + (1.0 - b1) * g[k] as f64;
        let wv = b2 * v[k] as f64 + (1.0 - b2) * (g[k] as f64).powi(2);
        let wp = p[k] as f64 - 0.01 * wm / (wv.sqrt() + 1e-3);
        assert!((nm[k] as f64 - wm).abs() < 1e-6 && (nv[k] as f64 - wv).abs() < 1e-6);
        assert!((np[k] as f64 - wp).abs() < 1e-5, "{k}: {} vs {wp}", np[k]);
    }
}

#[test]
fn random_fills_follow_the_shared_generator() {
    let dists = [
        Distribution::Uniform {
            low: -2.0,
            high: 3.0,
        },
        Distribution::Normal {
            mean: 1.0,
            std: 0.5,
        },
        Distribution::Bernoulli { p: 0.3 },
    ];
    for dist in dists {
        // 100_003 elements also exercises the threaded path.
        for len in [0, 17, 100_003] {
            let a = host(&Cpu.random(len, dist, 42).unwrap());
            let b = host(&Cpu.random(len, dist, 42).unwrap());
            assert_eq!(a, b, "same seed, same numbers");
            assert_eq!(a.len(), len);
            for (i, &v) in a.iter().enumerate() {
                assert_eq!(
                    v.to_bits(),
                    tensor::random::sample(dist, 42, i as u32).to_bits()
                );
            }
        }
        let a = host(&Cpu.random(64, dist, 1).unwrap());
        let b = host(&Cpu.random(64, dist, 2).unwrap());
        assert_ne!(a, b, "different seeds differ");
    }
    let u = host(
        &Cpu.random(
            10_000,
            Distribution::Uniform {
                low: -2.0,
                high: 3.0,
            },
            9,
        )
        .unwrap(),
    );
    assert!(u.iter().all(|&v| (-2.0..3.0).contains(&v)));
    let bern = host(
        &Cpu.random(10_000, Distribution::Bernoulli { p: 0.3 }, 9)
            .unwrap(),
    );
    assert!(bern.iter().all(|&v| v == 0.0 || v == 1.0));
}

#[test]
fn index_select_and_index_add() {
    // x [outer 2, axis 3, inner 2].
    let x: Vec<f32> = (0..12).map(|v| v as f32).collect();
    let got = host(&Cpu.index_select(&st(&x), 2, 3, 2, &[2, 0, 2]).unwrap());
    assert_eq!(
        got,
        vec![4., 5., 0., 1., 4., 5., 10., 11., 6., 7., 10., 11.]
    );
    // Repeated index 2 adds up.
    let dy: Vec<f32> = (1..=12).map(|v| v as f32).collect();
    let got = host(&Cpu.index_add(&st(&dy), 2, 3, 2, &[2, 0, 2]).unwrap());
    assert_eq!(got, vec![3., 4., 0., 0., 6., 8., 9., 10., 0., 0., 18., 20.]);
    // Embedding-style lookup: outer 1, inner = embedding width.
    let table = [0., 0., 1., 1., 2., 2.];
    let got = host(&Cpu.index_select(&st(&table), 1, 3, 2, &[1, 1, 2]).unwrap());
    assert_eq!(got, vec![1., 1., 1., 1., 2., 2.]);
    assert!(Cpu.index_select(&st(&table), 1, 3, 2, &[3]).is_err());
    assert!(Cpu.index_add(&st(&[1., 1.]), 1, 3, 2, &[5]).is_err());
}
