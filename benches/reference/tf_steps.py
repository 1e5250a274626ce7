#!/usr/bin/env python3
"""TensorFlow twins of the project's training-step benchmarks (benches/benches/training.rs
and sequence.rs): the same models, shapes, batch sizes and optimizers, one training step
(forward, backward, optimizer update) compiled with tf.function, timed the way criterion
times ours (median of many repetitions after a warm-up); and of the op benchmarks
(benches/benches/ops.rs: matmul, conv2d, pool2d, the LSTM step), each one TensorFlow op.

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


def op_twins():
    """TensorFlow's kernels for the op benchmarks of benches/benches/ops.rs, keyed by
    the same `group/case` ids: each a tf.function of the one op (oneDNN on this CPU)."""
    rng = np.random.default_rng(0)

    def rand(*shape):
        return tf.constant(rng.uniform(-1, 1, shape).astype("float32"))

    def run(f, *args):
        fn = tf.function(f)
        return lambda: timed(lambda: fn(*args))

    twins = {}
    for m, k, n in [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024),
                    (50, 6272, 1024), (128, 140, 512), (32, 1024, 784)]:
        twins[f"matmul/{m}x{k}x{n}"] = run(tf.linalg.matmul, rand(m, k), rand(k, n))
    for name, n, hw, c, o, k, stride, padding in CONV_CASES:
        x, w = rand(n, hw, hw, c), rand(k, k, c, o)
        y = tf.nn.conv2d(x, w, stride, padding)
        dy = rand(*y.shape)
        strides = [1, stride, stride, 1]
        twins[f"conv2d/{name}/forward"] = run(
            lambda x, w, s=stride, p=padding: tf.nn.conv2d(x, w, s, p), x, w)
        x_sizes = tf.constant(list(x.shape), tf.int32)
        w_sizes = tf.constant(list(w.shape), tf.int32)
        twins[f"conv2d/{name}/backward_input"] = run(
            lambda sizes, w, dy, s=strides, p=padding: tf.raw_ops.Conv2DBackpropInput(
                input_sizes=sizes, filter=w, out_backprop=dy, strides=s, padding=p),
            x_sizes, w, dy)
        twins[f"conv2d/{name}/backward_filter"] = run(
            lambda x, sizes, dy, s=strides, p=padding: tf.raw_ops.Conv2DBackpropFilter(
                input=x, filter_sizes=sizes, out_backprop=dy, strides=s, padding=p),
            x, w_sizes, dy)
    # mnist_cnn's first pool: 2x2 stride 2 over 50x28x28x64 (SAME = VALID at this size).
    x = rand(50, 28, 28, 64)
    y = tf.nn.max_pool2d(x, 2, 2, "SAME")
    dy = rand(*y.shape)
    case = "pool2d/max/50x28x28x64_2x2"
    twins[f"{case}/forward"] = run(lambda x: tf.nn.max_pool2d(x, 2, 2, "SAME"), x)
    twins[f"{case}/backward"] = run(
        lambda x, y, dy: tf.raw_ops.MaxPoolGrad(orig_input=x, orig_output=y, grad=dy,
                                                ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],
                                                padding="SAME"), x, y, dy)
    case = "pool2d/avg/50x28x28x64_2x2"
    twins[f"{case}/forward"] = run(lambda x: tf.nn.avg_pool2d(x, 2, 2, "SAME"), x)
    twins[f"{case}/backward"] = run(
        lambda shape, dy: tf.raw_ops.AvgPoolGrad(orig_input_shape=shape, grad=dy,
                                                 ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],
                                                 padding="SAME"),
        tf.constant([50, 28, 28, 64], tf.int32), dy)
    u = rand(32, 14, 14, 256)
    twins["pool2d/upsample_nearest/32x14x14x256_2x/forward"] = run(
        lambda u: L.UpSampling2D()(u), u)

    # One LSTM time step, batch 128, 12 inputs, 128 units, forward and backward
    # (gates = x K + h R + b, Keras' cell with the forget bias in b; gradients of x, h,
    # c, K, R, b for given gradients of the new h and c).
    n, d, u_ = 128, 12, 128
    xs, hs, cs = rand(n, d), rand(n, u_), rand(n, u_)
    kern, rec, bias = rand(d, 4 * u_), rand(u_, 4 * u_), rand(4 * u_)
    dh, dc = rand(n, u_), rand(n, u_)

    def lstm_step(x, h, c, kern, rec, bias, dh, dc):
        with tf.GradientTape() as t:
            t.watch([x, h, c, kern, rec, bias])
            z = tf.matmul(x, kern) + tf.matmul(h, rec) + bias
            i, f, g, o = tf.split(z, 4, axis=1)
            c2 = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            h2 = tf.sigmoid(o) * tf.tanh(c2)
        return t.gradient([h2, c2], [x, h, c, kern, rec, bias], output_gradients=[dh, dc])

    twins["lstm_step/batch128_in12_hidden128/forward_backward"] = run(
        lstm_step, xs, hs, cs, kern, rec, bias, dh, dc)
    return twins


# The convolutions of benches/benches/ops.rs (CONVS): name, n, hw, c, o, k, stride, padding.
CONV_CASES = [
    ("mnist_cnn_conv1_50x28x28x1_k3x64", 50, 28, 1, 64, 3, 1, "SAME"),
    ("mnist_cnn_conv2_50x14x14x64_k3x128", 50, 14, 64, 128, 3, 1, "SAME"),
    ("conv_50x28x28x64_k3x128", 50, 28, 64, 128, 3, 1, "SAME"),
    ("cifar10_conv1_32x32x32x3_k3x32", 32, 32, 3, 32, 3, 1, "SAME"),
    ("cifar10_conv2_32x32x32x32_k3x32_valid", 32, 32, 32, 32, 3, 1, "VALID"),
    ("cifar10_conv3_32x16x16x32_k3x64", 32, 16, 32, 64, 3, 1, "SAME"),
    ("cifar10_conv4_32x15x15x64_k3x64_valid", 32, 15, 64, 64, 3, 1, "VALID"),
    ("acgan_d_conv3_64x14x14x64_k3x128_s2", 64, 14, 64, 128, 3, 2, "SAME"),
    ("acgan_g_conv2_32x28x28x256_k5x128", 32, 28, 256, 128, 5, 1, "SAME"),
    ("transfer_cnn_conv1_128x28x28x1_k3x32_valid", 128, 28, 1, 32, 3, 1, "VALID"),
    ("transfer_cnn_conv2_128x26x26x32_k3x32_valid", 128, 26, 32, 32, 3, 1, "VALID"),
]


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
    twins = dict(TWINS)
    twins.update(op_twins())
    for name, twin in twins.items():
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
