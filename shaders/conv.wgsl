// 2-D convolution, NHWC input, HWIO filter, as implicit GEMMs on gemm.wgsl.
//
// MODE 0, forward:         y  [n*oh*ow, o]    = im2col(x) [n*oh*ow, kh*kw*c] * w [kh*kw*c, o]
// MODE 1, backward input:  dx [n*h*w, c]      = gather(dy) [n*h*w, kh*kw*o] * w^T [kh*kw*o, c]
// MODE 2, backward filter: dw [kh*kw*c, o]    = im2col(x)^T [kh*kw*c, n*oh*ow] * dy [n*oh*ow, o]
//
// Nothing is materialised: load_a gathers the A element from the image (or from
// dy) on the fly, returning 0 for padding. Output pixel (oy, ox) reads input
// row oy * stride_h - pad_top + ky (TensorFlow's SAME / VALID convention).

struct ConvParams {
    m: u32,
    n: u32,
    k: u32,
    batch_base: u32,
    row_tile_base: u32,
    splits: u32,
    k_chunk: u32,
    nb: u32,
    h: u32,
    w: u32,
    c: u32,
    kh: u32,
    kw: u32,
    o: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    out_h: u32,
    out_w: u32,
}

@group(0) @binding(0) var<uniform> P: ConvParams;
// Bound as vec4 arrays (see matmul.wgsl). MODE 0 and 2: x; MODE 1: dy.
@group(0) @binding(1) var<storage, read> cv_a: array<vec4<f32>>;
// MODE 0 and 1: w; MODE 2: dy.
@group(0) @binding(2) var<storage, read> cv_b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> cv_out: array<vec4<f32>>;

override MODE: u32 = 0u;
// 4 consecutive elements along A's (B's) contiguous direction are 4 channels of
// one pixel, 4-aligned: c % 4 == 0 for x, o % 4 == 0 for dy and w.
override A_VEC4: bool = false;
override B_VEC4: bool = false;

fn a_at(i: u32) -> f32 {
    return cv_a[i / 4u][i % 4u];
}

fn b_at(i: u32) -> f32 {
    return cv_b[i / 4u][i % 4u];
}

// Start (channel 0) of x[b, oy * stride_h - pad_top + ky, ox * stride_w - pad_left + kx],
// or -1 in the padding.
fn x_pixel(b: u32, oy: u32, ox: u32, ky: u32, kx: u32) -> i32 {
    let iy = i32(oy * P.stride_h + ky) - i32(P.pad_top);
    let ix = i32(ox * P.stride_w + kx) - i32(P.pad_left);
    if (iy < 0 || ix < 0 || iy >= i32(P.h) || ix >= i32(P.w)) {
        return -1;
    }
    return i32(((b * P.h + u32(iy)) * P.w + u32(ix)) * P.c);
}

// Start of dy[b, oy, ox] for the output pixel whose window puts tap (ky, kx) on
// input pixel (iy, ix), or -1 if there is none.
fn dy_pixel(b: u32, iy: u32, ix: u32, ky: u32, kx: u32) -> i32 {
    let ny = i32(iy + P.pad_top) - i32(ky);
    let nx = i32(ix + P.pad_left) - i32(kx);
    if (ny < 0 || nx < 0) {
        return -1;
    }
    let oy = u32(ny) / P.stride_h;
    let ox = u32(nx) / P.stride_w;
    if (oy * P.stride_h != u32(ny) || ox * P.stride_w != u32(nx) || oy >= P.out_h || ox >= P.out_w) {
        return -1;
    }
    return i32(((b * P.out_h + oy) * P.out_w + ox) * P.o);
}

