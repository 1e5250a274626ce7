//! `Tensor::from_ndarray` / `to_ndarray`: shapes and values from arrays of any
//! dimension and layout, written out by hand.

use backend_cpu::Cpu;
use ndarray::{Array, Array3, ArrayD, IxDyn, ShapeBuilder, s};
use tensor::Tensor;

#[test]
fn contiguous_arrays_of_any_dimension_round_trip() {
    let a = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (100 * i + 10 * j + k) as f32);
    let t = Tensor::from_ndarray(&Cpu, &a).unwrap();
    assert_eq!(t.dims(), &[2, 3, 4]);
    // Row-major: element [1, 2, 3] is at 1 * 12 + 2 * 4 + 3 = 23.
    assert_eq!(t.to_vec().unwrap()[23], 123.0);
    assert_eq!(t.to_ndarray().unwrap(), a.into_dyn());
    // A 0-dimensional array is a scalar; a 6-dimensional one keeps its shape.
    let scalar = ArrayD::from_elem(IxDyn(&[]), 2.5f32);
    assert_eq!(
        Tensor::from_ndarray(&Cpu, &scalar)
            .unwrap()
            .to_scalar()
            .unwrap(),
        2.5
    );
    let six = ArrayD::from_elem(IxDyn(&[1, 2, 1, 3, 1, 2]), 1.0f32);
    assert_eq!(
        Tensor::from_ndarray(&Cpu, &six).unwrap().dims(),
        &[1, 2, 1, 3, 1, 2]
    );
}

/// Column-major arrays, transposed and sliced views are read in logical order.
#[test]
fn strided_inputs_are_read_in_logical_order() {
    // [[0, 1, 2], [3, 4, 5]] stored column by column.
    let f = Array::from_shape_vec((2, 3).f(), vec![0.0f32, 3.0, 1.0, 4.0, 2.0, 5.0]).unwrap();
    let t = Tensor::from_ndarray(&Cpu, &f).unwrap();
    assert_eq!(t.to_vec().unwrap(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    let tr = Tensor::from_ndarray(&Cpu, &f.t()).unwrap();
    assert_eq!(tr.dims(), &[3, 2]);
    assert_eq!(tr.to_vec().unwrap(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    // Every second column of a 2 x 5 array: columns 0, 2, 4.
    let wide = Array::from_shape_fn((2, 5), |(i, j)| (10 * i + j) as f32);
    let sliced = Tensor::from_ndarray(&Cpu, &wide.slice(s![.., ..;2])).unwrap();
    assert_eq!(
        sliced.to_vec().unwrap(),
        vec![0.0, 2.0, 4.0, 10.0, 12.0, 14.0]
    );
}
