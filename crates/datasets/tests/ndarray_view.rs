//! `ImageSet::view`: the pixels as an ndarray without a copy.

use datasets::ImageSet;

#[test]
fn the_view_shares_the_pixels_and_indexes_them_nhwc() {
    // Two 2x3 images of 2 channels, pixel value = its byte offset.
    let set = ImageSet::new((0..24).collect(), vec![0, 1], 2, 3, 2, 2).unwrap();
    let v = set.view().unwrap();
    assert_eq!(v.shape(), &[2, 2, 3, 2]);
    assert_eq!(v.as_ptr(), set.images.as_ptr(), "a view, not a copy");
    // Image 1, row 1, column 2, channel 1: 12 + (1 * 3 + 2) * 2 + 1 = 23.
    assert_eq!(v[[1, 1, 2, 1]], 23);
    assert_eq!(set.labels_view().to_vec(), vec![0, 1]);
}

#[test]
fn inconsistent_sizes_are_an_error_not_a_panic() {
    let mut set = ImageSet::new(vec![0; 8], vec![0, 0], 2, 2, 1, 1).unwrap();
    set.count = 3; // the fields are public: a user may break them
    let err = set.view().unwrap_err().to_string();
    assert!(
        err.contains("8 image bytes do not make 3 images of 2x2x1"),
        "{err}"
    );
}
