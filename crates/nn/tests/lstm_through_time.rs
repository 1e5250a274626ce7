//! Backpropagation through time: finite-difference gradient checks of stacked LSTMs
//! over several steps, on sizes that are neither equal nor powers of two (see
//! `common::gradcheck` for the tolerance argument).

mod common;

use backend_cpu::Cpu;
use common::{check_layer, gradcheck, t, values};
use nn::{Lstm, LstmState, Mode, Module, Params, Seeds, Sequential};

/// LSTM(3 -> 5) -> LSTM(5 -> 4), batch 2, with non-zero biases (so that every gate
/// works away from its initial point).
fn stack(seed: u64, last_returns_sequences: bool) -> Sequential<Cpu> {
    let mut seeds = Seeds::new(seed);
    let first = Lstm::new(&Cpu, 3, 5, &mut seeds)
        .unwrap()
        .return_sequences(true);
    let second = Lstm::new(&Cpu, 5, 4, &mut seeds)
        .unwrap()
        .return_sequences(last_returns_sequences);
    first.bias.set(t(&values(20, seed + 1), &[20]));
    second.bias.set(t(&values(16, seed + 2), &[16]));
    Sequential::new().add(first).add(second)
}

#[test]
fn two_layer_lstm_over_five_steps_returning_sequences() {
    let model = stack(21, true);
    let x = t(&values(2 * 5 * 3, 23), &[2, 5, 3]);
    assert_eq!(model.forward(&x, Mode::Train).unwrap().dims(), &[2, 5, 4]);
    // Every weight of both layers and every input of every step gets a gradient
    // that the central differences confirm.
    assert_eq!(model.params().len(), 6);
    check_layer(
        "2-layer lstm, 5 steps, sequences",
        &model,
        values(2 * 5 * 3, 23),
        &[2, 5, 3],
        Mode::Train,
    );
}

#[test]
fn two_layer_lstm_over_five_steps_to_the_last_output() {
    // The loss sees only the last step: the gradient of the first inputs flows back
    // through every step of both layers.
    let model = stack(31, false);
    check_layer(
        "2-layer lstm, 5 steps, last output",
        &model,
        values(2 * 5 * 3, 33),
        &[2, 5, 3],
        Mode::Train,
    );
}

#[test]
fn lstm_over_five_steps_from_a_given_state() {
    let mut seeds = Seeds::new(41);
    let layer = Lstm::new(&Cpu, 3, 5, &mut seeds)
        .unwrap()
        .return_sequences(true);
    layer.bias.set(t(&values(20, 42), &[20]));
    let inputs = vec![
        (values(2 * 5 * 3, 43), vec![2, 5, 3]),
        (values(2 * 5, 44), vec![2, 5]),
        (values(2 * 5, 45), vec![2, 5]),
    ];
    // The output sequence and the final cell state both feed the loss.
    gradcheck("lstm state through time", &layer.params(), &inputs, |x| {
        let init = LstmState {
            h: x[1].clone(),
            c: x[2].clone(),
        };
        let (y, state) = layer.forward_with_state(&x[0], Some(&init), Mode::Train)?;
        tensor::Tensor::concat(&[y.reshape([2, 25])?, state.c], 1)
    });
}
