//! Property: no public `Tensor` op panics, whatever the shapes and size arguments
//! (#12, item 11). Shapes have rank 0..=6 with dimensions from 0 up to 2^40.
//!
//! Tensors with data are built only when they have few elements (empty tensors may
//! have huge dimensions); shapes past `MAX_ELEMENTS` must be refused by every
//! constructor. An op whose result would be a legal but huge buffer (more than
//! `BIG` elements and no more than `MAX_ELEMENTS`) is not called: it would really
//! try to allocate it. Every other call may return `Ok` or `Err`, never panic
//! (proptest reports a panic as a failure, with the shrunk case).

use backend_cpu::Cpu;
use proptest::prelude::*;
use tensor::{AdamStep, Error, MAX_ELEMENTS, Padding, Shape, Tensor, adam_step, axpby};

type T = Tensor<Cpu>;

/// Most elements a tensor with data gets here.
const SMALL: u128 = 64;
/// Most elements an op's result may have for the op to be called.
const BIG: u128 = 1 << 16;
const LIMIT: u128 = MAX_ELEMENTS as u128;

/// `(numel, extent)`: the product of all dims and of the nonzero ones, saturating.
fn size(dims: &[u128]) -> (u128, u128) {
    let mul = |acc: u128, &d: &u128| acc.saturating_mul(d);
    let numel = dims.iter().fold(1, mul);
    let extent = dims.iter().filter(|&&d| d != 0).fold(1, mul);
    (numel, extent)
}

fn wide(dims: &[usize]) -> Vec<u128> {
    dims.iter().map(|&d| d as u128).collect()
}

/// Whether an op whose result has `dims` may be called: small, or refused for sure.
fn callable(dims: &[u128]) -> bool {
    let (numel, extent) = size(dims);
    numel <= BIG || extent > LIMIT
}

fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![
        8 => 0usize..=4,
        2 => Just(0usize),
        2 => prop::sample::select(vec![1usize << 20, 1 << 31, 1 << 40]),
        1 => 0usize..=(1 << 40),
    ]
}

fn dims() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(dim(), 0..=6)
}

/// A size argument (kernel, stride, scale, depth, piece count...).
fn arg() -> impl Strategy<Value = usize> {
    prop_oneof![
        8 => 0usize..=4,
        1 => prop::sample::select(vec![1usize << 40, 1 << 62, usize::MAX]),
    ]
}

fn data(n: usize) -> Vec<f32> {
    (0..n).map(|i| ((i as f32) * 0.37).sin() * 2.0).collect()
}

/// A tensor with data, when its shape is small; `None` otherwise (after checking
/// that the constructors refuse a shape past the limit).
fn build(dims: &[usize]) -> Option<T> {
    let (numel, extent) = size(&wide(dims));
    if extent > LIMIT {
        let shape = dims.to_vec();
        let refused = |r: tensor::Result<T>| matches!(r, Err(Error::Size { .. }));
        assert!(refused(Tensor::from_vec(&Cpu, vec![], shape.clone())));
        assert!(refused(Tensor::from_vec(&Cpu, vec![1.0; 3], shape.clone())));
        assert!(refused(Tensor::zeros(&Cpu, shape.clone())));
        assert!(refused(Tensor::full(&Cpu, shape.clone(), 2.0)));
        assert!(refused(Tensor::uniform(&Cpu, shape.clone(), 0.0, 1.0, 3)));
        assert!(refused(Tensor::normal(&Cpu, shape.clone(), 0.0, 1.0, 3)));
        assert!(Shape::new(dims).check("t").is_err());
        return None;
    }
    assert_eq!(Shape::new(dims).check("t").ok(), Some(numel as usize));
    if numel > SMALL {
        return None;
    }
    let n = numel as usize;
    // A wrong data length is an error, not a panic.
    assert!(Tensor::from_vec(&Cpu, data(n + 1), dims.to_vec()).is_err());
    let x = Tensor::from_vec(&Cpu, data(n), dims.to_vec()).unwrap();
    assert_eq!(x.numel(), n);
    let _ = Tensor::zeros(&Cpu, dims.to_vec()).unwrap();
    let _ = Tensor::uniform(&Cpu, dims.to_vec(), -1.0, 1.0, 7).unwrap();
    Some(x)
}

#[derive(Debug, Clone)]
struct Args {
    axis: isize,
    axes: Vec<isize>,
    target: Vec<usize>,
    kernel: (usize, usize),
    stride: (usize, usize),
    scale: (usize, usize),
    indices: Vec<usize>,
    depth: usize,
    cuts: Vec<(u8, u8)>,
    pieces: usize,
}

fn args() -> impl Strategy<Value = Args> {
    (
        (-7isize..7, prop::collection::vec(-7isize..7, 0..4), dims()),
        ((arg(), arg()), (arg(), arg()), (arg(), arg())),
        (
            prop::collection::vec(0usize..6, 0..5),
            arg(),
            prop::collection::vec((any::<u8>(), any::<u8>()), 0..7),
            arg(),
        ),
    )
        .prop_map(
            |((axis, axes, target), (kernel, stride, scale), (indices, depth, cuts, pieces))| {
                Args {
                    axis,
                    axes,
                    target,
                    kernel,
                    stride,
                    scale,
                    indices,
                    depth,
                    cuts,
                    pieces,
                }
            },
        )
}

