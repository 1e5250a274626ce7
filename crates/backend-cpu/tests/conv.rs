//! Convolution forward and backwards against direct seven-loop convolutions in f64,
//! the adjoint identities, and the golden example of SEEDS.md section 4.

mod common;

use backend_cpu::Cpu;
use common::{assert_close, data, dot, host, st};
use tensor::Conv2dGeom;
use tensor::backend::ops::*;

/// TensorFlow's output size and leading pad for one spatial dimension.
fn tf_dim(input: usize, k: usize, stride: usize, same: bool) -> (usize, usize) {
    if same {
        let out = input.div_ceil(stride);
        let total = ((out - 1) * stride + k).saturating_sub(input);
        (out, total / 2)
    } else {
        ((input - k) / stride + 1, 0)
    }
}

#[allow(clippy::too_many_arguments)]
fn geom(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    o: usize,
    sh: usize,
    sw: usize,
    same: bool,
) -> Conv2dGeom {
    let (out_h, pad_top) = tf_dim(h, kh, sh, same);
    let (out_w, pad_left) = tf_dim(w, kw, sw, same);
    Conv2dGeom {
        n,
        h,
        w,
        c,
        kh,
        kw,
        o,
        stride_h: sh,
        stride_w: sw,
        pad_top,
        pad_left,
        out_h,
        out_w,
    }
}

/// Calls `f(b, oy, ox, iy, ix, ky, kx)` for every in-range tap of the convolution.
fn for_each_tap(
    g: &Conv2dGeom,
    mut f: impl FnMut(usize, usize, usize, usize, usize, usize, usize),
) {
    for b in 0..g.n {
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                for ky in 0..g.kh {
                    for kx in 0..g.kw {
                        let iy = (oy * g.stride_h + ky) as isize - g.pad_top as isize;
                        let ix = (ox * g.stride_w + kx) as isize - g.pad_left as isize;
                        if iy >= 0 && ix >= 0 && (iy as usize) < g.h && (ix as usize) < g.w {
                            f(b, oy, ox, iy as usize, ix as usize, ky, kx);
                        }
                    }
                }
            }
        }
    }
}

fn x_idx(g: &Conv2dGeom, b: usize, y: usize, x: usize, ch: usize) -> usize {
    ((b * g.h + y) * g.w + x) * g.c + ch
}
fn y_idx(g: &Conv2dGeom, b: usize, y: usize, x: usize, o: usize) -> usize {
    ((b * g.out_h + y) * g.out_w + x) * g.o + o
}
fn w_idx(g: &Conv2dGeom, ky: usize, kx: usize, ch: usize, o: usize) -> usize {
    ((ky * g.kw + kx) * g.c + ch) * g.o + o
}

fn naive_forward(x: &[f32], w: &[f32], g: &Conv2dGeom) -> Vec<f64> {
    let mut y = vec![0.0; g.n * g.out_h * g.out_w * g.o];
    for_each_tap(g, |b, oy, ox, iy, ix, ky, kx| {
        for ch in 0..g.c {
            for o in 0..g.o {
                y[y_idx(g, b, oy, ox, o)] +=
                    x[x_idx(g, b, iy, ix, ch)] as f64 * w[w_idx(g, ky, kx, ch, o)] as f64;
            }
        }
    });
    y
}

fn naive_backward_input(dy: &[f32], w: &[f32], g: &Conv2dGeom) -> Vec<f64> {
    let mut dx = vec![0.0; g.n * g.h * g.w * g.c];
    for_each_tap(g, |b, oy, ox, iy, ix, ky, kx| {
        for ch in 0..g.c {
            for o in 0..g.o {
                dx[x_idx(g, b, iy, ix, ch)] +=
                    dy[y_idx(g, b, oy, ox, o)] as f64 * w[w_idx(g, ky, kx, ch, o)] as f64;
            }
        }
    });
    dx
}

fn naive_backward_filter(x: &[f32], dy: &[f32], g: &Conv2dGeom) -> Vec<f64> {
    let mut dw = vec![0.0; g.kh * g.kw * g.c * g.o];
    for_each_tap(g, |b, oy, ox, iy, ix, ky, kx| {
        for ch in 0..g.c {
            for o in 0..g.o {
                dw[w_idx(g, ky, kx, ch, o)] +=
                    x[x_idx(g, b, iy, ix, ch)] as f64 * dy[y_idx(g, b, oy, ox, o)] as f64;
            }
        }
    });
    dw
}

