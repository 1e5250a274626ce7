// Fused LSTM cell step (TF BasicLSTMCell), gate order i, j, f, o.
//
// gates is [n, 4h] (pre-activations), c_prev [n, h]; one invocation per (row, unit):
//   c = c_prev * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)
//   h = tanh(c) * sigmoid(o)

struct LstmParams {
    len: u32,
    hidden: u32,
    forget_bias: f32,
}

@group(0) @binding(0) var<uniform> lp: LstmParams;
@group(0) @binding(1) var<storage, read> lstm_gates_in: array<f32>;
@group(0) @binding(2) var<storage, read> lstm_c_prev: array<f32>;
@group(0) @binding(3) var<storage, read_write> lstm_c: array<f32>;
@group(0) @binding(4) var<storage, read_write> lstm_h: array<f32>;

// Backward reads the incoming gradients at 3 and 4 and writes 5 and 6.
@group(0) @binding(3) var<storage, read> lstm_d_c: array<f32>;
@group(0) @binding(4) var<storage, read> lstm_d_h: array<f32>;
@group(0) @binding(5) var<storage, read_write> lstm_d_gates: array<f32>;
@group(0) @binding(6) var<storage, read_write> lstm_d_c_prev: array<f32>;

// Written so that neither branch overflows exp.
fn sigmoid(x: f32) -> f32 {
    if (x >= 0.0) {
        return 1.0 / (1.0 + exp(-x));
    }
    let e = exp(x);
    return e / (1.0 + e);
}

// See elementwise.wgsl: keeps exp-based tanh implementations away from inf / inf.
fn tanh_safe(x: f32) -> f32 {
    return tanh(clamp(x, -15.0, 15.0));
}

// Indices of the four gates of unit `i` (= row * hidden + unit) in [n, 4h].
fn gate_base(i: u32) -> u32 {
    let row = i / lp.hidden;
    let unit = i % lp.hidden;
    return row * 4u * lp.hidden + unit;
}

@compute @workgroup_size(WG)
fn lstm_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= lp.len) {
        return;
    }
    let g = gate_base(i);
    let hs = lp.hidden;
    let gi = sigmoid(lstm_gates_in[g]);
    let gj = tanh_safe(lstm_gates_in[g + hs]);
    let gf = sigmoid(lstm_gates_in[g + 2u * hs] + lp.forget_bias);
    let go = sigmoid(lstm_gates_in[g + 3u * hs]);
    let c = lstm_c_prev[i] * gf + gi * gj;
    lstm_c[i] = c;
    lstm_h[i] = tanh_safe(c) * go;
}

@compute @workgroup_size(WG)
fn lstm_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= lp.len) {
        return;
    }
    let g = gate_base(i);
    let hs = lp.hidden;
    let gi = sigmoid(lstm_gates_in[g]);
    let gj = tanh_safe(lstm_gates_in[g + hs]);
    let gf = sigmoid(lstm_gates_in[g + 2u * hs] + lp.forget_bias);
    let go = sigmoid(lstm_gates_in[g + 3u * hs]);
    let c_prev = lstm_c_prev[i];
    let c = c_prev * gf + gi * gj;
    let tc = tanh_safe(c);
    let dh = lstm_d_h[i];
    // Total gradient reaching c: directly, and through h = tanh(c) * o.
    let dc = lstm_d_c[i] + dh * go * (1.0 - tc * tc);
    lstm_d_gates[g] = dc * gj * gi * (1.0 - gi);
    lstm_d_gates[g + hs] = dc * gi * (1.0 - gj * gj);
    lstm_d_gates[g + 2u * hs] = dc * c_prev * gf * (1.0 - gf);
    lstm_d_gates[g + 3u * hs] = dh * tc * go * (1.0 - go);
    lstm_d_c_prev[i] = dc * gf;
}
