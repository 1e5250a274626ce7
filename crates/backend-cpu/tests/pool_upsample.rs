//! Pooling and nearest upsampling: hand-computed cases, the golden max pool of
//! SEEDS.md section 4, and naive loops on random data.

mod common;

use backend_cpu::Cpu;
use common::{assert_close, assert_close32, data, dot, host, st};
use tensor::Pool2dGeom;
use tensor::backend::ops::*;

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
    sh: usize,
    sw: usize,
    same: bool,
) -> Pool2dGeom {
    let (out_h, pad_top) = tf_dim(h, kh, sh, same);
    let (out_w, pad_left) = tf_dim(w, kw, sw, same);
    Pool2dGeom {
        n,
        h,
        w,
        c,
        kh,
        kw,
        stride_h: sh,
        stride_w: sw,
        pad_top,
        pad_left,
        out_h,
        out_w,
    }
}

/// In-range flat input indices of the window of output `(b, oy, ox, ch)`, row-major.
fn window(g: &Pool2dGeom, b: usize, oy: usize, ox: usize, ch: usize) -> Vec<usize> {
    let mut idx = Vec::new();
    for ky in 0..g.kh {
        for kx in 0..g.kw {
            let iy = (oy * g.stride_h + ky) as isize - g.pad_top as isize;
            let ix = (ox * g.stride_w + kx) as isize - g.pad_left as isize;
            if iy >= 0 && ix >= 0 && (iy as usize) < g.h && (ix as usize) < g.w {
                idx.push(((b * g.h + iy as usize) * g.w + ix as usize) * g.c + ch);
            }
        }
    }
    idx
}

fn outputs(g: &Pool2dGeom) -> impl Iterator<Item = (usize, usize, usize, usize)> + '_ {
    (0..g.n).flat_map(move |b| {
        (0..g.out_h).flat_map(move |oy| {
            (0..g.out_w).flat_map(move |ox| (0..g.c).map(move |ch| (b, oy, ox, ch)))
        })
    })
}

#[test]
fn golden_max_pool_of_the_diagonal_feature_map() {
    #[rustfmt::skip]
    let fmap = [
        3., -1., -3., -1.,
        -3., 1., 0., -3.,
        -3., -3., 0., 1.,
        3., -2., -2., -1.,
    ];
    let g = geom(1, 4, 4, 1, 2, 2, 2, 2, false);
    let (y, arg) = Cpu.max_pool2d(&st(&fmap), &g).unwrap();
    assert_eq!(host(&y), vec![3., 0., 3., 1.]);
    // Winners: (0,0) -> 0, (1,2) -> 6, (3,0) -> 12, (2,3) -> 11.
    assert_eq!(host(&arg), vec![0., 6., 12., 11.]);
    let dx = Cpu
        .max_pool2d_backward(&st(&[1., 2., 3., 4.]), &arg, &g)
        .unwrap();
    let mut want = vec![0.0; 16];
    want[0] = 1.;
    want[6] = 2.;
    want[12] = 3.;
    want[11] = 4.;
    assert_eq!(host(&dx), want);
}

#[test]
fn max_pool_ties_pick_the_first_per_channel() {
    // 2x2 image, 2 channels; channel 0 all equal, channel 1 ties between (0,1) and (1,0).
    let x = [5., 0., 5., 7., 5., 7., 5., 1.];
    let g = geom(1, 2, 2, 2, 2, 2, 2, 2, false);
    let (y, arg) = Cpu.max_pool2d(&st(&x), &g).unwrap();
    assert_eq!(host(&y), vec![5., 7.]);
    assert_eq!(host(&arg), vec![0., 3.]);
}

#[test]
fn max_pool_same_padding_never_wins() {
    // All negative, so a zero pad would win if it were read.
    let x = [-1., -2., -3., -4., -5., -6., -7., -8., -9.];
    let g = geom(1, 3, 3, 1, 2, 2, 2, 2, true);
    assert_eq!((g.out_h, g.pad_top), (2, 0)); // the odd total pad goes to the bottom
    let (y, arg) = Cpu.max_pool2d(&st(&x), &g).unwrap();
    assert_eq!(host(&y), vec![-1., -3., -7., -9.]);
    assert_eq!(host(&arg), vec![0., 2., 6., 8.]);
}

