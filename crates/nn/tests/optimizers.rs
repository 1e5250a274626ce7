//! Optimizers against their published (Keras) update rules, computed by hand on
//! f(w) = sum((w - c)^2) with c = [0.5, -1], so g = 2 (w - c), from w0 = [1, 2].

mod common;

use backend_cpu::Cpu;
use common::{assert_close, bits, t};
use nn::{Adam, NamedParam, Optimizer, Param, RmsProp, Sgd};
use tensor::{Result, Tensor};

fn quadratic_step(opt: &mut dyn Optimizer<Cpu>, w: &Param<Cpu>) -> Result<()> {
    let c = t(&[0.5, -1.0], &[2]);
    let loss = w.value().sub(&c)?.square()?.sum_all()?;
    let grads = loss.backward()?;
    opt.step(&[("w".to_string(), w.clone())], &grads)
}

/// `w` after each of `steps` steps.
fn trajectory(opt: &mut dyn Optimizer<Cpu>, steps: usize) -> Vec<Vec<f32>> {
    let w = Param::new(t(&[1.0, 2.0], &[2]));
    (0..steps)
        .map(|_| {
            quadratic_step(opt, &w).unwrap();
            w.value().to_vec().unwrap()
        })
        .collect()
}

#[test]
fn sgd_plain_keras_defaults() {
    let mut opt = Sgd::<Cpu>::default();
    assert_eq!(
        (opt.lr, opt.momentum, opt.nesterov, opt.decay),
        (0.01, 0.0, false, 0.0)
    );
    let w = trajectory(&mut opt, 2);
    // step 1: g = 2 ([1, 2] - [0.5, -1]) = [1, 6];      w = [1 - 0.01, 2 - 0.06]       = [0.99, 1.94]
    // step 2: g = [0.98, 5.88];                           w = [0.99 - 0.0098, 1.94 - 0.0588] = [0.9802, 1.8812]
    assert_close("sgd 1", &w[0], &[0.99, 1.94], 1e-6);
    assert_close("sgd 2", &w[1], &[0.9802, 1.8812], 1e-6);
    assert_eq!(opt.iterations(), 2);
    // Without momentum there is no slot, only the step count.
    let names: Vec<String> = opt.state().unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["iterations"]);
}

#[test]
fn sgd_momentum() {
    let w = trajectory(&mut Sgd::new(0.1).momentum(0.9), 3);
    // v = 0.9 v - 0.1 g; w += v
    // step 1: g = [1, 6];       v = [-0.1, -0.6];                          w = [0.9, 1.4]
    // step 2: g = [0.8, 4.8];   v = [-0.09 - 0.08, -0.54 - 0.48] = [-0.17, -1.02]; w = [0.73, 0.38]
    // step 3: g = [0.46, 2.76]; v = [-0.153 - 0.046, -0.918 - 0.276] = [-0.199, -1.194]; w = [0.531, -0.814]
    assert_close("momentum 1", &w[0], &[0.9, 1.4], 1e-6);
    assert_close("momentum 2", &w[1], &[0.73, 0.38], 1e-6);
    assert_close("momentum 3", &w[2], &[0.531, -0.814], 2e-6);
}

#[test]
fn sgd_nesterov() {
    let w = trajectory(&mut Sgd::new(0.1).momentum(0.9).nesterov(true), 3);
    // v = 0.9 v - 0.1 g; w += 0.9 v - 0.1 g
    // step 1: g = [1, 6]; v = [-0.1, -0.6]; w = [1 - 0.09 - 0.1, 2 - 0.54 - 0.6] = [0.81, 0.86]
    // step 2: g = [0.62, 3.72]; v = [-0.09 - 0.062, -0.54 - 0.372] = [-0.152, -0.912]
    //         w = [0.81 - 0.1368 - 0.062, 0.86 - 0.8208 - 0.372] = [0.6112, -0.3328]
    // step 3: g = [0.2224, 1.3344]; v = [-0.1368 - 0.02224, -0.8208 - 0.13344] = [-0.15904, -0.95424]
    //         w = [0.6112 - 0.143136 - 0.02224, -0.3328 - 0.858816 - 0.13344] = [0.445824, -1.325056]
    assert_close("nesterov 1", &w[0], &[0.81, 0.86], 1e-6);
    assert_close("nesterov 2", &w[1], &[0.6112, -0.3328], 2e-6);
    assert_close("nesterov 3", &w[2], &[0.445824, -1.325056], 2e-6);
}

