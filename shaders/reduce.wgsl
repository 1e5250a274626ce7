// Reductions (sum / max / min over any set of axes) and argmax.
//
// The host splits the input's dims into "kept" and "reduced" groups (merging
// neighbours), each with its strides into x. Output element o sits at
// decode(o, kept) in x; its reduced elements at decode(r, reduced), r < red_len,
// visited in increasing flat order.

struct ReduceParams {
    kept_dims: array<vec4<u32>, 2>,
    kept_strides: array<vec4<u32>, 2>,
    red_dims: array<vec4<u32>, 2>,
    red_strides: array<vec4<u32>, 2>,
    n_out: u32,
    kept_rank: u32,
    // At least 1 (the host passes a single dim of 1 when nothing is reduced).
    red_rank: u32,
    red_len: u32,
    // 0 sum, 1 max, 2 min.
    op: u32,
}

@group(0) @binding(0) var<uniform> rd: ReduceParams;
@group(0) @binding(1) var<storage, read> rd_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> rd_y: array<f32>;

fn kept_offset(o: u32) -> u32 {
    var rem = o;
    var off = 0u;
    for (var d = i32(rd.kept_rank) - 1; d >= 0; d--) {
        let du = u32(d);
        let n = rd.kept_dims[du / 4u][du % 4u];
        off += (rem % n) * rd.kept_strides[du / 4u][du % 4u];
        rem = rem / n;
    }
    return off;
}

// Offset of reduced element r, decoding only the dims before `last` (exclusive).
fn reduced_offset(r: u32, last: u32) -> u32 {
    var rem = r;
    var off = 0u;
    for (var d = i32(last) - 1; d >= 0; d--) {
        let du = u32(d);
        let n = rd.red_dims[du / 4u][du % 4u];
        off += (rem % n) * rd.red_strides[du / 4u][du % 4u];
        rem = rem / n;
    }
    return off;
}

fn combine(op: u32, acc: f32, v: f32) -> f32 {
    switch op {
        case 1u: { return select(acc, v, v > acc); }
        case 2u: { return select(acc, v, v < acc); }
        default: { return acc + v; }
    }
}

// One invocation per output element: for many outputs or short reductions.
@compute @workgroup_size(WG)
fn reduce_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = flat_index(gid, nwg);
    if (o >= rd.n_out) {
        return;
    }
    let base = kept_offset(o);
    // max / min start from the first element (they are idempotent); sum from 0.
    var acc = select(0.0, rd_x[base], rd.op != 0u);
    let last = rd.red_rank - 1u;
    let inner_n = rd.red_dims[last / 4u][last % 4u];
    let inner_s = rd.red_strides[last / 4u][last % 4u];
    let outer_n = rd.red_len / inner_n;
    for (var q = 0u; q < outer_n; q++) {
        let off = base + reduced_offset(q, last);
        for (var t = 0u; t < inner_n; t++) {
            acc = combine(rd.op, acc, rd_x[off + t * inner_s]);
        }
    }
    rd_y[o] = acc;
}

var<workgroup> partial: array<f32, WG>;

// One workgroup per output element: for long reductions into few outputs.
// Every invocation reaches both barriers (no early return).
@compute @workgroup_size(WG)
fn reduce_group(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let o = flat_group(wid, nwg);
    let in_range = o < rd.n_out;
    var acc = 0.0;
    if (in_range) {
        let base = kept_offset(o);
        acc = select(0.0, rd_x[base], rd.op != 0u);
        for (var r = lid; r < rd.red_len; r += WG) {
            acc = combine(rd.op, acc, rd_x[base + reduced_offset(r, rd.red_rank)]);
        }
    }
    partial[lid] = acc;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            partial[lid] = combine(rd.op, partial[lid], partial[lid + s]);
        }
        workgroupBarrier();
    }
    if (in_range && lid == 0u) {
        rd_y[o] = partial[0];
    }
}

// ---------------------------------------------------------------- argmax

// x is [outer, axis_len, inner]; output [outer, inner] holds the index (as f32)
// of the first largest element along the axis.
struct ArgmaxParams {
    len: u32,
    axis_len: u32,
    inner: u32,
}

@group(0) @binding(0) var<uniform> am: ArgmaxParams;
@group(0) @binding(1) var<storage, read> am_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> am_y: array<f32>;

@compute @workgroup_size(WG)
fn argmax(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= am.len) {
        return;
    }
    let o = i / am.inner;
    let t = i % am.inner;
    let base = o * am.axis_len * am.inner + t;
    var best = am_x[base];
    var best_i = 0u;
    for (var a = 1u; a < am.axis_len; a++) {
        let v = am_x[base + a * am.inner];
        if (v > best) {
            best = v;
            best_i = a;
        }
    }
    am_y[i] = f32(best_i);
}