#[test]
fn max_pool_backward_adds_overlapping_windows() {
    // 1x3 input [1, 3, 2], 1x2 windows at stride 1: both windows pick the 3.
    let g = geom(1, 1, 3, 1, 1, 2, 1, 1, false);
    let (y, arg) = Cpu.max_pool2d(&st(&[1., 3., 2.]), &g).unwrap();
    assert_eq!(host(&y), vec![3., 3.]);
    let dx = Cpu.max_pool2d_backward(&st(&[1., 2.]), &arg, &g).unwrap();
    assert_eq!(host(&dx), vec![0., 3., 0.]);
}

#[test]
fn max_pool_backward_rejects_foreign_indices() {
    let g = geom(2, 2, 2, 1, 2, 2, 2, 2, false);
    // Indices are within an image of 2x2x1 = 4 elements: 5 and 4 point outside.
    assert!(
        Cpu.max_pool2d_backward(&st(&[1., 1.]), &st(&[5., 4.]), &g)
            .is_err()
    );
}

#[test]
fn avg_pool_same_excludes_padding_from_the_count() {
    // 1..9 in a 3x3 image, 2x2 stride 2 SAME (pad on the bottom/right only):
    // {1,2,4,5}/4 = 3, {3,6}/2 = 4.5, {7,8}/2 = 7.5, {9}/1 = 9.
    let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let g = geom(1, 3, 3, 1, 2, 2, 2, 2, true);
    assert_eq!(
        host(&Cpu.avg_pool2d(&st(&x), &g).unwrap()),
        vec![3., 4.5, 7.5, 9.]
    );
    // Backward of all-ones: each pixel gets 1/count of its window.
    let dx = host(&Cpu.avg_pool2d_backward(&st(&[1.; 4]), &g).unwrap());
    assert_close32(&dx, &[0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1.], 1e-7);

    // 3x3 stride 1 SAME pads one on every side: corner {1,2,4,5}/4 = 3,
    // edge {1..6}/6 = 3.5, centre 45/9 = 5.
    let g = geom(1, 3, 3, 1, 3, 3, 1, 1, true);
    assert_eq!(g.pad_top, 1);
    let y = host(&Cpu.avg_pool2d(&st(&x), &g).unwrap());
    assert_close32(&y, &[3., 3.5, 4., 4.5, 5., 5.5, 6., 6.5, 7.], 1e-6);
}

#[test]
fn pools_match_naive_loops_on_random_data() {
    let cases = [
        geom(2, 7, 5, 3, 3, 3, 2, 2, true),
        geom(2, 7, 5, 3, 2, 2, 2, 2, false),
        // Windows that tile the input (the backward's gather path), SAME on even sizes.
        geom(2, 8, 6, 5, 2, 2, 2, 2, true),
        geom(1, 9, 9, 3, 3, 3, 3, 3, false),
        geom(3, 6, 9, 2, 3, 2, 1, 2, true),
        geom(1, 5, 5, 4, 5, 5, 1, 1, true),
        // Enough work to split images over threads.
        geom(8, 32, 32, 16, 3, 3, 2, 2, true),
    ];
    for (case, g) in cases.iter().enumerate() {
        let x = data(g.n * g.h * g.w * g.c, 40 + case as u64);
        let dy = data(g.n * g.out_h * g.out_w * g.c, 50 + case as u64);
        let (y, arg) = Cpu.max_pool2d(&st(&x), g).unwrap();
        let (y, arg) = (host(&y), host(&arg));
        let avg = host(&Cpu.avg_pool2d(&st(&x), g).unwrap());
        let mut want_dx_max = vec![0.0; x.len()];
        let mut want_dx_avg = vec![0.0; x.len()];
        for (o, (b, oy, ox, ch)) in outputs(g).enumerate() {
            let win = window(g, b, oy, ox, ch);
            let mut best = win[0];
            for &i in &win[1..] {
                if x[i] > x[best] {
                    best = i;
                }
            }
            assert_eq!(y[o], x[best], "{g:?} max at {o}");
            // The winner's index within its image.
            let image = g.h * g.w * g.c;
            assert_eq!(arg[o], (best - b * image) as f32, "{g:?} argmax at {o}");
            want_dx_max[best] += dy[o] as f64;
            let mean = win.iter().map(|&i| x[i] as f64).sum::<f64>() / win.len() as f64;
            assert!((avg[o] as f64 - mean).abs() < 1e-6, "{g:?} avg at {o}");
            for &i in &win {
                want_dx_avg[i] += dy[o] as f64 / win.len() as f64;
            }
        }
        let dx_max = host(&Cpu.max_pool2d_backward(&st(&dy), &st(&arg), g).unwrap());
        assert_close(&dx_max, &want_dx_max, 1e-6, 1e-6);
        let dx_avg = host(&Cpu.avg_pool2d_backward(&st(&dy), g).unwrap());
        assert_close(&dx_avg, &want_dx_avg, 1e-6, 1e-6);
        // Adjoint: <avg(x), dy> = <x, avg_backward(dy)>.
        assert!((dot(&avg, &dy) - dot(&x, &dx_avg)).abs() < 1e-3);
    }
}