#[test]
fn rmsprop_keras3_defaults() {
    let opt = RmsProp::<Cpu>::default();
    assert_eq!(
        (opt.lr, opt.rho, opt.epsilon, opt.decay),
        (0.001, 0.9, 1e-7, 0.0)
    );
    // Keras 3 / tf.keras: epsilon inside the square root.
    assert!(!opt.epsilon_outside_sqrt);
    assert!(
        RmsProp::<Cpu>::new(0.01)
            .keras2_epsilon()
            .epsilon_outside_sqrt
    );
}

#[test]
fn rmsprop_both_rules_on_the_quadratic() {
    // With gradients of order 1, a >= 0.1 dwarfs epsilon = 1e-7: the two rules agree
    // to 2e-7 here (sqrt(0.1 + 1e-7) = 0.3162280 vs sqrt(0.1) + 1e-7 = 0.3162279), so
    // one hand trajectory checks both.
    // a = 0.9 a + 0.1 g^2; w -= 0.01 g / (sqrt(a) + 1e-7)   [or / sqrt(a + 1e-7)]
    // step 1: g = [1, 6]; a = [0.1, 3.6]; step = 0.01 * [1 / 0.3162278, 6 / 1.8973666] = [0.0316228, 0.0316228]
    //         w = [0.9683772, 1.9683772]
    // step 2: g = [0.9367545, 5.9367545]; a = [0.09 + 0.0877509, 3.24 + 3.5245053] = [0.1777509, 6.7645053]
    //         w = [0.9683772 - 0.01 * 0.9367545 / 0.4216050, 1.9683772 - 0.01 * 5.9367545 / 2.6008663]
    //           = [0.9461585, 1.9455512]
    // step 3: g = [0.8923170, 5.8911023]; a = [0.2395988, 9.5585635]
    //         w = [0.9461585 - 0.01 * 0.8923170 / 0.4894883, 1.9455512 - 0.01 * 5.8911023 / 3.0917088]
    //           = [0.9279289, 1.9264965]
    for (rule, mut opt) in [
        ("keras 3", RmsProp::new(0.01)),
        ("keras 2", RmsProp::new(0.01).keras2_epsilon()),
    ] {
        let w = trajectory(&mut opt, 3);
        assert_close(rule, &w[0], &[0.9683772, 1.9683772], 2e-6);
        assert_close(rule, &w[1], &[0.9461585, 1.9455512], 2e-6);
        assert_close(rule, &w[2], &[0.9279289, 1.9264965], 2e-6);
    }
}

/// `w` after each of `steps` steps on f(w) = sum(w * c): a constant gradient g = c.
fn constant_gradient_trajectory(
    opt: &mut dyn Optimizer<Cpu>,
    c: &[f32],
    steps: usize,
) -> Vec<Vec<f32>> {
    let w = Param::new(t(&vec![0.0; c.len()], &[c.len()]));
    let c = t(c, &[c.len()]);
    (0..steps)
        .map(|_| {
            let grads = w
                .value()
                .mul(&c)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            opt.step(&[("w".to_string(), w.clone())], &grads).unwrap();
            w.value().to_vec().unwrap()
        })
        .collect()
}

#[test]
fn rmsprop_keras3_rule_puts_epsilon_inside_the_square_root() {
    // Gradients of 1e-4 and 2e-4 make a (1e-9 .. 8e-9) small next to epsilon = 1e-7,
    // where the rules differ by about 10x. Keras 3 defaults: lr 0.001, rho 0.9.
    // a = 0.9 a + 0.1 g^2; w -= 0.001 g / sqrt(a + 1e-7); w0 = [0, 0]
    // step 1: a = 0.1 * [1e-8, 4e-8] = [1e-9, 4e-9]
    //         sqrt(a + 1e-7) = sqrt([1.01e-7, 1.04e-7]) = [3.1780497e-4, 3.2249031e-4]
    //         step = [1e-7 / 3.1780497e-4, 2e-7 / 3.2249031e-4] = [3.1465839e-4, 6.2017367e-4]
    //         w = [-3.1465839e-4, -6.2017367e-4]
    // step 2: a = 0.9 * [1e-9, 4e-9] + [1e-9, 4e-9] = [1.9e-9, 7.6e-9]
    //         sqrt(a + 1e-7) = sqrt([1.019e-7, 1.076e-7]) = [3.1921779e-4, 3.2802439e-4]
    //         step = [3.1326574e-4, 6.0971076e-4]
    //         w = [-6.2792413e-4, -1.2298844e-3]
    let w = constant_gradient_trajectory(&mut RmsProp::default(), &[1e-4, 2e-4], 2);
    assert_close(
        "keras 3 step 1",
        &w[0],
        &[-3.1465839e-4, -6.2017367e-4],
        1e-9,
    );
    assert_close(
        "keras 3 step 2",
        &w[1],
        &[-6.2792413e-4, -1.2298844e-3],
        2e-9,
    );
}

