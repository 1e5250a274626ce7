// Softmax / log-softmax over the last axis of a rows x cols matrix, stable:
// y = exp(x - max) / sum, or (x - max) - log(sum).

struct SoftmaxParams {
    rows: u32,
    cols: u32,
    // 1 for log-softmax.
    log_out: u32,
}

@group(0) @binding(0) var<uniform> sm: SoftmaxParams;
@group(0) @binding(1) var<storage, read> sm_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> sm_y: array<f32>;

fn softmax_value(v: f32, m: f32, s: f32) -> f32 {
    if (sm.log_out != 0u) {
        return (v - m) - log(s);
    }
    return exp(v - m) / s;
}

// One invocation per row: for short rows.
@compute @workgroup_size(WG)
fn softmax_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = flat_index(gid, nwg);
    if (row >= sm.rows) {
        return;
    }
    let base = row * sm.cols;
    var m = sm_x[base];
    for (var c = 1u; c < sm.cols; c++) {
        m = max(m, sm_x[base + c]);
    }
    var s = 0.0;
    for (var c = 0u; c < sm.cols; c++) {
        s += exp(sm_x[base + c] - m);
    }
    for (var c = 0u; c < sm.cols; c++) {
        sm_y[base + c] = softmax_value(sm_x[base + c], m, s);
    }
}

var<workgroup> red: array<f32, WG>;

// One workgroup per row: a strided pass per invocation, then a tree reduction in
// workgroup memory, for the max and then for the sum. Barriers stay in uniform
// control flow: inactive workgroups (past the last row) still run them.
@compute @workgroup_size(WG)
fn softmax_group(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, nwg);
    let in_range = row < sm.rows;
    let base = row * sm.cols;

    var m = 0.0;
    if (in_range) {
        m = sm_x[base];
        for (var c = lid; c < sm.cols; c += WG) {
            m = max(m, sm_x[base + c]);
        }
    }
    red[lid] = m;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            red[lid] = max(red[lid], red[lid + s]);
        }
        workgroupBarrier();
    }
    let row_max = red[0];
    workgroupBarrier();

    var acc = 0.0;
    if (in_range) {
        for (var c = lid; c < sm.cols; c += WG) {
            acc += exp(sm_x[base + c] - row_max);
        }
    }
    red[lid] = acc;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            red[lid] = red[lid] + red[lid + s];
        }
        workgroupBarrier();
    }
    let total = red[0];

    if (in_range) {
        for (var c = lid; c < sm.cols; c += WG) {
            sm_y[base + c] = softmax_value(sm_x[base + c], row_max, total);
        }
    }
}
