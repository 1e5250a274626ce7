//! `MNIST_DIR` selects the directory. This file holds one test so that setting
//! the variable cannot race with other tests of the same process.

mod common;

use common::{idx_images_bytes, idx_labels_bytes, temp_dir};
use datasets::{DatasetError, MNIST_DIR_ENV, Mnist};

#[test]
fn mnist_dir_variable() {
    let dir = temp_dir("mnist-dir-env");
    for (name, n) in [("train", 3u32), ("t10k", 1)] {
        std::fs::write(
            dir.join(format!("{name}-images-idx3-ubyte")),
            idx_images_bytes(n, 28, 28, |_| 1),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{name}-labels-idx1-ubyte")),
            idx_labels_bytes(&vec![4; n as usize]),
        )
        .unwrap();
    }
    // SAFETY: this binary runs this single test, so no other thread reads the environment.
    unsafe { std::env::remove_var(MNIST_DIR_ENV) };
    let err = Mnist::from_env().unwrap_err();
    assert!(matches!(err, DatasetError::EnvVarNotSet { .. }), "{err}");
    assert!(err.to_string().contains("MNIST_DIR"), "{err}");
    assert_eq!(Mnist::load(None).unwrap().train.len(), 8000);

    // SAFETY: as above.
    unsafe { std::env::set_var(MNIST_DIR_ENV, &dir) };
    let m = Mnist::from_env().unwrap();
    assert_eq!((m.train.len(), m.test.len()), (3, 1));
    assert_eq!(Mnist::load(None).unwrap(), m);
}