#[test]
fn rmsprop_keras2_rule_puts_epsilon_outside_the_square_root() {
    // The same problem as above with `keras2_epsilon`: w -= 0.001 g / (sqrt(a) + 1e-7).
    // step 1: a = [1e-9, 4e-9]; sqrt(a) + 1e-7 = [3.1622777e-5 + 1e-7, 6.3245553e-5 + 1e-7]
    //                                          = [3.1722777e-5, 6.3345553e-5]
    //         step = [1e-7 / 3.1722777e-5, 2e-7 / 6.3345553e-5] = [3.1523092e-3, 3.1572856e-3]
    //         w = [-3.1523092e-3, -3.1572856e-3]
    // step 2: a = [1.9e-9, 7.6e-9]; sqrt(a) + 1e-7 = [4.3588989e-5 + 1e-7, 8.7177979e-5 + 1e-7]
    //                                              = [4.3688989e-5, 8.7277979e-5]
    //         step = [2.2889062e-3, 2.2915288e-3]
    //         w = [-5.4412154e-3, -5.4488143e-3]
    let mut opt = RmsProp::default().keras2_epsilon();
    let w = constant_gradient_trajectory(&mut opt, &[1e-4, 2e-4], 2);
    assert_close(
        "keras 2 step 1",
        &w[0],
        &[-3.1523092e-3, -3.1572856e-3],
        5e-9,
    );
    assert_close(
        "keras 2 step 2",
        &w[1],
        &[-5.4412154e-3, -5.4488143e-3],
        1e-8,
    );
}

#[test]
fn rmsprop_legacy_decay() {
    let w = trajectory(&mut RmsProp::new(0.01).decay(0.5), 3);
    // lr_t = 0.01 / (1 + 0.5 * iterations) = 0.01, 0.0066667, 0.005 for iterations 0, 1, 2.
    // step 1 as without decay: w = [0.9683772, 1.9683772], a = [0.1, 3.6]
    // step 2: g = [0.9367545, 5.9367545]; a = [0.1777509, 6.7645053]
    //         w = [0.9683772 - 0.0066667 * 2.2218843, 1.9683772 - 0.0066667 * 2.2826065] = [0.9535647, 1.9531598]
    // step 3: g = [0.9071295, 5.9063197]; a = [0.09 * 1.7775089 + 0.0822884, ...] = [0.2422642, 9.5765160]
    //         w = [0.9535647 - 0.005 * 0.9071295 / 0.4922034, 1.9531598 - 0.005 * 5.9063197 / 3.0945947]
    //           = [0.9443497, 1.9436169]
    assert_close("decay 1", &w[0], &[0.9683772, 1.9683772], 2e-6);
    assert_close("decay 2", &w[1], &[0.9535647, 1.9531598], 2e-6);
    assert_close("decay 3", &w[2], &[0.9443497, 1.9436169], 2e-6);
}