#[test]
fn upsample_repeats_pixels_and_backward_sums_blocks() {
    // [n=1, h=2, w=2, c=1] = [[1,2],[3,4]] by (2, 3).
    let x = [1., 2., 3., 4.];
    let y = host(&Cpu.upsample_nearest2d(&st(&x), [1, 2, 2, 1], 2, 3).unwrap());
    #[rustfmt::skip]
    let want = vec![
        1., 1., 1., 2., 2., 2.,
        1., 1., 1., 2., 2., 2.,
        3., 3., 3., 4., 4., 4.,
        3., 3., 3., 4., 4., 4.,
    ];
    assert_eq!(y, want);
    // Backward of 0..24: block sums (0+1+2+6+7+8)=24, (3+4+5+9+10+11)=42, 96, 114.
    let dy: Vec<f32> = (0..24).map(|v| v as f32).collect();
    let dx = host(
        &Cpu.upsample_nearest2d_backward(&st(&dy), [1, 2, 2, 1], 2, 3)
            .unwrap(),
    );
    assert_eq!(dx, vec![24., 42., 96., 114.]);
}

#[test]
fn upsample_with_channels_matches_naive_indexing() {
    let dims = [3, 5, 4, 6];
    let (sh, sw) = (2, 2);
    let [n, h, w, c] = dims;
    let x = data(n * h * w * c, 60);
    let y = host(&Cpu.upsample_nearest2d(&st(&x), dims, sh, sw).unwrap());
    let (oh, ow) = (h * sh, w * sw);
    let dy = data(n * oh * ow * c, 61);
    let mut want_dx = vec![0.0f64; x.len()];
    for b in 0..n {
        for yy in 0..oh {
            for xx in 0..ow {
                for ch in 0..c {
                    let src = ((b * h + yy / sh) * w + xx / sw) * c + ch;
                    let dst = ((b * oh + yy) * ow + xx) * c + ch;
                    assert_eq!(y[dst], x[src]);
                    want_dx[src] += dy[dst] as f64;
                }
            }
        }
    }
    let dx = host(
        &Cpu.upsample_nearest2d_backward(&st(&dy), dims, sh, sw)
            .unwrap(),
    );
    assert_close(&dx, &want_dx, 1e-6, 1e-6);
    // A large one takes the threaded path and must agree with the small-path formula.
    let big = [4, 64, 64, 8];
    let xb = data(big.iter().product(), 62);
    let yb = host(&Cpu.upsample_nearest2d(&st(&xb), big, 2, 2).unwrap());
    assert_eq!(yb.len(), xb.len() * 4);
    assert_eq!(
        yb[((128 + 5) * 128 + 9) * 8 + 3],
        xb[((64 + 2) * 64 + 4) * 8 + 3]
    );
    let db = host(
        &Cpu.upsample_nearest2d_backward(&st(&yb), big, 2, 2)
            .unwrap(),
    );
    assert_close(
        &db,
        &xb.iter().map(|&v| 4.0 * v as f64).collect::<Vec<_>>(),
        1e-6,
        1e-6,
    );
}

