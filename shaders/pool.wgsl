// 2-D pooling over NHWC and nearest upsampling, forward and backward.
//
// Window (oy, ox) covers input rows oy * stride_h - pad_top .. + kh, clipped to
// the input: padding never wins a max and is not counted by an average.
// Forward: one invocation per output element. Backward: one invocation per
// input element, looping over the windows that cover it (no atomics), in
// increasing (oy, ox) order as a sequential scatter would add them.

struct PoolParams {
    // Elements computed by this launch (output for forward, input for backward).
    len: u32,
    n: u32,
    h: u32,
    w: u32,
    c: u32,
    // Window, or the scale factors for upsampling.
    kh: u32,
    kw: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    out_h: u32,
    out_w: u32,
}

@group(0) @binding(0) var<uniform> pp: PoolParams;

// Forward kernels read binding 1 and write binding 2 (max_pool also 3).
@group(0) @binding(1) var<storage, read> pl_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> pl_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> pl_argmax: array<f32>;

// max_pool_backward reads dy and argmax.
@group(0) @binding(2) var<storage, read> mpb_argmax: array<f32>;
@group(0) @binding(3) var<storage, read_write> mpb_dx: array<f32>;

// Splits a flat NHWC index of an image with height hh and width ww.
struct Pixel {
    b: u32,
    y: u32,
    x: u32,
    ch: u32,
}

fn pixel(i: u32, hh: u32, ww: u32) -> Pixel {
    let ch = i % pp.c;
    let t = i / pp.c;
    let x = t % ww;
    let t2 = t / ww;
    return Pixel(t2 / hh, t2 % hh, x, ch);
}

// Valid input rows [lo, hi) of the window starting at `start` (may be negative).
fn clip(start: i32, size: u32, limit: u32) -> vec2<u32> {
    let lo = max(start, 0);
    let hi = min(start + i32(size), i32(limit));
    return vec2<u32>(u32(lo), u32(max(hi, lo)));
}

// Output windows [lo, hi) along one axis that cover input position `i`.
fn covering(i: u32, pad: u32, k: u32, stride: u32, out_len: u32) -> vec2<u32> {
    let p = i + pad;
    var lo = 0u;
    if (p >= k) {
        lo = (p - k) / stride + 1u;
    }
    let hi = min(p / stride + 1u, out_len);
    return vec2<u32>(lo, max(hi, lo));
}

fn window_rows(oy: u32) -> vec2<u32> {
    return clip(i32(oy * pp.stride_h) - i32(pp.pad_top), pp.kh, pp.h);
}

fn window_cols(ox: u32) -> vec2<u32> {
    return clip(i32(ox * pp.stride_w) - i32(pp.pad_left), pp.kw, pp.w);
}

@compute @workgroup_size(WG)
fn max_pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= pp.len) {
        return;
    }
    let o = pixel(i, pp.out_h, pp.out_w);
    let ys = window_rows(o.y);
    let xs = window_cols(o.x);
    var best = 0.0;
    var best_i = 0u;
    var found = false;
    for (var y = ys.x; y < ys.y; y++) {
        for (var x = xs.x; x < xs.y; x++) {
            // The index within the image: exact in f32 whatever the batch size.
            let local = (y * pp.w + x) * pp.c + o.ch;
            let v = pl_in[o.b * pp.h * pp.w * pp.c + local];
            // Strictly greater: the first maximum wins ties.
            if (!found || v > best) {
                best = v;
                best_i = local;
                found = true;
            }
        }
    }
    pl_out[i] = best;
    if (found) {
        pl_argmax[i] = f32(best_i);
    } else {
        pl_argmax[i] = -1.0; // an empty window: nothing won
    }
}

@compute @workgroup_size(WG)
fn max_pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= pp.len) {
        return;
    }
    let p = pixel(i, pp.h, pp.w);
    let oys = covering(p.y, pp.pad_top, pp.kh, pp.stride_h, pp.out_h);
    let oxs = covering(p.x, pp.pad_left, pp.kw, pp.stride_w, pp.out_w);
    let me = f32((p.y * pp.w + p.x) * pp.c + p.ch);
    var acc = 0.0;
    for (var oy = oys.x; oy < oys.y; oy++) {
        for (var ox = oxs.x; ox < oxs.y; ox++) {
            let o = ((p.b * pp.out_h + oy) * pp.out_w + ox) * pp.c + p.ch;
            if (mpb_argmax[o] == me) {
                acc += pl_in[o];
            }
        }
    }
    mpb_dx[i] = acc;
}

@compute @workgroup_size(WG)
fn avg_pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= pp.len) {
        return;
    }
    let o = pixel(i, pp.out_h, pp.out_w);
    let ys = window_rows(o.y);
    let xs = window_cols(o.x);
    var acc = 0.0;
    for (var y = ys.x; y < ys.y; y++) {
        for (var x = xs.x; x < xs.y; x++) {
            acc += pl_in[((o.b * pp.h + y) * pp.w + x) * pp.c + o.ch];
        }
    }
    let count = (ys.y - ys.x) * (xs.y - xs.x);
    pl_out[i] = select(0.0, acc / f32(count), count > 0u);
}

@compute @workgroup_size(WG)
fn avg_pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= pp.len) {
        return;
    }
    let p = pixel(i, pp.h, pp.w);
    let oys = covering(p.y, pp.pad_top, pp.kh, pp.stride_h, pp.out_h);
    let oxs = covering(p.x, pp.pad_left, pp.kw, pp.stride_w, pp.out_w);
    var acc = 0.0;
    for (var oy = oys.x; oy < oys.y; oy++) {
        let ys = window_rows(oy);
        for (var ox = oxs.x; ox < oxs.y; ox++) {
            let xs = window_cols(ox);
            let count = (ys.y - ys.x) * (xs.y - xs.x);
            acc += pl_in[((p.b * pp.out_h + oy) * pp.out_w + ox) * pp.c + p.ch] / f32(count);
        }
    }
    pl_out[i] = acc;
}

// Nearest upsampling by (kh, kw) = (scale_h, scale_w); out_h = h * kh.
@compute @workgroup_size(WG)
fn upsample(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= pp.len) {
        return;
    }
    let o = pixel(i, pp.out_h, pp.out_w);
    pl_out[i] = pl_in[((o.b * pp.h + o.y / pp.kh) * pp.w + o.x / pp.kw) * pp.c + o.ch];
}

// Sums each kh x kw block of dy.
@compute @workgroup_size(WG)
fn upsample_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= pp.len) {
        return;
    }
    let p = pixel(i, pp.h, pp.w);
    var acc = 0.0;
    for (var dy = 0u; dy < pp.kh; dy++) {
        let row = (p.b * pp.out_h + p.y * pp.kh + dy) * pp.out_w;
        for (var dx = 0u; dx < pp.kw; dx++) {
            acc += pl_in[(row + p.x * pp.kw + dx) * pp.c + p.ch];
        }
    }
    pl_out[i] = acc;
}