#[test]
fn adam_keras_rule() {
    let w = trajectory(&mut Adam::new(0.1), 3);
    // m = 0.9 m + 0.1 g; v = 0.999 v + 0.001 g^2; lr_t = 0.1 sqrt(1 - 0.999^t) / (1 - 0.9^t)
    // w -= lr_t m / (sqrt(v) + 1e-7)
    // step 1: g = [1, 6]; m = [0.1, 0.6]; v = [0.001, 0.036]; lr_t = 0.1 * 0.0316228 / 0.1 = 0.0316228
    //         w = [1 - 0.0316228 * 0.1 / 0.0316229, 2 - 0.0316228 * 0.6 / 0.1897367] = [0.9000003, 1.9000001]
    // step 2: g = [0.8000006, 5.8000001]; m = [0.1700001, 1.12]; v = [0.0016390, 0.0696040]
    //         lr_t = 0.1 * sqrt(0.001999) / 0.19 = 0.0235317
    //         w = [0.9000003 - 0.0235317 * 0.1700001 / 0.0404846, 1.9000001 - 0.0235317 * 1.12 / 0.2638257]
    //           = [0.8011880, 1.8001028]
    // step 3: g = [0.6023759, 5.6002056]; m = [0.2132377, 1.5680206]; v = [0.0020002, 0.1008967]
    //         lr_t = 0.1 * sqrt(0.002997001) / 0.271 = 0.0202011
    //         w = [0.8011880 - 0.0202011 * 0.2132377 / 0.0447238, 1.8001028 - 0.0202011 * 1.5680206 / 0.3176424]
    //           = [0.7048720, 1.7003816]
    assert_close("adam 1", &w[0], &[0.9000003, 1.9000001], 2e-6);
    assert_close("adam 2", &w[1], &[0.8011880, 1.8001028], 3e-6);
    assert_close("adam 3", &w[2], &[0.7048720, 1.7003816], 3e-6);
    let adam = Adam::<Cpu>::default();
    assert_eq!(
        (adam.lr, adam.beta1, adam.beta2, adam.epsilon),
        (0.001, 0.9, 0.999, 1e-7)
    );
}

fn all_optimizers() -> Vec<(&'static str, Box<dyn Optimizer<Cpu>>)> {
    vec![
        ("sgd", Box::new(Sgd::new(0.1))),
        (
            "sgd momentum",
            Box::new(Sgd::new(0.1).momentum(0.9).decay(0.1)),
        ),
        (
            "nesterov",
            Box::new(Sgd::new(0.1).momentum(0.5).nesterov(true)),
        ),
        ("adam", Box::new(Adam::new(0.1))),
        ("rmsprop", Box::new(RmsProp::new(0.01).decay(0.3))),
    ]
}

/// Every optimizer, built to skip trainable parameters without a gradient.
fn lenient_optimizers() -> Vec<(&'static str, Box<dyn Optimizer<Cpu>>)> {
    vec![
        ("sgd", Box::new(Sgd::new(0.1).allow_missing_gradients())),
        (
            "sgd momentum",
            Box::new(Sgd::new(0.1).momentum(0.9).allow_missing_gradients()),
        ),
        ("adam", Box::new(Adam::new(0.1).allow_missing_gradients())),
        (
            "rmsprop",
            Box::new(RmsProp::new(0.01).allow_missing_gradients()),
        ),
    ]
}

#[test]
fn a_trainable_param_without_gradient_is_an_error_naming_it() {
    for (name, mut opt) in all_optimizers() {
        let used = Param::new(t(&[1.0, 2.0], &[2]));
        let unused = Param::new(t(&[3.0, 4.0], &[2]));
        let params: Vec<NamedParam<Cpu>> = vec![
            ("used".into(), used.clone()),
            ("dense_1.kernel".into(), unused.clone()),
        ];
        let grads = used.value().sum_all().unwrap().backward().unwrap();
        let err = opt.step(&params, &grads).unwrap_err().to_string();
        assert!(
            err.contains("dense_1.kernel") && err.contains("no gradient"),
            "{name}: {err}"
        );
        // Nothing was updated: the check runs before the first update.
        assert_eq!(
            bits(&used.value().to_vec().unwrap()),
            bits(&[1.0, 2.0]),
            "{name}"
        );
    }
}

#[test]
fn a_gradient_survives_replacing_and_refreezing_the_value() {
    // Gradients are keyed by the parameter, not by the value current at the time.
    for (name, mut opt) in all_optimizers() {
        let w = Param::new(t(&[1.0, 2.0], &[2]));
        let grads = w
            .value()
            .square()
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        w.set(t(&[1.0, 2.0], &[2]));
        w.set_trainable(false);
        w.set_trainable(true);
        let params: Vec<NamedParam<Cpu>> = vec![("w".into(), w.clone())];
        opt.step(&params, &grads).unwrap();
        assert_ne!(w.value().to_vec().unwrap(), [1.0, 2.0], "{name}");
    }
}

#[test]
fn backward_step_updates_in_place_and_returns_the_loss() {
    let w = Param::new(t(&[1.0, 2.0], &[2]));
    let params: Vec<NamedParam<Cpu>> = vec![("w".into(), w.clone())];
    let mut opt = Sgd::new(0.5);
    let loss = w.value().square().unwrap().sum_all().unwrap();
    let value = opt.backward_step(loss, &params).unwrap();
    // loss = 1 + 4; w -= 0.5 * 2w = 0.
    assert_eq!(value.to_scalar().unwrap(), 5.0);
    assert!(!value.is_tracked());
    assert_eq!(w.value().to_vec().unwrap(), [0.0, 0.0]);
}

