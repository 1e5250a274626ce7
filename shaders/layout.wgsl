// Data movement: strided copy, pad, concat.
//
// One invocation per output element (concat: per element of the part copied).
// Dims arrays hold up to 8 dims, packed as vec4s, outermost first.

// ---------------------------------------------------------------- strided_copy

struct StridedParams {
    dims: array<vec4<u32>, 2>,
    strides: array<vec4<u32>, 2>,
    len: u32,
    rank: u32,
    offset: u32,
    // Where this launch's block starts in the output (views of more than 8
    // dims after merging take one launch per index of the leading dims).
    y_offset: u32,
}

@group(0) @binding(0) var<uniform> sc_p: StridedParams;
@group(0) @binding(1) var<storage, read> sc_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> sc_y: array<f32>;

@compute @workgroup_size(WG)
fn strided_copy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= sc_p.len) {
        return;
    }
    var rem = i;
    var src = sc_p.offset;
    for (var d = i32(sc_p.rank) - 1; d >= 0; d--) {
        let du = u32(d);
        let n = sc_p.dims[du / 4u][du % 4u];
        src += (rem % n) * sc_p.strides[du / 4u][du % 4u];
        rem = rem / n;
    }
    sc_y[sc_p.y_offset + i] = sc_x[src];
}

// ---------------------------------------------------------------- pad

struct PadParams {
    x_dims: array<vec4<u32>, 2>,
    out_dims: array<vec4<u32>, 2>,
    offsets: array<vec4<u32>, 2>,
    len: u32,
    rank: u32,
}

@group(0) @binding(0) var<uniform> pad_p: PadParams;
@group(0) @binding(1) var<storage, read> pad_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> pad_y: array<f32>;

@compute @workgroup_size(WG)
fn pad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= pad_p.len) {
        return;
    }
    var rem = i;
    var src = 0u;
    var x_stride = 1u;
    var inside = true;
    for (var d = i32(pad_p.rank) - 1; d >= 0; d--) {
        let du = u32(d);
        let n = pad_p.out_dims[du / 4u][du % 4u];
        let xn = pad_p.x_dims[du / 4u][du % 4u];
        let off = pad_p.offsets[du / 4u][du % 4u];
        let c = rem % n;
        rem = rem / n;
        // c - off wraps around for c < off, and then fails the bound as well.
        let xc = c - off;
        inside = inside && c >= off && xc < xn;
        src += xc * x_stride;
        x_stride *= xn;
    }
    var v = 0.0;
    if (inside) {
        v = pad_x[src];
    }
    pad_y[i] = v;
}

// ---------------------------------------------------------------- concat

// Copies one part, seen as [outer, src_cols], into columns
// [dst_col_offset, dst_col_offset + src_cols) of the output [outer, dst_cols].
struct ConcatParams {
    len: u32,
    src_cols: u32,
    dst_cols: u32,
    dst_col_offset: u32,
}

@group(0) @binding(0) var<uniform> cat_p: ConcatParams;
@group(0) @binding(1) var<storage, read> cat_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> cat_y: array<f32>;

@compute @workgroup_size(WG)
fn concat_part(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= cat_p.len) {
        return;
    }
    let row = i / cat_p.src_cols;
    let col = i % cat_p.src_cols;
    cat_y[row * cat_p.dst_cols + cat_p.dst_col_offset + col] = cat_x[i];
}
