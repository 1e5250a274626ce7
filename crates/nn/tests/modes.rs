//! Train and eval modes (BatchNorm, Dropout) and frozen layers.

mod common;

use backend_cpu::Cpu;
use common::{assert_close, bits, t, values};
use nn::Params;
use nn::{
    Adam, BatchNorm, Dense, Dropout, Mode, Module, Optimizer, RmsProp, Seeds, Sequential, Sgd, loss,
};
use tensor::Tensor;

#[test]
fn batch_norm_eval_uses_the_moving_statistics() {
    let bn = BatchNorm::new(&Cpu, 2).unwrap();
    assert_eq!((bn.momentum, bn.epsilon), (0.99, 1e-3), "Keras defaults");
    bn.moving_mean.set(t(&[1.0, -2.0], &[2]));
    bn.moving_variance.set(t(&[3.0, 0.999], &[2]));
    bn.gamma.set(t(&[2.0, 0.5], &[2]));
    bn.beta.set(t(&[0.5, 1.0], &[2]));
    let x = t(&[4.0, 0.0, 1.0, -2.0], &[2, 2]);
    let y = bn.forward(&x, Mode::Eval).unwrap();
    // feature 0: (4 - 1) / sqrt(3 + 0.001) * 2 + 0.5 = 3.9635244; (1 - 1) ... + 0.5 = 0.5
    // feature 1: (0 + 2) / sqrt(0.999 + 0.001) * 0.5 + 1 = 2;     (-2 + 2) ... + 1 = 1
    assert_close(
        "eval",
        &y.to_vec().unwrap(),
        &[3.9635244, 2.0, 0.5, 1.0],
        1e-5,
    );
    // Evaluation leaves the statistics alone.
    assert_eq!(bn.moving_mean.value().to_vec().unwrap(), [1.0, -2.0]);
    assert_eq!(bn.moving_variance.value().to_vec().unwrap(), [3.0, 0.999]);
}

#[test]
fn batch_norm_train_normalises_by_the_batch_and_moves_the_statistics() {
    // Both moving-variance rules on one input; the training output does not depend on it.
    // Biased batch variance [4, 100] (Keras 3), or made unbiased as Keras 2 does:
    // [4, 100] * 2 / (2 - 1.001) = [8.008008, 200.2002].
    // Keras 3: moving_var = 0.8 * [1, 1] + 0.2 * [4, 100] = [1.6, 20.8]
    //          then 0.8 * [1.6, 20.8] + 0.2 * [4, 100] = [2.08, 36.64]
    //          eval: (1 - 1.08) / sqrt(2.08 + 0.001) = -0.0554567
    // Keras 2: moving_var = 0.8 * [1, 1] + 0.2 * [8.008008, 200.2002] = [2.4016016, 40.84004]
    //          then 0.8 * [2.4016016, 40.84004] + 0.2 * [8.008008, 200.2002] = [3.5228829, 72.712072]
    //          eval: (1 - 1.08) / sqrt(3.5228829 + 0.001) = -0.0426166
    let rules = [
        (
            "keras 3",
            BatchNorm::new(&Cpu, 2).unwrap().momentum(0.8),
            [1.6, 20.8],
            [2.08, 36.64],
            -0.0554567,
        ),
        (
            "keras 2",
            BatchNorm::new(&Cpu, 2)
                .unwrap()
                .momentum(0.8)
                .bessel_corrected_moving_variance(),
            [2.4016016, 40.84004],
            [3.5228829, 72.712072],
            -0.0426166,
        ),
    ];
    for (rule, bn, var1, var2, eval0) in rules {
        let x = t(&[1.0, 10.0, 5.0, 30.0], &[2, 2]);
        let y = bn.forward(&x, Mode::Train).unwrap();
        // feature 0: mean 3, biased variance 4 -> (x - 3) / sqrt(4.001) = -/+ 0.9998750
        // feature 1: mean 20, variance 100 -> (x - 20) / sqrt(100.001) = -/+ 0.9999950
        assert_close(
            rule,
            &y.to_vec().unwrap(),
            &[-0.9998750, -0.9999950, 0.9998750, 0.9999950],
            1e-5,
        );
        // moving_mean = 0.8 * [0, 0] + 0.2 * [3, 20] = [0.6, 4.0]
        assert_close(
            rule,
            &bn.moving_mean.value().to_vec().unwrap(),
            &[0.6, 4.0],
            1e-6,
        );
        assert_close(
            rule,
            &bn.moving_variance.value().to_vec().unwrap(),
            &var1,
            1e-5,
        );
        bn.forward(&x, Mode::Train).unwrap();
        // moving_mean = 0.8 * [0.6, 4] + 0.2 * [3, 20] = [1.08, 7.2]
        assert_close(
            rule,
            &bn.moving_mean.value().to_vec().unwrap(),
            &[1.08, 7.2],
            1e-5,
        );
        assert_close(
            rule,
            &bn.moving_variance.value().to_vec().unwrap(),
            &var2,
            1e-4,
        );
        // The same input in eval mode now uses those statistics: a different output.
        let e = bn.forward(&x, Mode::Eval).unwrap().to_vec().unwrap();
        assert!((e[0] as f64 - eval0).abs() < 1e-5, "{rule}: {e:?}");
        // Buffers are saved but neither trained nor counted as trainable.
        assert_eq!(bn.param_counts(), (4, 4));
        assert_eq!(bn.trainable_params().len(), 2);
        bn.set_trainable(true);
        assert!(!bn.moving_mean.is_trainable() && bn.moving_mean.is_buffer());
    }
}

