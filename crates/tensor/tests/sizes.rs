//! Sizes computed from user input are checked (#12, item 11): a shape whose element
//! count overflows, or passes `MAX_ELEMENTS` (isize::MAX bytes of f32), is an
//! `Error::Size` naming the op and the shape, before anything is allocated.

use backend_cpu::Cpu;
use tensor::{Error, MAX_ELEMENTS, Padding, Shape, Tensor};

fn size_error<T: std::fmt::Debug>(r: tensor::Result<T>, op: &str, shape: &str) {
    match r {
        Err(e @ Error::Size { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(op), "{msg} should name {op}");
            assert!(msg.contains(shape), "{msg} should name {shape}");
        }
        other => panic!("{op}: expected a size error naming {shape}, got {other:?}"),
    }
}

/// 2^62 * 4 = 2^64 wraps to 0 in an unchecked product.
const WRAPS: [usize; 2] = [1 << 62, 4];

#[test]
fn constructors_refuse_a_shape_whose_count_wraps() {
    size_error(
        Tensor::from_vec(&Cpu, vec![], WRAPS),
        "from_vec",
        "[4611686018427387904, 4]",
    );
    size_error(
        Tensor::zeros(&Cpu, WRAPS),
        "full",
        "[4611686018427387904, 4]",
    );
    size_error(
        Tensor::ones(&Cpu, WRAPS),
        "full",
        "[4611686018427387904, 4]",
    );
    size_error(
        Tensor::uniform(&Cpu, WRAPS, 0.0, 1.0, 1),
        "random",
        "[4611686018427387904, 4]",
    );
    size_error(
        Tensor::arange(&Cpu, usize::MAX),
        "arange",
        "[18446744073709551615]",
    );
}

#[test]
fn the_limit_is_isize_max_bytes_of_f32() {
    assert_eq!(MAX_ELEMENTS, (1usize << 61) - 1); // (2^63 - 1) / 4 on 64-bit
    assert_eq!(Shape::new(&[1 << 61]).check("t").ok(), None);
    assert_eq!(
        Shape::new(&[(1 << 61) - 1]).check("t").ok(),
        Some((1 << 61) - 1)
    );
    // Zero dimensions leave the others' product bounded (so strides fit).
    assert_eq!(Shape::new(&[0, 1 << 40]).check("t").ok(), Some(0));
    assert!(Shape::new(&[0, 1 << 40, 1 << 40]).check("t").is_err());
    // numel saturates instead of wrapping; checked_numel says so.
    assert_eq!(Shape::new(&WRAPS).numel(), usize::MAX);
    assert_eq!(Shape::new(&WRAPS).checked_numel(), None);
    assert_eq!(Shape::new(&[1 << 62, 0, 4]).numel(), 0);
}

#[test]
fn an_allowed_but_impossible_allocation_is_an_error_not_an_abort() {
    // 2^60 f32 are 4 EiB: under the limit but past any machine's address space.
    let err = Tensor::zeros(&Cpu, [1 << 60]).unwrap_err();
    assert!(err.to_string().contains("cannot allocate"), "{err}");
    assert!(Tensor::full(&Cpu, [1 << 30, 1 << 30], 2.0).is_err());
}

#[test]
fn matmul_of_empty_operands_refuses_an_output_that_wraps() {
    // [2^40, 0] @ [0, 2^40] would be 2^80 zeros.
    let a = Tensor::zeros(&Cpu, [1 << 40, 0]).unwrap();
    let b = Tensor::zeros(&Cpu, [0, 1 << 40]).unwrap();
    size_error(a.matmul(&b), "matmul", "[1099511627776, 1099511627776]");
    // An empty product is fine and does not materialise a broadcast operand.
    let a = Tensor::zeros(&Cpu, [2, 1, 3, 2]).unwrap();
    let b = Tensor::zeros(&Cpu, [1, 1 << 40, 2, 0]).unwrap();
    assert_eq!(a.matmul(&b).unwrap().dims(), &[2, 1 << 40, 3, 0]);
}