/// Ops of one tensor. Results are dropped: only panics matter.
fn unary_ops(x: &T, a: &Args) {
    let d = wide(x.dims());
    let _ = x.neg().and_then(|y| y.exp()).and_then(|y| y.log());
    let _ = x.abs().and_then(|y| y.sqrt()).and_then(|y| y.recip());
    let _ = x.square().and_then(|y| y.powf(1.5));
    let _ = x.add_scalar(1.0).and_then(|y| y.mul_scalar(2.0));
    let _ = x.sub_scalar(1.0).and_then(|y| y.div_scalar(0.0));
    let _ = x.clamp(-1.0, 1.0).and_then(|y| y.sign());
    let _ = x.relu().and_then(|y| y.leaky_relu(0.2));
    let _ = x
        .sigmoid()
        .and_then(|y| y.tanh())
        .and_then(|y| y.softplus());
    let _ = x.dropout(0.5, 3, true);
    let _ = x.dropout(1.5, 3, true);
    let _ = x.softmax(a.axis);
    let _ = x.log_softmax(a.axis);

    // Reductions: the result keeps the dimensions not reduced over.
    let resolved: Vec<usize> = a
        .axes
        .iter()
        .filter_map(|&ax| x.shape().axis(ax, "t").ok())
        .collect();
    let kept: Vec<u128> = d
        .iter()
        .enumerate()
        .filter(|(i, _)| !resolved.contains(i))
        .map(|(_, &v)| v)
        .collect();
    if callable(&kept) {
        let _ = x.sum(&a.axes, false);
        let _ = x.sum(&a.axes, true);
        let _ = x.max(&a.axes, false);
        let _ = x.min(&a.axes, true);
        let _ = x.mean(&a.axes, false);
        let _ = x.var(&a.axes, true);
    }
    if let Ok(ax) = x.shape().axis(a.axis, "t") {
        let mut rest = d.clone();
        rest.remove(ax);
        if callable(&rest) {
            let _ = x.argmax(a.axis, false);
        }
    }
    let _ = x.sum_all();
    let _ = x.mean_all();
    let _ = x.to_scalar();

    // Layout.
    let _ = x.reshape(a.target.clone());
    let signed: Vec<isize> = a
        .target
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            if i == 0 {
                -1
            } else {
                t.min(isize::MAX as usize) as isize
            }
        })
        .collect();
    let _ = x.reshape_infer(&signed);
    let _ = x.flatten();
    let _ = x.unsqueeze(a.axis.unsigned_abs());
    let _ = x.squeeze(a.axis);
    let perm: Vec<usize> = (0..x.rank()).rev().collect();
    let _ = x.permute(&perm);
    let _ = x.permute(&a.indices);
    let _ = x.transpose(a.axis, 0);
    if callable(&wide(&a.target)) {
        let _ = x.broadcast_to(a.target.clone());
    } else if size(&wide(&a.target)).1 > LIMIT {
        assert!(x.broadcast_to(a.target.clone()).is_err());
    }
    let ranges: Vec<(usize, usize)> = x
        .dims()
        .iter()
        .zip(a.cuts.iter().cycle())
        .map(|(&dim, &(s, e))| {
            let at = |f: u8| (dim as u128 * f as u128 / 255) as usize;
            (at(s.min(e)), at(s.max(e)))
        })
        .collect();
    let _ = x.slice(&ranges);
    let _ = x.slice(&[(0, usize::MAX)]);
    let _ = x.narrow(a.axis, 1, 2);
    let _ = x.narrow(a.axis, usize::MAX, usize::MAX);
    let _ = Tensor::concat(&[x.clone(), x.clone()], a.axis);
    let _ = T::concat(&[], a.axis);
    let _ = x.split(&[1, usize::MAX], a.axis);
    let _ = x.split(&a.indices, a.axis);
    // Pieces are separate tensors: only a few, or a count that cannot be reserved.
    if a.pieces <= 8 || a.pieces > usize::MAX / 16 {
        let _ = x.chunk(a.pieces, a.axis);
    }
    let _ = x.index_select(a.axis, &a.indices);
    let _ = x.index_select(a.axis, &[usize::MAX]);

    // NHWC ops. Their results are at most `n * h * w * c` times the size factors.
    if x.rank() == 4 {
        let [n, h, w, c] = [d[0], d[1], d[2], d[3]];
        let (kernel, stride) = (a.kernel, a.stride);
        for padding in [Padding::Valid, Padding::Same] {
            // Pooling results are no larger than the input.
            let _ = x.max_pool2d(kernel, stride, padding);
            let _ = x.avg_pool2d(kernel, stride, padding);
        }
        let (sh, sw) = (a.scale.0 as u128, a.scale.1 as u128);
        let up = [n, h.saturating_mul(sh), w.saturating_mul(sw), c];
        if callable(&up) {
            let r = x.upsample_nearest2d(a.scale.0, a.scale.1);
            if size(&up).1 > LIMIT {
                assert!(r.is_err());
            }
        }
        let resized = [n, sh, sw, c];
        if callable(&resized) {
            let _ = x.resize_bilinear(a.scale.0, a.scale.1);
        }
    }
}