/// Checks all three ops against the naive loops and the adjoint identities.
fn check(g: Conv2dGeom, seed: u64) {
    let x = data(g.n * g.h * g.w * g.c, seed);
    let w = data(g.kh * g.kw * g.c * g.o, seed + 1);
    let dy = data(g.n * g.out_h * g.out_w * g.o, seed + 2);
    let y = host(&Cpu.conv2d(&st(&x), &st(&w), &g).unwrap());
    let dx = host(&Cpu.conv2d_backward_input(&st(&dy), &st(&w), &g).unwrap());
    let dw = host(&Cpu.conv2d_backward_filter(&st(&x), &st(&dy), &g).unwrap());
    // Terms are products of values in [-1, 1); sums have at most a few thousand terms.
    let tol = 1e-4;
    assert_close(&y, &naive_forward(&x, &w, &g), tol, 1e-5);
    assert_close(&dx, &naive_backward_input(&dy, &w, &g), tol, 1e-5);
    assert_close(&dw, &naive_backward_filter(&x, &dy, &g), tol * 10.0, 1e-5);
    // <conv(x, w), dy> = <x, conv_bwd_input(dy, w)> = <w, conv_bwd_filter(x, dy)>.
    let forward = dot(&y, &dy);
    let scale = forward.abs().max(1.0);
    assert!(
        (forward - dot(&x, &dx)).abs() < 1e-4 * scale,
        "{g:?}: adjoint of backward_input"
    );
    assert!(
        (forward - dot(&w, &dw)).abs() < 1e-4 * scale,
        "{g:?}: adjoint of backward_filter"
    );
}

#[test]
fn golden_diagonal_filter_valid() {
    #[rustfmt::skip]
    let image = [
        1., 0., 0., 0., 0., 1.,
        0., 1., 0., 0., 1., 0.,
        0., 0., 1., 1., 0., 0.,
        1., 0., 0., 0., 1., 0.,
        0., 1., 0., 0., 1., 0.,
        0., 0., 1., 0., 1., 0.,
    ];
    let filter = [1., -1., -1., -1., 1., -1., -1., -1., 1.];
    let g = geom(1, 6, 6, 1, 3, 3, 1, 1, 1, false);
    let y = host(&Cpu.conv2d(&st(&image), &st(&filter), &g).unwrap());
    #[rustfmt::skip]
    let want = vec![
        3., -1., -3., -1.,
        -3., 1., 0., -3.,
        -3., -3., 0., 1.,
        3., -2., -2., -1.,
    ];
    assert_eq!(y, want);
}

#[test]
fn tf_padding_of_a_7x5_input_3x3_stride_2_same() {
    // total = max((out - 1) * s + k - in, 0): rows (4-1)*2+3-7 = 2 -> top 1;
    // cols (3-1)*2+3-5 = 2 -> left 1.
    let g = geom(2, 7, 5, 3, 3, 3, 4, 2, 2, true);
    assert_eq!((g.out_h, g.out_w, g.pad_top, g.pad_left), (4, 3, 1, 1));
    check(g, 100);
    // An even input gives an odd total: 8 rows, k 3, s 2 -> out 4, total 1, top 0.
    let g = geom(1, 8, 6, 2, 3, 3, 2, 2, 2, true);
    assert_eq!((g.out_h, g.pad_top), (4, 0));
    check(g, 110);
}

#[test]
fn stride_1_and_2_valid_and_same() {
    let mut seed = 200;
    for &(h, w) in &[(7, 5), (6, 6), (5, 9)] {
        for stride in [1, 2] {
            for same in [false, true] {
                check(geom(2, h, w, 3, 3, 3, 4, stride, stride, same), seed);
                seed += 3;
            }
        }
    }
}

#[test]
fn rectangular_kernels_mixed_strides() {
    check(geom(3, 9, 7, 2, 2, 3, 5, 2, 1, true), 300);
    check(geom(3, 9, 7, 2, 2, 3, 5, 1, 3, false), 310);
    check(geom(1, 4, 4, 1, 4, 4, 2, 1, 1, false), 320); // the kernel covers the image
    check(geom(2, 5, 5, 2, 5, 5, 3, 1, 1, true), 330); // more padding than image on some taps
}

#[test]
fn pointwise_and_strided_1x1() {
    check(geom(3, 5, 4, 6, 1, 1, 7, 1, 1, false), 400); // the im2col-free path
    check(geom(3, 5, 4, 6, 1, 1, 7, 2, 2, false), 410); // skips pixels: their gradient is 0
    check(geom(2, 24, 24, 64, 1, 1, 64, 1, 1, true), 420); // large enough to thread
}

