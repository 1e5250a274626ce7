//! Device handling: adapter choice and its errors, limits, lazy submission, the
//! buffer pool, launches that need a folded grid, and use from many threads.

mod common;

use backend_wgpu::Wgpu;
use common::*;
use std::process::Command;
use tensor::backend::ops::*;
use tensor::{BinaryOp, BroadcastLayout, MatmulDims, ReduceOp, UnaryOp};

// ------------------------------------------------------------------ adapters

/// Environment variable that turns `child_open_device` into the real check.
const CHILD: &str = "BACKEND_WGPU_TEST_CHILD";

/// Not a test of its own: run by the tests below in a child process (with the
/// environment they set), it reports what `Wgpu::new()` returned on stdout.
#[test]
fn child_open_device() {
    if std::env::var(CHILD).is_err() {
        return;
    }
    match Wgpu::new() {
        Ok(gpu) => println!("RESULT Ok {}", gpu.name()),
        Err(e) => println!("RESULT Err {e}"),
    }
}

/// Runs `child_open_device` in a fresh process with `env` set; returns its RESULT line.
fn open_in_child(env: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "child_open_device",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, "1")
    .env_remove("WGPU_ADAPTER_NAME")
    .env_remove("WGPU_BACKEND");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.split_once("RESULT ").map(|(_, r)| r.to_string()))
        .unwrap_or_else(|| {
            panic!(
                "child printed no RESULT; stdout: {stdout}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

#[test]
fn no_adapter_is_a_clear_error_not_a_panic() {
    // Hide the Vulkan ICDs and the EGL vendors: neither backend finds a driver.
    let result = open_in_child(&[
        ("VK_ICD_FILENAMES", "/nonexistent/icd.json"),
        ("VK_DRIVER_FILES", "/nonexistent/icd.json"),
        ("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/egl.json"),
        ("WGPU_BACKEND", "vulkan,gl"),
    ]);
    if let Some(name) = result.strip_prefix("Ok ") {
        eprintln!("note: an adapter survived the hidden drivers ({name}); nothing to check");
        return;
    }
    assert!(result.contains("no GPU adapter found"), "{result}");
    assert!(result.contains("backends tried"), "{result}");
    assert!(
        result.contains("apt-get install mesa-vulkan-drivers libvulkan1"),
        "{result}"
    );
}

#[test]
fn adapter_name_selects_or_lists_adapters() {
    let Some(gpu) = gpu() else { return };
    let result = open_in_child(&[("WGPU_ADAPTER_NAME", "no-such-adapter-xyz")]);
    assert!(result.starts_with("Err "), "{result}");
    assert!(result.contains("matches no adapter"), "{result}");
    assert!(
        result.contains(&gpu.adapter_info().name),
        "the error lists the adapters found: {result}"
    );
    // A substring of the real name, in another case, picks it.
    let wanted = gpu.adapter_info().name.to_uppercase();
    let result = open_in_child(&[("WGPU_ADAPTER_NAME", &wanted)]);
    assert!(result.starts_with("Ok "), "{result}");
    assert!(result.contains(&gpu.adapter_info().name), "{result}");
}

#[test]
fn name_shows_adapter_and_backend() {
    let Some(gpu) = gpu() else { return };
    let name = gpu.name();
    let info = gpu.adapter_info();
    assert_eq!(name, format!("wgpu ({}, {:?})", info.name, info.backend));
    assert!(format!("{gpu:?}").contains(&info.name));
}

// ------------------------------------------------------------------ limits and errors

#[test]
fn tensors_over_the_binding_limit_are_refused() {
    let Some(gpu) = gpu() else { return };
    let limit = gpu
        .limits()
        .max_storage_buffer_binding_size
        .min(gpu.limits().max_buffer_size);
    let len = (limit / 4 + 1) as usize;
    let err = gpu.fill(len, 1.0).unwrap_err().to_string();
    assert!(err.contains("max_storage_buffer_binding_size"), "{err}");
    assert!(err.contains(&len.to_string()), "{err}");
    assert!(err.contains(&limit.to_string()), "{err}");
}

#[test]
fn reading_more_than_a_buffer_holds_is_an_error() {
    let Some(gpu) = gpu() else { return };
    let x = up(gpu, &[1.0, 2.0]);
    assert!(gpu.to_vec(&x, 1000).is_err());
}

// ------------------------------------------------------------------ submission and pool

#[test]
fn long_chains_of_lazy_dispatches_are_exact() {
    let Some(gpu) = gpu() else { return };
    // Far more dispatches than one batch holds, read only at the end.
    let n = 1000;
    let mut x = gpu.fill(n, 0.0).unwrap();
    for _ in 0..300 {
        x = gpu.unary(UnaryOp::AddScalar(1.0), &x, n).unwrap();
    }
    assert!(down(gpu, &x, n).iter().all(|&v| v == 300.0));
}

#[test]
fn recycled_buffers_never_clobber_pending_reads() {
    let Some(gpu) = gpu() else { return };
    // x is dropped while the dispatch reading it is still unsubmitted; uploads
    // right after must not land in its buffer before that dispatch runs.
    let n = 4096;
    let mut outs = Vec::new();
    for round in 0..50 {
        let v = round as f32;
        let x = gpu.from_vec(vec![v; n]).unwrap();
        let y = gpu.unary(UnaryOp::Neg, &x, n).unwrap();
        drop(x);
        let _other = gpu.from_vec(vec![1e9; n]).unwrap();
        outs.push((v, y));
    }
    for (v, y) in outs {
        assert!(down(gpu, &y, n).iter().all(|&e| e == -v), "round {v}");
    }
}

#[test]
fn synchronize_waits_for_all_work() {
    let Some(gpu) = gpu() else { return };
    let x = gpu.fill(10, 2.0).unwrap();
    let _y = gpu.unary(UnaryOp::Square, &x, 10).unwrap();
    gpu.synchronize().unwrap();
}

// ------------------------------------------------------------------ folded grids

/// A private device whose launches may use only `max` workgroups per grid
/// dimension, so that folding and splitting show up on small data.
fn small_grid_device(max: u32) -> Option<Wgpu> {
    gpu()?;
    let dev = Wgpu::new().expect("a second device");
    dev.limit_grid_for_testing(max);
    Some(dev)
}

#[test]
fn launches_beyond_the_grid_limit_fold_into_two_dims() {
    let Some(dev) = small_grid_device(7) else {
        return;
    };
    let dev = &dev;
    // Elementwise: more than 7 * 256 elements.
    let n = 7 * 256 * 3 + 100;
    let x = up(dev, &data(n, 50, -1.0, 1.0));
    let y = dev.unary(UnaryOp::Neg, &x, n).unwrap();
    let want: Vec<f32> = down(dev, &x, n).iter().map(|v| -v).collect();
    assert_exact("elementwise", &down(dev, &y, n), &want);

    // A workgroup per output, more outputs than 7.
    let rows = 7 * 2 + 3;
    let x = dev.fill(rows * 300, 1.0).unwrap();
    let s = dev.reduce(ReduceOp::Sum, &x, &[rows, 300], &[1]).unwrap();
    assert!(down(dev, &s, rows).iter().all(|&e| e == 300.0), "reduce");
    let x = dev.fill(rows * 64, 0.0).unwrap();
    let p = dev.softmax(&x, rows, 64, false).unwrap();
    assert!(
        down(dev, &p, rows * 64).iter().all(|&e| e == 1.0 / 64.0),
        "softmax"
    );

    // Past 7 x 7 workgroups there is no grid: an error, not a wrong answer.
    let n = 7 * 7 * 256 + 1;
    let err = dev.fill(n, 0.0).unwrap_err();
    assert!(err.to_string().contains("exceed"), "{err}");
}

#[test]
fn matmul_splits_grids_beyond_the_limit() {
    let Some(dev) = small_grid_device(3) else {
        return;
    };
    let dev = &dev;
    // More row tiles (of 64) than 3, and more batches than 3, with both kinds
    // of broadcast; compared with a plain loop.
    let (batch, m, k, n) = (7, 3 * 64 * 2 + 5, 6, 5);
    for (a_bs, b_bs) in [(m * k, k * n), (0, k * n), (m * k, 0)] {
        let a = data(if a_bs == 0 { 1 } else { batch } * m * k, 51, -1.0, 1.0);
        let b = data(if b_bs == 0 { 1 } else { batch } * k * n, 52, -1.0, 1.0);
        let dims = MatmulDims {
            batch,
            m,
            k,
            n,
            trans_a: false,
            trans_b: false,
            a_batch_stride: a_bs,
            b_batch_stride: b_bs,
        };
        let c = dev.matmul(&up(dev, &a), &up(dev, &b), dims).unwrap();
        let mut want = vec![0.0f32; batch * m * n];
        for bi in 0..batch {
            for i in 0..m {
                for j in 0..n {
                    let mut acc = 0.0f32;
                    for p in 0..k {
                        acc += a[bi * a_bs + i * k + p] * b[bi * b_bs + p * n + j];
                    }
                    want[(bi * m + i) * n + j] = acc;
                }
            }
        }
        assert_close(
            &format!("strides {a_bs} {b_bs}"),
            &down(dev, &c, want.len()),
            &want,
        );
    }
}

#[test]
fn elementwise_folds_at_the_real_device_limit() {
    let Some(gpu) = gpu() else { return };
    let max = gpu.limits().max_compute_workgroups_per_dimension as usize;
    let n = max * 256 + 1000;
    let x = gpu.fill(n, 1.5).unwrap();
    let y = gpu.unary(UnaryOp::Neg, &x, n).unwrap();
    let v = down(gpu, &y, n);
    assert!(v.iter().all(|&e| e == -1.5), "elementwise on {n}");
}

// ------------------------------------------------------------------ threads

#[test]
fn many_threads_share_one_device() {
    let Some(gpu) = gpu() else { return };
    std::thread::scope(|s| {
        for t in 0..8u64 {
            s.spawn(move || {
                for round in 0..10u64 {
                    let n = 257 + (t as usize) * 31;
                    let a = data(n, t * 100 + round, -1.0, 1.0);
                    let b = data(n, t * 100 + round + 50, -1.0, 1.0);
                    let layout = BroadcastLayout {
                        out_dims: vec![n],
                        a_strides: vec![1],
                        b_strides: vec![1],
                    };
                    let x = up(gpu, &a);
                    let y = up(gpu, &b);
                    let z = gpu.binary(BinaryOp::Mul, &x, &y, &layout).unwrap();
                    let z = gpu.unary(UnaryOp::AddScalar(1.0), &z, n).unwrap();
                    let got = down(gpu, &z, n);
                    let want: Vec<f32> = a.iter().zip(&b).map(|(p, q)| p * q + 1.0).collect();
                    assert_exact(&format!("thread {t} round {round}"), &got, &want);
                }
            });
        }
    });
}

#[test]
fn separate_devices_work_side_by_side() {
    if gpu().is_none() {
        return;
    }
    std::thread::scope(|s| {
        for t in 0..3 {
            s.spawn(move || {
                let own = Wgpu::new().expect("a second device");
                let x = own.fill(100, t as f32).unwrap();
                let y = own.unary(UnaryOp::MulScalar(2.0), &x, 100).unwrap();
                assert!(down(&own, &y, 100).iter().all(|&v| v == 2.0 * t as f32));
            });
        }
    });
}