/// A batch of 4 with 2 features: feature 0 is 1, 3, 5, 7 (mean 4, biased variance
/// (9 + 1 + 1 + 9) / 4 = 5), feature 1 is 10, 10, 30, 30 (mean 20, variance 100).
fn batch_of_four() -> Tensor<Cpu> {
    t(&[1.0, 10.0, 3.0, 10.0, 5.0, 30.0, 7.0, 30.0], &[4, 2])
}

/// The training output of [`batch_of_four`] under either rule (gamma 1, beta 0, epsilon 1e-3):
/// feature 0: (x - 4) / sqrt(5.001) = [-1.3415066, -0.4471689, 0.4471689, 1.3415066];
/// feature 1: (x - 20) / sqrt(100.001) = -/+ 0.9999950.
const BATCH_OF_FOUR_TRAIN: [f64; 8] = [
    -1.3415066, -0.9999950, -0.4471689, -0.9999950, 0.4471689, 0.9999950, 1.3415066, 0.9999950,
];

#[test]
fn batch_norm_keras3_moving_variance_is_the_biased_batch_variance() {
    // Keras defaults: momentum 0.99, epsilon 1e-3; moving statistics start at 0 and 1.
    let bn = BatchNorm::new(&Cpu, 2).unwrap();
    assert_eq!(
        (bn.momentum, bn.epsilon, bn.bessel_correction),
        (0.99, 1e-3, false)
    );
    let y = bn.forward(&batch_of_four(), Mode::Train).unwrap();
    assert_close("train", &y.to_vec().unwrap(), &BATCH_OF_FOUR_TRAIN, 1e-5);
    // moving_mean = 0.99 * [0, 0] + 0.01 * [4, 20] = [0.04, 0.2]
    // moving_var  = 0.99 * [1, 1] + 0.01 * [5, 100] = [1.04, 1.99]
    let mean = bn.moving_mean.value().to_vec().unwrap();
    let var = bn.moving_variance.value().to_vec().unwrap();
    assert_close("moving mean", &mean, &[0.04, 0.2], 1e-6);
    assert_close("moving variance", &var, &[1.04, 1.99], 1e-6);
    // Inference on [1, 10]: (1 - 0.04) / sqrt(1.04 + 0.001) = 0.96 / 1.0202941 = 0.9409052
    //                       (10 - 0.2) / sqrt(1.99 + 0.001) = 9.8 / 1.4110280 = 6.9452910
    let e = bn.forward(&t(&[1.0, 10.0], &[1, 2]), Mode::Eval).unwrap();
    assert_close("eval", &e.to_vec().unwrap(), &[0.9409052, 6.9452910], 1e-5);
}

#[test]
fn batch_norm_keras2_moving_variance_is_bessel_corrected() {
    let bn = BatchNorm::new(&Cpu, 2)
        .unwrap()
        .bessel_corrected_moving_variance();
    let y = bn.forward(&batch_of_four(), Mode::Train).unwrap();
    // Normalisation itself still uses the biased batch variance.
    assert_close("train", &y.to_vec().unwrap(), &BATCH_OF_FOUR_TRAIN, 1e-5);
    // n = 4 values per channel: [5, 100] * 4 / (4 - 1.001) = [6.6688896, 133.37779]
    // moving_mean = [0.04, 0.2] as before
    // moving_var  = 0.99 * [1, 1] + 0.01 * [6.6688896, 133.37779] = [1.0566889, 2.3237779]
    let mean = bn.moving_mean.value().to_vec().unwrap();
    let var = bn.moving_variance.value().to_vec().unwrap();
    assert_close("moving mean", &mean, &[0.04, 0.2], 1e-6);
    // (f32 rounds n / (n - 1 - epsilon) and its product: a few ulps.)
    assert_close("moving variance", &var, &[1.0566889, 2.3237779], 3e-6);
    // Inference on [1, 10]: 0.96 / sqrt(1.0576889) = 0.96 / 1.0284401 = 0.9334526
    //                       9.8 / sqrt(2.3247779) = 9.8 / 1.5247222 = 6.4274002
    let e = bn.forward(&t(&[1.0, 10.0], &[1, 2]), Mode::Eval).unwrap();
    assert_close("eval", &e.to_vec().unwrap(), &[0.9334526, 6.4274002], 1e-5);
}

#[test]
fn batch_norm_statistics_receive_no_gradient() {
    let bn = BatchNorm::new(&Cpu, 2).unwrap();
    let x = t(&values(8, 1), &[4, 2]).requires_grad();
    let grads = bn
        .forward(&x, Mode::Train)
        .unwrap()
        .square()
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    assert!(bn.gamma.grad(&grads).is_some());
    assert!(bn.moving_mean.grad(&grads).is_none());
    assert!(bn.moving_variance.grad(&grads).is_none());
}