#[test]
fn frozen_params_and_params_without_gradient_are_skipped_when_allowed() {
    for (name, mut opt) in lenient_optimizers() {
        let used = Param::new(t(&[1.0, 2.0], &[2]));
        let unused = Param::new(t(&[3.0, 4.0], &[2]));
        let frozen = Param::new(t(&[5.0, 6.0], &[2]));
        frozen.set_trainable(false);
        let params: Vec<NamedParam<Cpu>> = vec![
            ("used".into(), used.clone()),
            ("unused".into(), unused.clone()),
            ("frozen".into(), frozen.clone()),
        ];
        for _ in 0..2 {
            let loss = used
                .value()
                .mul(&frozen.value())
                .unwrap()
                .sum_all()
                .unwrap();
            let grads = loss.backward().unwrap();
            opt.step(&params, &grads).unwrap();
        }
        assert_ne!(used.value().to_vec().unwrap(), [1.0, 2.0], "{name}");
        assert_eq!(
            bits(&unused.value().to_vec().unwrap()),
            bits(&[3.0, 4.0]),
            "{name}"
        );
        assert_eq!(
            bits(&frozen.value().to_vec().unwrap()),
            bits(&[5.0, 6.0]),
            "{name}"
        );
        // No state is kept for parameters that were never updated.
        for (n, _) in opt.state().unwrap() {
            assert!(
                n == "iterations" || n.starts_with("used/"),
                "{name}: state {n}"
            );
        }
    }
}

#[test]
fn state_round_trip_resumes_exactly() {
    for ((name, mut a), (_, mut b)) in all_optimizers().into_iter().zip(all_optimizers()) {
        let wa = Param::new(t(&[1.0, 2.0], &[2]));
        for _ in 0..2 {
            quadratic_step(a.as_mut(), &wa).unwrap();
        }
        let state = a.state().unwrap();
        let wb = Param::new(wa.value().detach());
        b.load_state(state).unwrap();
        assert_eq!(b.iterations(), 2, "{name}");
        quadratic_step(a.as_mut(), &wa).unwrap();
        quadratic_step(b.as_mut(), &wb).unwrap();
        assert_eq!(
            bits(&wa.value().to_vec().unwrap()),
            bits(&wb.value().to_vec().unwrap()),
            "{name}: resumed optimizer diverged"
        );
    }
}

#[test]
fn iterations_are_exact_beyond_f32_integers() {
    let be = Cpu;
    // 2^24 * 1 + 5 = 16777221, which f32 cannot hold exactly.
    let state = vec![(
        "iterations".to_string(),
        Tensor::from_vec(&be, vec![1.0, 5.0], [2]).unwrap(),
    )];
    for (name, mut opt) in all_optimizers() {
        opt.load_state(state.clone()).unwrap();
        assert_eq!(opt.iterations(), 16_777_221, "{name}");
        let saved = opt.state().unwrap();
        assert_eq!(saved.len(), 1, "{name}");
        assert_eq!(saved[0].1.to_vec().unwrap(), [1.0, 5.0], "{name}");
    }
}

#[test]
fn bad_state_is_an_error_and_changes_nothing() {
    for (name, mut opt) in all_optimizers() {
        let w = Param::new(t(&[1.0, 2.0], &[2]));
        quadratic_step(opt.as_mut(), &w).unwrap();
        let before: Vec<(String, Vec<f32>)> = opt
            .state()
            .unwrap()
            .into_iter()
            .map(|(n, t)| (n, t.to_vec().unwrap()))
            .collect();
        let junk = vec![("w/whatever".to_string(), t(&[0.0, 0.0], &[2]))];
        let err = opt.load_state(junk).unwrap_err().to_string();
        assert!(err.contains("w/whatever"), "{name}: {err}");
        for bad in [
            vec![1.5, 0.0],
            vec![-1.0, 0.0],
            vec![0.0, f32::NAN],
            vec![3.0],
        ] {
            let n = bad.len();
            let st = vec![("iterations".to_string(), t(&bad, &[n]))];
            assert!(opt.load_state(st).is_err(), "{name}: iterations {bad:?}");
        }
        let after: Vec<(String, Vec<f32>)> = opt
            .state()
            .unwrap()
            .into_iter()
            .map(|(n, t)| (n, t.to_vec().unwrap()))
            .collect();
        assert_eq!(before, after, "{name}: a failed load changed the state");
    }
    // Adam needs both moments.
    let mut adam = Adam::<Cpu>::new(0.1);
    let half = vec![("w/m".to_string(), t(&[0.0, 0.0], &[2]))];
    assert!(adam.load_state(half).unwrap_err().to_string().contains("w"));
}