#[test]
fn reshape_and_broadcast_refuse_targets_that_wrap() {
    let empty = Tensor::zeros(&Cpu, [0]).unwrap();
    size_error(empty.reshape(WRAPS), "reshape", "[4611686018427387904, 4]");
    let one = Tensor::ones(&Cpu, [1]).unwrap();
    size_error(
        one.broadcast_to(WRAPS),
        "broadcast_to",
        "[4611686018427387904, 4]",
    );
    let col = Tensor::ones(&Cpu, [1, 1]).unwrap();
    let wide = Tensor::zeros(&Cpu, [0, 1 << 40]).unwrap();
    assert_eq!(col.add(&wide).unwrap().dims(), &[0, 1 << 40]);
}

#[test]
fn one_hot_refuses_a_depth_that_wraps() {
    // 2 * 2^63 wraps to 0; the old code panicked with "capacity overflow".
    size_error(
        Tensor::one_hot(&Cpu, &[0, 1], 1 << 63),
        "one_hot",
        "[2, 9223372036854775808]",
    );
    size_error(
        Tensor::one_hot(&Cpu, &[0], 1 << 61),
        "one_hot",
        "[1, 2305843009213693952]",
    );
}

#[test]
fn upsample_and_resize_refuse_outputs_that_wrap() {
    let x = Tensor::ones(&Cpu, [1, 1, 1, 1]).unwrap();
    size_error(
        x.upsample_nearest2d(1 << 40, 1 << 40),
        "upsample_nearest2d",
        "[1, 1099511627776, 1099511627776, 1]",
    );
    size_error(
        x.upsample_nearest2d(usize::MAX, 2),
        "upsample_nearest2d",
        "[1, 18446744073709551615, 2, 1]",
    );
    // 2 * usize::MAX overflows before there is a shape: the input is named.
    let x2 = Tensor::ones(&Cpu, [1, 2, 1, 1]).unwrap();
    size_error(
        x2.upsample_nearest2d(usize::MAX, 1),
        "upsample_nearest2d",
        "[1, 2, 1, 1] scaled by",
    );
    size_error(
        x.resize_bilinear(1 << 40, 1 << 40),
        "resize_bilinear",
        "[1, 1099511627776, 1099511627776, 1]",
    );
}

#[test]
fn conv_and_pool_sizes_do_not_wrap() {
    let x = Tensor::ones(&Cpu, [1, 2, 1, 1]).unwrap();
    // SAME padding: (out - 1) * stride + kernel overflows for a huge window.
    assert!(
        x.max_pool2d((usize::MAX, 1), (1, 1), Padding::Same)
            .is_err()
    );
    assert!(
        x.avg_pool2d((1, 1), (1, usize::MAX), Padding::Same)
            .unwrap()
            .dims()
            == [1, 2, 1, 1]
    );
    // The im2col buffer of an empty-channel convolution would wrap.
    let x = Tensor::zeros(&Cpu, [1, 1 << 20, 1 << 20, 0]).unwrap();
    let w = Tensor::zeros(&Cpu, [1 << 20, 1 << 20, 0, 1]).unwrap();
    size_error(
        x.conv2d(&w, (1, 1), Padding::Same),
        "conv2d",
        "[1, 1048576, 1048576, 1048576, 1048576, 0]",
    );
}

#[test]
fn concat_split_and_chunk_sizes_do_not_wrap() {
    let x = Tensor::zeros(&Cpu, [0, 1 << 60]).unwrap();
    size_error(
        Tensor::concat(&[x.clone(), x], 1),
        "concat",
        "[0, 2305843009213693952]",
    );
    let e = Tensor::zeros(&Cpu, [0]).unwrap();
    // usize::MAX + 1 wraps to 0, the axis' length.
    assert!(e.split(&[usize::MAX, 1], 0).is_err());
    assert!(e.chunk(usize::MAX, 0).is_err());
    assert_eq!(e.chunk(3, 0).unwrap().len(), 3);
}
