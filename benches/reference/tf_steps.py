#!/usr/bin/env python3
"""TensorFlow twins of the project's training-step benchmarks (benches/benches/training.rs
and sequence.rs): the same models, shapes, batch sizes and optimizers, one training step
(forward, backward, optimizer update) compiled with tf.function, timed the way criterion
times ours (median of many repetitions after a warm-up).

Run by `cargo xtask bench --reference tensorflow` (with the Python in $BENCH_PYTHON, or
python3); never needed by the tests. Prints one JSON object:
{"steps": {"train_step/gan/batch32": seconds, ...}, "note": "..."}

Threads: 2 intra-op and 1 inter-op by default (this project's reference machine has 2
cores); BENCH_TF_THREADS overrides. Inputs are random, as in the Rust benchmarks.
"""

import gzip
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
try:
    import numpy as np
    import tensorflow as tf
except ImportError as e:  # xtask prints the last line of stderr
    print(f"cannot import TensorFlow: {e}", file=sys.stderr)
    sys.exit(2)

THREADS = int(os.environ.get("BENCH_TF_THREADS", "2"))
tf.config.threading.set_intra_op_parallelism_threads(THREADS)
tf.config.threading.set_inter_op_parallelism_threads(1)
keras = tf.keras
L = keras.layers
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUDGET = float(os.environ.get("BENCH_TF_SECONDS", "3"))


def timed(step, reps_min=10):
    """Median seconds of `step()` after 3 warm-up calls (tracing and the first runs)."""
    for _ in range(3):
        step()
    times = []
    started = time.perf_counter()
    while len(times) < reps_min or (time.perf_counter() - started < BUDGET and len(times) < 200):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def supervised(model, opt, x_shape, batch, classes):
    """One `fit` step: sparse softmax cross-entropy on logits, as train::train_step."""
    x = tf.constant(np.random.uniform(0, 1, (batch, *x_shape)).astype("float32"))
    y = tf.constant(np.arange(batch) % classes)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model(x[:1])

    @tf.function(jit_compile=False)
    def step():
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            if len(logits.shape) == 3:
                loss = loss_fn(tf.reshape(y_seq, [-1]), tf.reshape(logits, [-1, logits.shape[-1]]))
            else:
                loss = loss_fn(y, logits)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    y_seq = tf.constant(np.arange(batch * 4).reshape(batch, 4) % classes)
    return timed(lambda: step().numpy())


def mnist_cnn():
    m = keras.Sequential([
        L.Input((28, 28, 1)),
        L.Conv2D(64, 3, padding="same", activation="relu"),
        L.MaxPooling2D(2, padding="same"),
        L.Conv2D(128, 3, padding="same", activation="relu"),
        L.MaxPooling2D(2, padding="same"),
        L.Flatten(),
        L.Dense(1024, activation="relu"),
        L.Dropout(0.5),
        L.Dense(10),
    ])
    return supervised(m, keras.optimizers.Adam(1e-4), (28, 28, 1), 50, 10)


def cifar10_cnn():
    m = keras.Sequential([
        L.Input((32, 32, 3)),
        L.Conv2D(32, 3, padding="same", activation="relu"),
        L.Conv2D(32, 3, activation="relu"),
        L.MaxPooling2D(2),
        L.Dropout(0.25),
        L.Conv2D(64, 3, padding="same", activation="relu"),
        L.Conv2D(64, 3, activation="relu"),
        L.MaxPooling2D(2),
        L.Dropout(0.25),
        L.Flatten(),
        L.Dense(512, activation="relu"),
        L.Dropout(0.5),
        L.Dense(10),
    ])
    return supervised(m, keras.optimizers.RMSprop(1e-4), (32, 32, 3), 32, 10)


