//! A two-layer MLP trained with plain SGD on XOR through the public API only.

use backend_cpu::Cpu;
use tensor::{Tensor, no_grad};

#[test]
fn mlp_learns_xor() {
    let x = Tensor::from_vec(&Cpu, vec![0., 0., 0., 1., 1., 0., 1., 1.], [4, 2]).unwrap();
    let y = Tensor::from_vec(&Cpu, vec![0., 1., 1., 0.], [4, 1]).unwrap();
    let mut w1 = Tensor::uniform(&Cpu, [2, 8], -1.0, 1.0, 1)
        .unwrap()
        .requires_grad();
    let mut b1 = Tensor::zeros(&Cpu, [8]).unwrap().requires_grad();
    let mut w2 = Tensor::uniform(&Cpu, [8, 1], -1.0, 1.0, 2)
        .unwrap()
        .requires_grad();
    let mut b2 = Tensor::zeros(&Cpu, [1]).unwrap().requires_grad();
    let lr = 0.5;
    let mut first = None;
    let mut last = 0.0;
    for _ in 0..2000 {
        let h = x.matmul(&w1).unwrap().add(&b1).unwrap().tanh().unwrap();
        let p = h.matmul(&w2).unwrap().add(&b2).unwrap().sigmoid().unwrap();
        let loss = p.sub(&y).unwrap().square().unwrap().mean_all().unwrap();
        last = loss.to_scalar().unwrap();
        first.get_or_insert(last);
        let g = loss.backward().unwrap();
        let step = |w: &Tensor<Cpu>| {
            no_grad(|| {
                w.sub(&g.get(w).unwrap().mul_scalar(lr).unwrap())
                    .unwrap()
                    .requires_grad()
            })
        };
        (w1, b1, w2, b2) = (step(&w1), step(&b1), step(&w2), step(&b2));
    }
    let first = first.unwrap();
    assert!(first > 0.2, "initial loss {first} should be near 0.25");
    assert!(last < 0.02, "loss only fell from {first} to {last}");
    let h = x.matmul(&w1).unwrap().add(&b1).unwrap().tanh().unwrap();
    let p = h.matmul(&w2).unwrap().add(&b2).unwrap().sigmoid().unwrap();
    let p = p.to_vec().unwrap();
    assert!(
        p[0] < 0.5 && p[1] > 0.5 && p[2] > 0.5 && p[3] < 0.5,
        "{p:?}"
    );
}
