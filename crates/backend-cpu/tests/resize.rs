//! Bilinear resizing: cases worked out by hand from TensorFlow's definition
//! (`src = (dst + 0.5) * in / out - 0.5`, neighbours clamped at the edges).

use backend_cpu::Cpu;
use tensor::backend::ops::*;

fn resize(x: Vec<f32>, dims: [usize; 4], oh: usize, ow: usize) -> Vec<f32> {
    let m = dims[0] * oh * ow * dims[3];
    let x = Cpu.from_vec(x).unwrap();
    Cpu.to_vec(&Cpu.resize_bilinear(&x, dims, oh, ow).unwrap(), m)
        .unwrap()
}

fn resize_backward(dy: Vec<f32>, dims: [usize; 4], oh: usize, ow: usize) -> Vec<f32> {
    let n: usize = dims.iter().product();
    let dy = Cpu.from_vec(dy).unwrap();
    Cpu.to_vec(&Cpu.resize_bilinear_backward(&dy, dims, oh, ow).unwrap(), n)
        .unwrap()
}

/// [0, 4] to 4 columns: scale 1/2, so src = -0.25, 0.25, 0.75, 1.25. The outer two
/// clamp to the edge pixels; the inner two are 0 + 4 * 0.25 and 0 + 4 * 0.75.
#[test]
fn upsampling_a_row_by_two() {
    assert_eq!(
        resize(vec![0.0, 4.0], [1, 1, 2, 1], 1, 4),
        vec![0.0, 1.0, 3.0, 4.0]
    );
    // Backward of dy = [1, 2, 3, 4]: output 0 gives all to x0, output 1 gives 0.75
    // to x0 and 0.25 to x1, output 2 0.25 and 0.75, output 3 all to x1:
    // dx0 = 1 + 2 * 0.75 + 3 * 0.25 = 3.25, dx1 = 2 * 0.25 + 3 * 0.75 + 4 = 6.75.
    assert_eq!(
        resize_backward(vec![1.0, 2.0, 3.0, 4.0], [1, 1, 2, 1], 1, 4),
        vec![3.25, 6.75]
    );
}

/// 4 x 4 (values 0..15) to 2 x 2: scale 2, src = 0.5 and 2.5, so each output is the
/// mean of a 2 x 2 block, e.g. (0 + 1 + 4 + 5) / 4 = 2.5.
#[test]
fn downsampling_by_two_averages_blocks() {
    let x: Vec<f32> = (0..16).map(|v| v as f32).collect();
    assert_eq!(resize(x, [1, 4, 4, 1], 2, 2), vec![2.5, 4.5, 10.5, 12.5]);
    // Each dy spreads a quarter to each pixel of its block.
    let dx = resize_backward(vec![4.0, 8.0, 12.0, 16.0], [1, 4, 4, 1], 2, 2);
    #[rustfmt::skip]
    let want = vec![
        1.0, 1.0, 2.0, 2.0,
        1.0, 1.0, 2.0, 2.0,
        3.0, 3.0, 4.0, 4.0,
        3.0, 3.0, 4.0, 4.0,
    ];
    assert_eq!(dx, want);
}

/// 3 columns to 2: scale 1.5, src = 0.25 and 1.75: [0, 10, 20] gives
/// 0 + 10 * 0.25 = 2.5 and 10 + 10 * 0.75 = 17.5; the second channel, [1, -1, 3],
/// gives 1 + (-1 - 1) * 0.25 = 0.5 and -1 + (3 + 1) * 0.75 = 2.
#[test]
fn a_non_integer_ratio_and_channels() {
    assert_eq!(
        resize(vec![0.0, 1.0, 10.0, -1.0, 20.0, 3.0], [1, 1, 3, 2], 1, 2),
        vec![2.5, 0.5, 17.5, 2.0]
    );
}

/// The same size copies: src = dst exactly, so every weight is 0 or 1.
#[test]
fn the_same_size_is_a_copy() {
    let x: Vec<f32> = (0..24).map(|v| v as f32 * 0.37 - 2.0).collect();
    assert_eq!(resize(x.clone(), [2, 3, 2, 2], 3, 2), x);
    assert_eq!(resize_backward(x.clone(), [2, 3, 2, 2], 3, 2), x);
}

/// Odd sizes, rows up (3 -> 5) and columns down (5 -> 3), on a picture linear in
/// both directions (x[r][c] = 10 r + 3 c), where bilinear resizing returns the linear
/// function at the clamped source coordinates. TensorFlow's definition
/// (`src = (dst + 0.5) * in / out - 0.5`, neighbours clamped at the edges): rows at
/// scale 3/5 sample -0.2, 0.4, 1.0, 1.6, 2.2, clamped to 0, 0.4, 1, 1.6, 2; columns
/// at scale 5/3 sample 1/3, 2, 11/3. So out[i][j] = 10 r_i + 3 c_j: row 0 is
/// 1, 6, 11; row 1 adds 4; row 2 adds 10; row 3 adds 16; row 4 adds 20.
#[rustfmt::skip]
const ODD_RESIZE_WANT: [f32; 15] = [
    1.0, 6.0, 11.0,
    5.0, 10.0, 15.0,
    11.0, 16.0, 21.0,
    17.0, 22.0, 27.0,
    21.0, 26.0, 31.0,
];

fn odd_resize_input() -> Vec<f32> {
    (0..15)
        .map(|k| (10 * (k / 5) + 3 * (k % 5)) as f32)
        .collect()
}

#[test]
fn odd_sizes_up_and_down_follow_the_definition() {
    let got = resize(odd_resize_input(), [1, 3, 5, 1], 5, 3);
    for (g, w) in got.iter().zip(ODD_RESIZE_WANT) {
        assert!((g - w).abs() < 1e-5, "{got:?}");
    }
}

/// Bad arguments are errors naming the op, never panics.
#[test]
fn bad_shapes_are_errors() {
    use tensor::Tensor;
    let rank3 = Tensor::zeros(&Cpu, [2, 3, 4]).unwrap();
    let err = rank3.resize_bilinear(2, 2).unwrap_err().to_string();
    assert!(err.contains("resize_bilinear"), "{err}");
    let img = Tensor::zeros(&Cpu, [1, 2, 2, 1]).unwrap();
    assert!(img.resize_bilinear(0, 3).is_err());
    assert!(img.resize_bilinear(3, 0).is_err());
    let empty = Tensor::zeros(&Cpu, [1, 0, 2, 1]).unwrap();
    assert!(empty.resize_bilinear(2, 2).is_err());
    // A batch of no images has nothing to compute, which is fine.
    let none = Tensor::zeros(&Cpu, [0, 2, 2, 1]).unwrap();
    assert_eq!(none.resize_bilinear(3, 3).unwrap().dims(), &[0, 3, 3, 1]);
}