def transfer_cnn():
    m = keras.Sequential([
        L.Input((28, 28, 1)),
        L.Conv2D(32, 3, activation="relu"),
        L.Conv2D(32, 3, activation="relu"),
        L.MaxPooling2D(2),
        L.Dropout(0.25),
        L.Flatten(),
        L.Dense(128, activation="relu"),
        L.Dropout(0.5),
        L.Dense(5),
    ])
    return supervised(m, keras.optimizers.Adadelta(1.0), (28, 28, 1), 128, 5)


class Antirectifier(L.Layer):
    def call(self, x):
        x = x - tf.reduce_mean(x, axis=-1, keepdims=True)
        x = tf.math.l2_normalize(x, axis=-1)
        return tf.concat([tf.nn.relu(x), tf.nn.relu(-x)], axis=-1)


def antirectifier():
    m = keras.Sequential([
        L.Input((784,)),
        L.Dense(256), Antirectifier(), L.Dropout(0.1),
        L.Dense(256), Antirectifier(), L.Dropout(0.1),
        L.Dense(10),
    ])
    return supervised(m, keras.optimizers.RMSprop(1e-3), (784,), 128, 10)


def addition_rnn():
    m = keras.Sequential([
        L.Input((7, 12)),
        L.LSTM(128),
        L.RepeatVector(4),
        L.LSTM(128, return_sequences=True),
        L.TimeDistributed(L.Dense(12)),
    ])
    return supervised(m, keras.optimizers.Adam(1e-3), (7, 12), 128, 12)


