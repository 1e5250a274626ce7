//! The `lstm_cell` demo: its numbers against the formula of SEEDS.md section 3 worked
//! in f64 here (and one gate by hand), against `nn::Lstm` run from the same weights,
//! and the binary's table on the CPU and on wgpu.

use models::lstm_cell::{self, CellInputs, CellStep};
use nn::{Lstm, LstmState, Mode, Seeds};
use std::process::Command;
use tensor::Tensor;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The step from the formula, in f64: `(gates, c_t, h_t)`.
fn reference(i: &CellInputs) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (n, u) = (i.features(), i.units());
    let concat: Vec<f64> = i.x.iter().chain(&i.h_prev).map(|&v| v as f64).collect();
    let gates: Vec<f64> = (0..4 * u)
        .map(|col| {
            i.b[col] as f64
                + (0..n + u)
                    .map(|r| concat[r] * i.w[r * 4 * u + col] as f64)
                    .sum::<f64>()
        })
        .collect();
    let (gi, gj, gf, go) = (
        &gates[..u],
        &gates[u..2 * u],
        &gates[2 * u..3 * u],
        &gates[3 * u..],
    );
    let fb = i.forget_bias as f64;
    let c: Vec<f64> = (0..u)
        .map(|k| i.c_prev[k] as f64 * sigmoid(gf[k] + fb) + sigmoid(gi[k]) * gj[k].tanh())
        .collect();
    let h: Vec<f64> = (0..u).map(|k| c[k].tanh() * sigmoid(go[k])).collect();
    (gates, c, h)
}

fn assert_near(what: &str, got: &[f32], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (k, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!((g as f64 - w).abs() <= tol, "{what}[{k}]: {g} vs {w}");
    }
}

fn check_step(s: &CellStep, tol: f64) {
    let (gates, c, h) = reference(&s.inputs);
    // Exact copies of the f32 inputs (0.2 is not exact in f32, hence the tolerance).
    assert_near("concat", &s.concat, &[1.0, -0.5, 0.2, -0.1], 1e-7);
    assert_near("gates", &s.gates, &gates, tol);
    assert_near("c_t", &s.c, &c, tol);
    assert_near("h_t", &s.h, &h, tol);
}

#[test]
fn the_step_follows_the_formula() {
    let inputs = CellInputs::default();
    let s = lstm_cell::step(&backend_cpu::Cpu, &inputs).unwrap();
    // By hand, gate i0 = [1, -0.5, 0.2, -0.1] . [0.5, -0.4, 0.1, 0.6] + 0.1
    //                  = 0.5 + 0.2 + 0.02 - 0.06 + 0.1 = 0.76.
    assert!((s.block(0)[0] - 0.76).abs() < 1e-6, "{}", s.block(0)[0]);
    // and f1 = 1 * 0.4 + (-0.5)(-0.1) + 0.2 * 0.2 + (-0.1)(0.7) + 0
    //        = 0.4 + 0.05 + 0.04 - 0.07 = 0.42.
    assert!((s.block(2)[1] - 0.42).abs() < 1e-6, "{}", s.block(2)[1]);
    check_step(&s, 1e-6);
    // The activations shown in the table.
    let (gates, _, _) = reference(&inputs);
    assert_near(
        "sigmoid(f + 1)",
        &s.activations[2],
        &[sigmoid(gates[4] + 1.0), sigmoid(gates[5] + 1.0)],
        1e-6,
    );
    assert_near(
        "tanh(j)",
        &s.activations[1],
        &[gates[2].tanh(), gates[3].tanh()],
        1e-6,
    );
}

#[test]
fn the_lstm_layer_takes_the_same_step() {
    // nn::Lstm splits W into the kernel (the x_t rows) and the recurrent kernel (the
    // h_{t-1} rows); one step from (h_{t-1}, c_{t-1}) must give the same c_t and h_t.
    let be = backend_cpu::Cpu;
    let i = CellInputs::default();
    let (n, u) = (i.features(), i.units());
    let layer = Lstm::new(&be, n, u, &mut Seeds::new(1)).unwrap();
    layer
        .kernel
        .set(Tensor::from_slice(&be, &i.w[..n * 4 * u], [n, 4 * u]).unwrap());
    layer
        .recurrent_kernel
        .set(Tensor::from_slice(&be, &i.w[n * 4 * u..], [u, 4 * u]).unwrap());
    layer
        .bias
        .set(Tensor::from_slice(&be, &i.b, [4 * u]).unwrap());
    let state = LstmState {
        h: Tensor::from_slice(&be, &i.h_prev, [1, u]).unwrap(),
        c: Tensor::from_slice(&be, &i.c_prev, [1, u]).unwrap(),
    };
    let x = Tensor::from_slice(&be, &i.x, [1, 1, n]).unwrap();
    let (_, next) = layer
        .forward_with_state(&x, Some(&state), Mode::Eval)
        .unwrap();
    let (_, c, h) = reference(&i);
    assert_near("layer c_t", &next.c.to_vec().unwrap(), &c, 1e-6);
    assert_near("layer h_t", &next.h.to_vec().unwrap(), &h, 1e-6);
}

#[test]
fn mismatched_inputs_are_refused() {
    let bad = CellInputs {
        b: vec![0.0; 7],
        ..CellInputs::default()
    };
    let e = lstm_cell::step(&backend_cpu::Cpu, &bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("b 7 values"), "{e}");
}

fn run_binary(backend: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lstm_cell"))
        .args(["--backend", backend])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn check_table(table: &str) {
    let (_, c, h) = reference(&CellInputs::default());
    let row = |v: &[f64]| v.iter().map(|x| format!("{x:8.4}")).collect::<String>();
    let c_line = table.lines().find(|l| l.starts_with("c_t ")).unwrap();
    let h_line = table.lines().find(|l| l.starts_with("h_t ")).unwrap();
    assert!(c_line.contains(&row(&c)), "{c_line}");
    assert!(
        c_line.contains("c_t = c_{t-1} sigmoid(f + 1) + sigmoid(i) tanh(j)"),
        "{c_line}"
    );
    assert!(h_line.contains(&row(&h)), "{h_line}");
    assert!(h_line.contains("h_t = tanh(c_t) sigmoid(o)"), "{h_line}");
    for label in [
        "x_t ",
        "h_{t-1} ",
        "c_{t-1} ",
        "[x_t, h_{t-1}]",
        "W (4 x 8)",
        "b ",
    ] {
        assert!(
            table.lines().any(|l| l.starts_with(label)),
            "{label}: {table}"
        );
    }
    for gate in ["  i ", "  j ", "  f ", "  o "] {
        assert!(
            table.lines().any(|l| l.starts_with(gate)),
            "{gate}: {table}"
        );
    }
}

#[test]
fn the_binary_prints_the_table_with_the_formulas() {
    let table = run_binary("cpu");
    assert!(table.contains("on cpu"), "{table}");
    check_table(&table);
}

#[cfg(feature = "wgpu")]
#[test]
fn the_step_on_wgpu_follows_the_formula() {
    use tensor::StorageOps;
    let gpu = match backend_wgpu::Wgpu::new() {
        Ok(g) => g,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but no wgpu adapter: {e}"
            );
            eprintln!("SKIP: no wgpu adapter: {e}");
            return;
        }
    };
    eprintln!("wgpu adapter: {}", gpu.name());
    check_step(
        &lstm_cell::step(&gpu, &CellInputs::default()).unwrap(),
        1e-5,
    );
    let table = run_binary("wgpu");
    assert!(table.contains("on wgpu"), "{table}");
    check_table(&table);
}