/// The default bodies of `PoolOps` (a strided copy and a reduction) against hand
/// numbers and against the CPU's own kernels, which override them.
#[test]
fn upsample_defaults_match_hand_numbers_and_the_cpu_kernels() {
    use tensor::backend::{upsample_nearest2d_backward_by_reduce, upsample_nearest2d_by_copy};
    // x [1, 2, 2, 1] = [[1, 2], [3, 4]], scale 2 x 3.
    let x = Cpu.from_vec(vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    let y = upsample_nearest2d_by_copy(&Cpu, &x, [1, 2, 2, 1], 2, 3).unwrap();
    #[rustfmt::skip]
    let want = vec![
        1.0, 1.0, 1.0, 2.0, 2.0, 2.0,
        1.0, 1.0, 1.0, 2.0, 2.0, 2.0,
        3.0, 3.0, 3.0, 4.0, 4.0, 4.0,
        3.0, 3.0, 3.0, 4.0, 4.0, 4.0,
    ];
    assert_eq!(Cpu.to_vec(&y, 24).unwrap(), want);
    assert_eq!(
        Cpu.to_vec(&Cpu.upsample_nearest2d(&x, [1, 2, 2, 1], 2, 3).unwrap(), 24)
            .unwrap(),
        want
    );
    // dy = 0, 1, ..., 23 over [1, 4, 6, 1]: each input sums a 2 x 3 block, e.g. the
    // first is (0 + 1 + 2) + (6 + 7 + 8) = 24.
    let dy = Cpu.from_vec((0..24).map(|v| v as f32).collect()).unwrap();
    let dx = upsample_nearest2d_backward_by_reduce(&Cpu, &dy, [1, 2, 2, 1], 2, 3).unwrap();
    assert_eq!(Cpu.to_vec(&dx, 4).unwrap(), vec![24.0, 42.0, 96.0, 114.0]);

    // Two images, three channels, 3 x 2 -> 6 x 6: default and kernel agree exactly
    // (integer-valued data, so the summation order cannot matter).
    let dims = [2, 3, 2, 3];
    let xv: Vec<f32> = (0..36).map(|v| (v % 7) as f32 - 3.0).collect();
    let x = Cpu.from_vec(xv).unwrap();
    let by_copy = upsample_nearest2d_by_copy(&Cpu, &x, dims, 2, 3).unwrap();
    let kernel = Cpu.upsample_nearest2d(&x, dims, 2, 3).unwrap();
    assert_eq!(
        Cpu.to_vec(&by_copy, 216).unwrap(),
        Cpu.to_vec(&kernel, 216).unwrap()
    );
    let dyv: Vec<f32> = (0..216).map(|v| (v % 11) as f32 - 5.0).collect();
    let dy = Cpu.from_vec(dyv).unwrap();
    let by_reduce = upsample_nearest2d_backward_by_reduce(&Cpu, &dy, dims, 2, 3).unwrap();
    let kernel = Cpu.upsample_nearest2d_backward(&dy, dims, 2, 3).unwrap();
    assert_eq!(
        Cpu.to_vec(&by_reduce, 36).unwrap(),
        Cpu.to_vec(&kernel, 36).unwrap()
    );
}

#[test]
fn max_pool_of_a_batch_beyond_2_pow_24_elements() {
    // 17 images of 1024x1024: 17.8M inputs, more than f32 indexes exactly; indices
    // are per image, so the batch pools and backpropagates. In the last image the
    // maximum of the window at (0, 0) is put at (1, 1): value 2, all else 1.
    use tensor::{Padding, Tensor};
    let (n, side) = (17usize, 1024usize);
    let image = side * side;
    let mut x = vec![1.0f32; n * image];
    x[(n - 1) * image + side + 1] = 2.0;
    let t = Tensor::from_vec(&Cpu, x, [n, side, side, 1])
        .unwrap()
        .requires_grad();
    let y = t.max_pool2d((2, 2), (2, 2), Padding::Valid).unwrap();
    let out = y.to_vec().unwrap();
    let per = (side / 2) * (side / 2);
    assert_eq!(out[(n - 1) * per], 2.0);
    assert_eq!(out[(n - 1) * per + 1], 1.0);
    let g = y.sum_all().unwrap().backward().unwrap();
    let dx = g.get(&t).unwrap().to_vec().unwrap();
    // The winner of that window gets the gradient, its neighbours none; in the other
    // windows (all ties) the first element of the window wins.
    assert_eq!(dx[(n - 1) * image + side + 1], 1.0);
    assert_eq!(dx[(n - 1) * image], 0.0);
    assert_eq!(dx[(n - 1) * image + 2], 1.0);
    assert_eq!(dx.iter().sum::<f32>(), (n * per) as f32);
}
