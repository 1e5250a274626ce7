//! Every workbench kernel version against the CPU backend, on small and odd sizes
//! (edges that no tile divides, a k shorter than one panel, size-1 dimensions).

mod common;

use backend_cpu::Cpu;
use backend_wgpu::workbench::{CONV_VERSIONS, MATMUL_VERSIONS};
use common::gpu;
use tensor::backend::ops::*;
use tensor::{Conv2dGeom, Distribution, MatmulDims, Padding};

fn data(n: usize, seed: u64) -> Vec<f32> {
    let s = Cpu
        .random(
            n,
            Distribution::Uniform {
                low: -1.0,
                high: 1.0,
            },
            seed,
        )
        .unwrap();
    Cpu.to_vec(&s, n).unwrap()
}

fn close(what: &str, got: &[f32], want: &[f32], k: usize) {
    assert_eq!(got.len(), want.len(), "{what}");
    let tol = 1e-5 * (k as f32).max(1.0) + 1e-5;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}: element {i}: {g} vs {w}");
    }
}

#[test]
fn every_matmul_version_matches_the_cpu() {
    let Some(g) = gpu() else { return };
    for (m, k, n) in [
        (1, 1, 1),
        (7, 3, 5),
        (64, 64, 64),
        (129, 33, 130),
        (5, 300, 2),
        (200, 9, 131),
    ] {
        let (a, b) = (data(m * k, 1), data(k * n, 2));
        let dims = MatmulDims::plain(m, k, n);
        let want = Cpu
            .to_vec(
                &Cpu.matmul(
                    &Cpu.from_vec(a.clone()).unwrap(),
                    &Cpu.from_vec(b.clone()).unwrap(),
                    dims,
                )
                .unwrap(),
                m * n,
            )
            .unwrap();
        let (ga, gb) = (g.from_vec(a).unwrap(), g.from_vec(b).unwrap());
        for v in MATMUL_VERSIONS {
            let c = g.workbench_matmul(v.number, &ga, &gb, m, k, n).unwrap();
            close(
                &format!("matmul v{} {m}x{k}x{n}", v.number),
                &g.to_vec(&c, m * n).unwrap(),
                &want,
                k,
            );
        }
    }
    let one = g.from_vec(vec![1.0]).unwrap();
    let err = g
        .workbench_matmul(9, &one, &one, 1, 1, 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no matmul version 9"), "{err}");
}

#[test]
fn every_conv_version_matches_the_cpu() {
    let Some(gp) = gpu() else { return };
    for (n, hw, c, o, k, stride, padding) in [
        (1, 5, 1, 1, 3, 1, Padding::Valid),
        (2, 9, 3, 5, 3, 1, Padding::Same),
        (3, 8, 4, 7, 3, 2, Padding::Same),
        (1, 7, 2, 3, 5, 1, Padding::Same),
    ] {
        let g =
            Conv2dGeom::for_input([n, hw, hw, c], (k, k, o), (stride, stride), padding).unwrap();
        let out = g.out_h;
        let (x, w) = (data(n * hw * hw * c, 3), data(k * k * c * o, 4));
        let len = n * out * out * o;
        let want = Cpu
            .to_vec(
                &Cpu.conv2d(
                    &Cpu.from_vec(x.clone()).unwrap(),
                    &Cpu.from_vec(w.clone()).unwrap(),
                    &g,
                )
                .unwrap(),
                len,
            )
            .unwrap();
        let (gx, gw) = (gp.from_vec(x).unwrap(), gp.from_vec(w).unwrap());
        for v in CONV_VERSIONS {
            let y = gp.workbench_conv2d(v.number, &gx, &gw, &g).unwrap();
            close(
                &format!("conv v{} {g:?}", v.number),
                &gp.to_vec(&y, len).unwrap(),
                &want,
                k * k * c,
            );
        }
    }
}