/// Ops of two tensors.
fn binary_ops(x: &T, y: &T, a: &Args) {
    let _ = x.add(y);
    let _ = x.sub(y);
    let _ = x.mul(y);
    let _ = x.div(y);
    let _ = x.pow(y);
    let _ = x.maximum(y);
    let _ = x.minimum(y);
    let _ = x.eq_mask(y);
    let _ = x.gt_mask(y);
    let _ = x.ge_mask(y);
    let _ = x.sum_to_shape(y.shape());
    let _ = Tensor::concat(&[x.clone(), y.clone()], a.axis);
    let _ = Tensor::lstm_cell(x, y, 1.0);

    let (dx, dy) = (wide(x.dims()), wide(y.dims()));
    if x.rank() >= 2 && y.rank() >= 2 {
        // The result is [broadcast batch.., m, n] (when the operands fit).
        let (bx, by) = (&dx[..dx.len() - 2], &dy[..dy.len() - 2]);
        let rank = bx.len().max(by.len());
        let pick = |b: &[u128], i: usize| (i + b.len()).checked_sub(rank).map_or(1, |j| b[j]);
        let mut out: Vec<u128> = (0..rank).map(|i| pick(bx, i).max(pick(by, i))).collect();
        out.extend([dx[dx.len() - 2], dy[dy.len() - 1]]);
        if callable(&out) {
            let _ = x.matmul(y);
        }
    }
    if x.rank() == 4 && y.rank() == 4 {
        // Each output dimension is at most the input's (stride >= 1).
        let out = [dx[0], dx[1], dx[2], dy[3]];
        if callable(&out) {
            for padding in [Padding::Valid, Padding::Same] {
                let _ = x.conv2d(y, a.stride, padding);
                let _ = x.conv2d(y, (1, 1), padding);
            }
        }
    }
    let (mut p, mut m, mut v) = (x.clone(), y.clone(), y.clone());
    let step = AdamStep {
        lr_t: 0.1,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-7,
    };
    let _ = adam_step(&mut p, y, &mut m, &mut v, step);
    let _ = axpby(&mut p, 0.5, y, 0.5);
}

/// Gradients through a few ops of a small tensor.
fn backward_ops(x: &T) {
    let leaf = x.requires_grad();
    let loss = leaf
        .tanh()
        .and_then(|y| y.mul(&leaf))
        .and_then(|y| y.softmax(-1))
        .and_then(|y| y.sum_all());
    if let Ok(loss) = loss {
        let _ = loss.backward();
    }
    let mut gram = wide(x.dims());
    if let [.., m, k] = gram.as_mut_slice() {
        *k = *m;
    }
    // x @ x^T is [.., m, m]: huge for an empty [2^20, 0].
    if x.rank() >= 2 && callable(&gram) {
        let t = leaf.transpose(-1, -2).unwrap();
        if let Ok(p) = leaf.matmul(&t) {
            let _ = p.sum_all().and_then(|s| s.backward());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_tensor_op_panics(dx in dims(), dy in dims(), a in args()) {
        let x = build(&dx);
        let y = build(&dy);
        if let Some(x) = &x {
            unary_ops(x, &a);
            backward_ops(x);
            if let Some(y) = &y {
                binary_ops(x, y, &a);
                binary_ops(y, x, &a);
            }
        }
        // Constructors from size arguments alone.
        let rows = a.indices.len() as u128;
        if callable(&[rows, a.depth as u128]) {
            let _ = Tensor::one_hot(&Cpu, &a.indices, a.depth);
        }
        if callable(&[a.depth as u128]) {
            let _ = Tensor::arange(&Cpu, a.depth);
        }
        let _ = Tensor::scalar(&Cpu, 1.0).and_then(|s| s.reshape(dx.clone()));
    }

    #[test]
    fn shapes_with_two_operands_broadcast_or_refuse(dx in dims(), dy in dims()) {
        // Shape-only paths: broadcasting never panics and a result is never past the limit.
        if let Ok(s) = Shape::broadcast(&Shape::new(&dx), &Shape::new(&dy), "t") {
            prop_assert!(s.check("t").is_ok());
            let _ = Shape::new(&dx).broadcast_strides(&s);
        }
        let _ = Shape::new(&dx).strides();
        prop_assert_eq!(
            Shape::new(&dx).checked_numel().map(|n| n as u128),
            Some(size(&wide(&dx)).0).filter(|&n| n <= usize::MAX as u128)
        );
    }
}