#[test]
fn mis_shaped_state_is_an_error_at_the_next_step() {
    let slots = [("sgd", "w/momentum"), ("rmsprop", "w/rms"), ("adam", "")];
    let mut opts: Vec<Box<dyn Optimizer<Cpu>>> = vec![
        Box::new(Sgd::new(0.1).momentum(0.9)),
        Box::new(RmsProp::new(0.1)),
        Box::new(Adam::new(0.1)),
    ];
    for ((name, slot), opt) in slots.iter().zip(opts.iter_mut()) {
        let state = if slot.is_empty() {
            vec![
                ("w/m".to_string(), t(&[0.0], &[1])),
                ("w/v".to_string(), t(&[0.0], &[1])),
            ]
        } else {
            vec![(slot.to_string(), t(&[0.0], &[1]))]
        };
        opt.load_state(state).unwrap();
        let w = Param::new(t(&[1.0, 2.0], &[2]));
        // A [1] slot would silently broadcast against [2]; it must be refused instead.
        assert!(quadratic_step(opt.as_mut(), &w).is_err(), "{name}");
        assert_eq!(w.value().to_vec().unwrap(), [1.0, 2.0], "{name}");
    }
}

#[test]
fn adadelta_by_hand() {
    let opt = nn::Adadelta::<Cpu>::default();
    assert_eq!((opt.lr, opt.rho, opt.epsilon), (0.001, 0.95, 1e-7));
    // lr 1 (Keras 2's default), rho 0.95, eps 1e-7; rms(x) = sqrt(x + eps):
    // a = 0.95 a + 0.05 g^2; d = -rms(D) / rms(a) g; D = 0.95 D + 0.05 d^2; w += d.
    // step 1: g = [1, 6]; a = [0.05, 1.8];
    //         d = -sqrt(1e-7) [1 / sqrt(0.0500001), 6 / sqrt(1.8000001)]
    //           = -3.1622777e-4 [4.4721337, 4.4721358] = [-1.4142121e-3, -1.4142135e-3]
    //         D = 0.05 d^2 = [9.99998e-8, 9.99999e-8]; w = [0.9985858, 1.9985858]
    // step 2: g = [0.9971716, 5.9971716]; a = [0.0972176, 3.5083033];
    //         d = -[sqrt(1.999998e-7) 0.9971716 / sqrt(0.0972177), sqrt(1.999999e-7) 5.9971716 / sqrt(3.5083034)]
    //           = [-1.4302505e-3, -1.4319007e-3]; w = [0.9971555, 1.9971539]
    // step 3: g = [0.9943111, 5.9943078]; a = [0.1417894, 5.1294745];
    //         d = [-1.4397382e-3, -1.4436385e-3]; w = [0.9957158, 1.9957102]
    let mut opt = nn::Adadelta::new(1.0);
    let w = trajectory(&mut opt, 3);
    assert_close("adadelta 1", &w[0], &[0.9985858, 1.9985858], 2e-7);
    assert_close("adadelta 2", &w[1], &[0.9971555, 1.9971539], 2e-7);
    assert_close("adadelta 3", &w[2], &[0.9957158, 1.9957102], 3e-7);
    // Its state round-trips: a copy continues exactly as the original.
    let w2 = Param::new(t(&w[2], &[2]));
    let mut copy = nn::Adadelta::new(1.0);
    copy.load_state(opt.state().unwrap()).unwrap();
    assert_eq!(copy.iterations(), 3);
    let w1 = Param::new(t(&w[2], &[2]));
    quadratic_step(&mut opt, &w1).unwrap();
    quadratic_step(&mut copy, &w2).unwrap();
    assert_eq!(
        bits(&w1.value().to_vec().unwrap()),
        bits(&w2.value().to_vec().unwrap())
    );
    // A state missing one accumulator is refused.
    let partial: Vec<_> = opt
        .state()
        .unwrap()
        .into_iter()
        .filter(|(n, _)| !n.ends_with("/accum_delta"))
        .collect();
    assert!(nn::Adadelta::<Cpu>::new(1.0).load_state(partial).is_err());
}