def text_lstm():
    path = os.path.join(ROOT, "crates/datasets/data/python-docs-topics.txt.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        vocab = len(set(f.read()))
    m = keras.Sequential([L.Input((40, vocab)), L.LSTM(128), L.Dense(vocab)])
    return supervised(m, keras.optimizers.RMSprop(0.01), (40, vocab), 128, vocab)


def gan():
    """The MLP GAN iteration: D on real (1), D on fake (0), G through frozen D (1)."""
    def gen():
        return keras.Sequential([
            L.Input((100,)),
            L.Dense(256), L.LeakyReLU(0.2), L.BatchNormalization(momentum=0.8),
            L.Dense(512), L.LeakyReLU(0.2), L.BatchNormalization(momentum=0.8),
            L.Dense(1024), L.LeakyReLU(0.2), L.BatchNormalization(momentum=0.8),
            L.Dense(784, activation="tanh"),
        ])
    g = gen()
    d = keras.Sequential([
        L.Input((784,)),
        L.Dense(512), L.LeakyReLU(0.2),
        L.Dense(256), L.LeakyReLU(0.2),
        L.Dense(1),
    ])
    opt_d, opt_g = keras.optimizers.Adam(2e-4, 0.5), keras.optimizers.Adam(2e-4, 0.5)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    real = tf.constant(np.random.uniform(-1, 1, (32, 784)).astype("float32"))
    ones, zeros = tf.ones((32, 1)), tf.zeros((32, 1))

    @tf.function
    def step():
        z = tf.random.normal((32, 100))
        with tf.GradientTape() as t:
            loss = bce(ones, d(real, training=True))
        opt_d.apply_gradients(zip(t.gradient(loss, d.trainable_variables), d.trainable_variables))
        fake = g(z, training=False)
        with tf.GradientTape() as t:
            loss = bce(zeros, d(fake, training=True))
        opt_d.apply_gradients(zip(t.gradient(loss, d.trainable_variables), d.trainable_variables))
        z = tf.random.normal((32, 100))
        with tf.GradientTape() as t:
            loss = bce(ones, d(g(z, training=True), training=False))
        opt_g.apply_gradients(zip(t.gradient(loss, g.trainable_variables), g.trainable_variables))
        return loss

    return timed(lambda: step().numpy())


def acgan():
    """The ACGAN iteration: D on 32 real + 32 generated, then G through frozen D on 64."""
    latent = L.Input((100,))
    label = L.Input((1,), dtype="int32")
    emb = L.Flatten()(L.Embedding(10, 100)(label))
    h = L.Multiply()([latent, emb])
    h = L.Dense(1024, activation="relu")(h)
    h = L.Dense(7 * 7 * 128, activation="relu")(h)
    h = L.Reshape((7, 7, 128))(h)
    h = L.UpSampling2D()(h)
    h = L.BatchNormalization()(L.Conv2D(256, 5, padding="same", activation="relu")(h))
    h = L.UpSampling2D()(h)
    h = L.BatchNormalization()(L.Conv2D(128, 5, padding="same", activation="relu")(h))
    out = L.Conv2D(1, 2, padding="same", activation="tanh")(h)
    g = keras.Model([latent, label], out)
    img = L.Input((28, 28, 1))
    h = img
    for filters, stride in [(32, 2), (64, 1), (128, 2), (256, 1)]:
        h = L.Dropout(0.3)(L.LeakyReLU(0.3)(L.Conv2D(filters, 3, strides=stride, padding="same")(h)))
    h = L.Flatten()(h)
    d = keras.Model(img, [L.Dense(1)(h), L.Dense(10)(h)])
    opt_d = keras.optimizers.Adam(2e-4, 0.5)
    opt_g = keras.optimizers.Adam(2e-4, 0.5)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    sce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    real = tf.constant(np.random.uniform(-1, 1, (32, 28, 28, 1)).astype("float32"))
    labels = tf.constant(np.arange(32) % 10, dtype=tf.int32)

    @tf.function
    def step():
        sampled = tf.random.uniform((32, 1), 0, 10, dtype=tf.int32)
        fake = g([tf.random.uniform((32, 100), -1, 1), sampled], training=False)
        x = tf.concat([real, fake], 0)
        target = tf.concat([tf.fill((32, 1), 0.75), tf.fill((32, 1), 0.25)], 0)
        aux = tf.concat([labels, tf.reshape(sampled, [-1])], 0)
        with tf.GradientTape() as t:
            f, c = d(x, training=True)
            loss = bce(target, f) + sce(aux, c)
        opt_d.apply_gradients(zip(t.gradient(loss, d.trainable_variables), d.trainable_variables))
        sampled = tf.random.uniform((64, 1), 0, 10, dtype=tf.int32)
        z = tf.random.uniform((64, 100), -1, 1)
        with tf.GradientTape() as t:
            f, c = d(g([z, sampled], training=True), training=False)
            loss = bce(tf.fill((64, 1), 0.75), f) + sce(tf.reshape(sampled, [-1]), c)
        opt_g.apply_gradients(zip(t.gradient(loss, g.trainable_variables), g.trainable_variables))
        return loss

    return timed(lambda: step().numpy(), reps_min=5)


TWINS = {
    "train_step/gan/batch32": gan,
    "train_step/acgan/batch32": acgan,
    "train_step/mnist_cnn/batch50": mnist_cnn,
    "train_step/cifar10_cnn/batch32": cifar10_cnn,
    "train_step/transfer_cnn/batch128": transfer_cnn,
    "train_step/antirectifier/batch128": antirectifier,
    "train_step/addition_rnn/batch128": addition_rnn,
    "train_step/text_lstm/batch128": text_lstm,
}


def main():
    only = sys.argv[1:]
    steps, failed = {}, []
    for name, twin in TWINS.items():
        if only and not any(o in name for o in only):
            continue
        print(f"timing {name} ...", file=sys.stderr)
        try:
            steps[name] = twin()
        except Exception as e:  # one broken twin must not hide the others
            print(f"  failed: {e}", file=sys.stderr)
            failed.append(name)
            continue
        print(f"  {steps[name] * 1e3:.2f} ms", file=sys.stderr)
    note = (f"TensorFlow {tf.__version__} on the CPU, {THREADS} intra-op threads, the twins of "
            f"benches/reference/tf_steps.py (tf.function, median of repetitions)")
    if failed:
        note += "; failed: " + ", ".join(failed)
    print(json.dumps({"steps": steps, "note": note}))


if __name__ == "__main__":
    main()
