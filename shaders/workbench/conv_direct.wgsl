// Workbench conv2d version 2: direct convolution, one invocation per output element
// (NHWC input, HWIO filter, NHWC output), no workgroup memory: the baseline of the
// implicit-GEMM production kernel. The 1-D launch may be folded into 2-D.

struct WorkbenchConvParams {
    n: u32,
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
    len: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> p: WorkbenchConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> f: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn direct(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = flat_index(gid, nwg);
    if (idx >= p.len) {
        return;
    }
    let oc = idx % p.o;
    let ox = (idx / p.o) % p.out_w;
    let oy = (idx / (p.o * p.out_w)) % p.out_h;
    let b = idx / (p.o * p.out_w * p.out_h);
    var acc = 0.0;
    for (var ky = 0u; ky < p.kh; ky++) {
        let iy = i32(oy * p.stride_h + ky) - i32(p.pad_top);
        if (iy < 0 || iy >= i32(p.h)) {
            continue;
        }
        for (var kx = 0u; kx < p.kw; kx++) {
            let ix = i32(ox * p.stride_w + kx) - i32(p.pad_left);
            if (ix < 0 || ix >= i32(p.w)) {
                continue;
            }
            let xb = ((b * p.h + u32(iy)) * p.w + u32(ix)) * p.c;
            let fb = (ky * p.kw + kx) * p.c * p.o + oc;
            for (var ci = 0u; ci < p.c; ci++) {
                acc = fma(x[xb + ci], f[fb + ci * p.o], acc);
            }
        }
    }
    y[idx] = acc;
}