#[test]
fn batches_large_enough_to_split_over_threads() {
    // MNIST-like: 28x28x1 -> 5x5 SAME -> 16 channels, batch 12 (several image blocks).
    check(geom(12, 28, 28, 1, 5, 5, 16, 1, 1, true), 500);
    // One big image: a single block whose GEMM is threaded instead.
    check(geom(1, 48, 40, 8, 3, 3, 32, 1, 1, true), 510);
    // Deeper channels, stride 2, odd size, an odd batch on 2+ threads.
    check(geom(9, 15, 13, 16, 3, 3, 32, 2, 2, true), 520);
}

#[test]
fn empty_geometries_give_zeros() {
    let g = geom(0, 5, 5, 2, 3, 3, 2, 1, 1, true);
    assert!(host(&Cpu.conv2d(&st(&[]), &st(&[0.0; 36]), &g).unwrap()).is_empty());
    assert_eq!(
        host(&Cpu.conv2d_backward_filter(&st(&[]), &st(&[]), &g).unwrap()),
        vec![0.0; 36]
    );
}

#[test]
fn short_storage_is_an_error() {
    let g = geom(1, 5, 5, 2, 3, 3, 2, 1, 1, true);
    assert!(Cpu.conv2d(&st(&[0.0; 10]), &st(&[0.0; 36]), &g).is_err());
    assert!(
        Cpu.conv2d_backward_input(&st(&[0.0; 50]), &st(&[0.0; 3]), &g)
            .is_err()
    );
}

#[test]
fn uneven_splits_over_other_thread_counts() {
    // The block/task split depends on the pool size; 3 and 4 threads leave some
    // tasks with fewer blocks than others, 1 thread runs everything in order.
    for threads in [1, 3, 4] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            check(geom(7, 28, 28, 1, 5, 5, 16, 1, 1, true), 600);
            check(geom(9, 15, 13, 16, 3, 3, 32, 2, 2, true), 610);
        });
    }
}

#[test]
fn stride_1_with_enough_channels_skips_im2col() {
    // At least 8 channels in and out, stride 1: the canvas (shifted-GEMM) path,
    // SAME and VALID, square and rectangular kernels, odd sizes, several images.
    check(geom(3, 6, 6, 8, 3, 3, 8, 1, 1, true), 700);
    check(geom(2, 9, 7, 9, 3, 3, 11, 1, 1, false), 710);
    check(geom(2, 11, 10, 8, 2, 3, 9, 1, 1, true), 720);
    check(geom(1, 13, 12, 16, 5, 5, 8, 1, 1, true), 730);
    check(geom(4, 5, 5, 8, 5, 5, 8, 1, 1, true), 740); // padding wider than the image
    // Large enough to split over threads and into several image blocks.
    check(geom(17, 16, 16, 32, 3, 3, 24, 1, 1, true), 750);
    check(geom(5, 30, 30, 32, 3, 3, 32, 1, 1, false), 760);
}

#[test]
fn register_tiled_kernel_edges() {
    // On an AVX-512 CPU these take the register-tiled kernel (elsewhere the canvas
    // path): output channels that leave a partial last panel of 32 (8, 16, 17, 33, 40),
    // rows wider than one tile of 14 pixels and cut unevenly (15, 29, 31), a window
    // row of `kw * c` values cut unevenly into filter-gradient tiles (5 * 9 = 45),
    // rectangular kernels, VALID and SAME, an even kernel's uneven padding.
    check(geom(2, 6, 15, 8, 3, 3, 17, 1, 1, true), 900);
    check(geom(3, 5, 29, 9, 3, 5, 33, 1, 1, true), 910);
    check(geom(1, 7, 31, 12, 2, 2, 40, 1, 1, true), 920);
    check(geom(2, 9, 16, 8, 3, 3, 16, 1, 1, false), 930);
    check(geom(3, 8, 14, 16, 4, 3, 8, 1, 1, true), 940);
    check(geom(4, 3, 3, 10, 3, 3, 64, 1, 1, true), 950);
    check(geom(1, 12, 12, 64, 3, 3, 130, 1, 1, true), 960);
}

#[test]
fn the_canvas_path_over_other_thread_counts() {
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| check(geom(7, 14, 14, 16, 3, 3, 16, 1, 1, true), 800));
    }
}