// Where A element (row, k) lives in cv_a: (pixel start, channel), pixel -1 = zero.
fn a_pixel(row: u32, k: u32) -> vec2<i32> {
    if (MODE == 0u) {
        // row = (b, oy, ox), k = (ky, kx, ci)
        let ox = row % P.out_w;
        let t = row / P.out_w;
        let tk = k / P.c;
        let p = x_pixel(t / P.out_h, t % P.out_h, ox, tk / P.kw, tk % P.kw);
        return vec2<i32>(p, i32(k % P.c));
    } else if (MODE == 1u) {
        // row = (b, iy, ix), k = (ky, kx, oc)
        let ix = row % P.w;
        let t = row / P.w;
        let tk = k / P.o;
        let p = dy_pixel(t / P.h, t % P.h, ix, tk / P.kw, tk % P.kw);
        return vec2<i32>(p, i32(k % P.o));
    }
    // MODE 2: row = (ky, kx, ci), k = (b, oy, ox)
    let t = row / P.c;
    let ox = k % P.out_w;
    let tk = k / P.out_w;
    let p = x_pixel(tk / P.out_h, tk % P.out_h, ox, t / P.kw, t % P.kw);
    return vec2<i32>(p, i32(row % P.c));
}

fn load_a(batch: u32, row: u32, k: u32) -> f32 {
    let at = a_pixel(row, k);
    if (at.x < 0) {
        return 0.0;
    }
    return a_at(u32(at.x + at.y));
}

// 4 consecutive k (MODE 0, 1) or rows (MODE 2): 4 consecutive channels of one
// pixel, since the host only takes this path when the channel count is a
// multiple of 4 (A_VEC4) or falls back to element loads.
fn load_a4(batch: u32, row: u32, k: u32) -> vec4<f32> {
    if (A_VEC4) {
        let at = a_pixel(row, k);
        if (at.x < 0) {
            return vec4<f32>(0.0);
        }
        return cv_a[u32(at.x + at.y) / 4u];
    }
    if (MODE == 2u) {
        return vec4<f32>(load_a(batch, row, k), load_a(batch, row + 1u, k),
            load_a(batch, row + 2u, k), load_a(batch, row + 3u, k));
    }
    return vec4<f32>(load_a(batch, row, k), load_a(batch, row, k + 1u),
        load_a(batch, row, k + 2u), load_a(batch, row, k + 3u));
}

fn b_index(k: u32, col: u32) -> u32 {
    if (MODE == 1u) {
        // w^T: k = (ky, kx, oc), col = ci -> w[ky, kx, ci, oc]
        return ((k / P.o) * P.c + col) * P.o + k % P.o;
    }
    // MODE 0: w [kh*kw*c, o]; MODE 2: dy [n*oh*ow, o].
    return k * P.n + col;
}

fn load_b(batch: u32, k: u32, col: u32) -> f32 {
    return b_at(b_index(k, col));
}

// 4 consecutive columns (MODE 0, 2) or k (MODE 1). With B_VEC4 (o % 4 == 0)
// they are 4 aligned consecutive floats; otherwise MODE 1's k may cross from
// one filter tap to the next, so each is looked up on its own.
fn load_b4(batch: u32, k: u32, col: u32) -> vec4<f32> {
    if (B_VEC4) {
        return cv_b[b_index(k, col) / 4u];
    }
    if (MODE == 1u) {
        return vec4<f32>(load_b(batch, k, col), load_b(batch, k + 1u, col),
            load_b(batch, k + 2u, col), load_b(batch, k + 3u, col));
    }
    let i = b_index(k, col);
    return vec4<f32>(b_at(i), b_at(i + 1u), b_at(i + 2u), b_at(i + 3u));
}

// slice = split index (there is one batch): partial sums go to slice `slice`.
fn store_c(slice: u32, row: u32, col: u32, v: f32) {
    let i = (slice * P.m + row) * P.n + col;
    cv_out[i / 4u][i % 4u] = v;
}

fn store_c4(slice: u32, row: u32, col: u32, v: vec4<f32>) {
    cv_out[((slice * P.m + row) * P.n + col) / 4u] = v;
}
