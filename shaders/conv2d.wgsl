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
// MODE 0 and 2: x; MODE 1: dy.
@group(0) @binding(1) var<storage, read> cv_a: array<f32>;
// MODE 0 and 1: w; MODE 2: dy.
@group(0) @binding(2) var<storage, read> cv_b: array<f32>;
@group(0) @binding(3) var<storage, read_write> cv_out: array<f32>;

override MODE: u32 = 0u;

// x[b, oy * stride_h - pad_top + ky, ox * stride_w - pad_left + kx, ci], 0 in the padding.
fn image_at(b: u32, oy: u32, ox: u32, ky: u32, kx: u32, ci: u32) -> f32 {
    let iy = i32(oy * P.stride_h + ky) - i32(P.pad_top);
    let ix = i32(ox * P.stride_w + kx) - i32(P.pad_left);
    if (iy < 0 || ix < 0 || iy >= i32(P.h) || ix >= i32(P.w)) {
        return 0.0;
    }
    return cv_a[((b * P.h + u32(iy)) * P.w + u32(ix)) * P.c + ci];
}

fn load_a(batch: u32, row: u32, k: u32) -> f32 {
    if (MODE == 0u) {
        // row = (b, oy, ox), k = (ky, kx, ci)
        let ox = row % P.out_w;
        let t = row / P.out_w;
        let ci = k % P.c;
        let tk = k / P.c;
        return image_at(t / P.out_h, t % P.out_h, ox, tk / P.kw, tk % P.kw, ci);
    } else if (MODE == 1u) {
        // row = (b, iy, ix), k = (ky, kx, oc): dy at the output pixel whose window
        // puts tap (ky, kx) on (iy, ix), if there is one.
        let ix = row % P.w;
        let t = row / P.w;
        let iy = t % P.h;
        let b = t / P.h;
        let oc = k % P.o;
        let tk = k / P.o;
        let kx = tk % P.kw;
        let ky = tk / P.kw;
        let ny = i32(iy + P.pad_top) - i32(ky);
        let nx = i32(ix + P.pad_left) - i32(kx);
        if (ny < 0 || nx < 0) {
            return 0.0;
        }
        let oy = u32(ny) / P.stride_h;
        let ox = u32(nx) / P.stride_w;
        if (oy * P.stride_h != u32(ny) || ox * P.stride_w != u32(nx) || oy >= P.out_h || ox >= P.out_w) {
            return 0.0;
        }
        return cv_a[((b * P.out_h + oy) * P.out_w + ox) * P.o + oc];
    } else {
        // row = (ky, kx, ci), k = (b, oy, ox)
        let ci = row % P.c;
        let t = row / P.c;
        let ox = k % P.out_w;
        let tk = k / P.out_w;
        return image_at(tk / P.out_h, tk % P.out_h, ox, t / P.kw, t % P.kw, ci);
    }
}

fn load_b(batch: u32, k: u32, col: u32) -> f32 {
    if (MODE == 1u) {
        // w^T: k = (ky, kx, oc), col = ci -> w[ky, kx, ci, oc]
        let oc = k % P.o;
        let tap = k / P.o;
        return cv_b[(tap * P.c + col) * P.o + oc];
    }
    // MODE 0: w [kh*kw*c, o]; MODE 2: dy [n*oh*ow, o].
    return cv_b[k * P.n + col];
}

fn store_c(batch: u32, row: u32, col: u32, v: f32) {
    cv_out[row * P.n + col] = v;
}
