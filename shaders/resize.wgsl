// Bilinear resizing of NHWC images (TensorFlow half-pixel centres), forward and
// backward. The host computes the taps (tensor::backend::bilinear_taps) and uploads
// them as u32 tables, so both backends read the same pixels with the same weights.
//
// Forward: one invocation per output element; table `rz_tab` holds, per output row
// then per output column, (lower, upper, bits of the weight of upper).
// Backward: one invocation per input element, no atomics; the table holds, per
// axis, CSR lists of the outputs that read each input index: offsets (in_len + 1),
// then (output index, bits of weight) pairs.

struct ResizeParams {
    // Elements computed by this launch (output for forward, input for backward).
    len: u32,
    n: u32,
    h: u32,
    w: u32,
    c: u32,
    out_h: u32,
    out_w: u32,
    // Where the tables of each axis start in rz_tab (in u32s).
    y_offsets: u32,
    y_entries: u32,
    x_offsets: u32,
    x_entries: u32,
}

@group(0) @binding(0) var<uniform> rz: ResizeParams;
@group(0) @binding(1) var<storage, read> rz_in: array<f32>;
@group(0) @binding(2) var<storage, read> rz_tab: array<u32>;
@group(0) @binding(3) var<storage, read_write> rz_out: array<f32>;

@compute @workgroup_size(WG)
fn resize_bilinear(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= rz.len) {
        return;
    }
    let k = i % rz.c;
    let ox = (i / rz.c) % rz.out_w;
    let oy = (i / (rz.c * rz.out_w)) % rz.out_h;
    let b = i / (rz.c * rz.out_w * rz.out_h);
    let ty = rz.y_offsets + 3u * oy;
    let tx = rz.x_offsets + 3u * ox;
    let y0 = rz_tab[ty];
    let y1 = rz_tab[ty + 1u];
    let ly = bitcast<f32>(rz_tab[ty + 2u]);
    let x0 = rz_tab[tx];
    let x1 = rz_tab[tx + 1u];
    let lx = bitcast<f32>(rz_tab[tx + 2u]);
    let row0 = (b * rz.h + y0) * rz.w;
    let row1 = (b * rz.h + y1) * rz.w;
    let tl = rz_in[(row0 + x0) * rz.c + k];
    let tr = rz_in[(row0 + x1) * rz.c + k];
    let bl = rz_in[(row1 + x0) * rz.c + k];
    let br = rz_in[(row1 + x1) * rz.c + k];
    let top = tl + (tr - tl) * lx;
    let bottom = bl + (br - bl) * lx;
    rz_out[i] = top + (bottom - top) * ly;
}

@compute @workgroup_size(WG)
fn resize_bilinear_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= rz.len) {
        return;
    }
    let k = i % rz.c;
    let ix = (i / rz.c) % rz.w;
    let iy = (i / (rz.c * rz.w)) % rz.h;
    let b = i / (rz.c * rz.w * rz.h);
    var acc = 0.0;
    let y_begin = rz_tab[rz.y_offsets + iy];
    let y_end = rz_tab[rz.y_offsets + iy + 1u];
    let x_begin = rz_tab[rz.x_offsets + ix];
    let x_end = rz_tab[rz.x_offsets + ix + 1u];
    for (var ey = y_begin; ey < y_end; ey++) {
        let oy = rz_tab[rz.y_entries + 2u * ey];
        let wy = bitcast<f32>(rz_tab[rz.y_entries + 2u * ey + 1u]);
        for (var ex = x_begin; ex < x_end; ex++) {
            let ox = rz_tab[rz.x_entries + 2u * ex];
            let wx = bitcast<f32>(rz_tab[rz.x_entries + 2u * ex + 1u]);
            acc += rz_in[((b * rz.out_h + oy) * rz.out_w + ox) * rz.c + k] * (wy * wx);
        }
    }
    rz_out[i] = acc;
}
