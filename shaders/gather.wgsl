// Gather kernels: index_select and its backward index_add.

// ---------------------------------------------------------------- index_select / index_add

// x is [outer, axis_len, inner]; the picked tensor is [outer, n_idx, inner].
struct IndexParams {
    len: u32,
    outer: u32,
    axis_len: u32,
    inner: u32,
    n_idx: u32,
    // index_add: where the positions start in `ia_csr` (after axis_len + 1 row starts).
    pos_base: u32,
}

@group(0) @binding(0) var<uniform> is_p: IndexParams;
@group(0) @binding(1) var<storage, read> is_x: array<f32>;
@group(0) @binding(2) var<storage, read> is_idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> is_y: array<f32>;

@compute @workgroup_size(WG)
fn index_select(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= is_p.len) {
        return;
    }
    let t = i % is_p.inner;
    let r = i / is_p.inner;
    let j = r % is_p.n_idx;
    let o = r / is_p.n_idx;
    is_y[i] = is_x[(o * is_p.axis_len + is_idx[j]) * is_p.inner + t];
}

// The host inverts the index list into CSR form: for each row a of the output,
// ia_csr[a] .. ia_csr[a + 1] delimit the positions j (ascending) with
// indices[j] == a, stored from ia_csr[pos_base]. Each output element then sums
// its own rows of dy, in the order a sequential scatter would: no atomics.
@group(0) @binding(0) var<uniform> ia_p: IndexParams;
@group(0) @binding(1) var<storage, read> ia_dy: array<f32>;
@group(0) @binding(2) var<storage, read> ia_csr: array<u32>;
@group(0) @binding(3) var<storage, read_write> ia_y: array<f32>;

@compute @workgroup_size(WG)
fn index_add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= ia_p.len) {
        return;
    }
    let t = i % ia_p.inner;
    let r = i / ia_p.inner;
    let a = r % ia_p.axis_len;
    let o = r / ia_p.axis_len;
    var acc = 0.0;
    for (var p = ia_csr[a]; p < ia_csr[a + 1u]; p++) {
        let j = ia_csr[ia_p.pos_base + p];
        acc += ia_dy[(o * ia_p.n_idx + j) * ia_p.inner + t];
    }
    ia_y[i] = acc;
}