#[test]
fn dropout_is_the_identity_in_eval() {
    let mut seeds = Seeds::new(1);
    let dropout = Dropout::new(0.5, &mut seeds).unwrap();
    let x = t(&values(100, 2), &[10, 10]);
    let y = dropout.forward(&x, Mode::Eval).unwrap();
    assert_eq!(bits(&y.to_vec().unwrap()), bits(&x.to_vec().unwrap()));
    assert_eq!(dropout.calls(), 0, "eval draws no mask");
}

#[test]
fn dropout_in_training_zeroes_about_rate_and_rescales() {
    let mut seeds = Seeds::new(2);
    let n = 10_000;
    let dropout = Dropout::new(0.3, &mut seeds).unwrap();
    let x = Tensor::ones(&Cpu, [100, 100]).unwrap();
    let a = dropout.forward(&x, Mode::Train).unwrap().to_vec().unwrap();
    let zeros = a.iter().filter(|&&v| v == 0.0).count();
    // Binomial(10000, 0.3): mean 3000, sd sqrt(10000 * 0.3 * 0.7) = 45.8; allow 5 sd.
    assert!((zeros as f64 - 3000.0).abs() < 230.0, "{zeros} zeros");
    // Survivors are scaled by 1 / (1 - 0.3) = 1.4285714.
    assert!(a.iter().all(|&v| v == 0.0 || (v - 1.4285714).abs() < 1e-6));
    // Each call draws a new mask: independent masks disagree on 2 * 0.3 * 0.7 = 42% of
    // the elements (4200 +- 250); the same mask on 0.
    let b = dropout.forward(&x, Mode::Train).unwrap().to_vec().unwrap();
    let differ = a
        .iter()
        .zip(&b)
        .filter(|(p, q)| (**p == 0.0) != (**q == 0.0))
        .count();
    assert!(
        (differ as f64 - 4200.0).abs() < 250.0,
        "{differ} of {n} differ"
    );
    assert_eq!(dropout.calls(), 2);

    // Reproducible: the same seed stream gives the same masks, and rewinding replays them.
    let twin = Dropout::new(0.3, &mut Seeds::new(2)).unwrap();
    assert_eq!(twin.forward(&x, Mode::Train).unwrap().to_vec().unwrap(), a);
    dropout.set_calls(1);
    assert_eq!(
        dropout.forward(&x, Mode::Train).unwrap().to_vec().unwrap(),
        b
    );
    // A second layer of the same model has its own seed, hence other masks.
    let other = Dropout::new(0.3, &mut seeds).unwrap();
    assert_ne!(other.forward(&x, Mode::Train).unwrap().to_vec().unwrap(), a);
}

fn two_layer_model(seed: u64) -> Sequential<Cpu> {
    let mut seeds = Seeds::new(seed);
    Sequential::new()
        .add(
            Dense::new(&Cpu, 3, 4, &mut seeds)
                .unwrap()
                .activation(nn::Activation::Tanh),
        )
        .add(Dense::new(&Cpu, 4, 2, &mut seeds).unwrap())
}

fn snapshot(model: &Sequential<Cpu>, layer: usize) -> Vec<Vec<u32>> {
    model.layers()[layer]
        .1
        .params()
        .iter()
        .map(|(_, p)| bits(&p.value().to_vec().unwrap()))
        .collect()
}

fn train_step(model: &Sequential<Cpu>, opt: &mut dyn Optimizer<Cpu>) {
    let x = t(&values(6, 3), &[2, 3]);
    let y = t(&[1.0, -1.0, 0.5, 0.25], &[2, 2]);
    let l = loss::mse(&model.forward(&x, Mode::Train).unwrap(), &y).unwrap();
    let grads = l.backward().unwrap();
    opt.step(&model.params(), &grads).unwrap();
}

#[test]
fn frozen_layers_receive_no_updates() {
    let optimizers: Vec<Box<dyn Optimizer<Cpu>>> = vec![
        Box::new(Sgd::new(0.1).momentum(0.9)),
        Box::new(Adam::new(0.01)),
        Box::new(RmsProp::new(0.01)),
    ];
    for mut opt in optimizers {
        let model = two_layer_model(4);
        model.layers()[0].1.set_trainable(false);
        // Keras counts: dense 3*4+4 = 16 frozen, dense_1 4*2+2 = 10 trainable.
        assert_eq!(model.param_counts(), (10, 16));
        let (frozen, trained) = (snapshot(&model, 0), snapshot(&model, 1));
        for _ in 0..3 {
            train_step(&model, opt.as_mut());
        }
        assert_eq!(snapshot(&model, 0), frozen, "the frozen layer moved");
        assert_ne!(
            snapshot(&model, 1),
            trained,
            "the trainable layer did not move"
        );
        // Unfrozen, it trains again.
        model.layers()[0].1.set_trainable(true);
        train_step(&model, opt.as_mut());
        assert_ne!(snapshot(&model, 0), frozen);
    }
}
