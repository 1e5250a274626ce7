// Elementwise kernels: unary ops with parameters, broadcasting binary ops.
//
// One invocation per output element. The op switches are generated (see below).

// ---------------------------------------------------------------- shared math

// A quiet NaN. `x` only makes it a runtime value: naga rejects NaN constants.
fn nan_like(x: f32) -> f32 {
    return bitcast<f32>(0x7fc00000u | (bitcast<u32>(x) & 0u));
}

// Written so that neither branch overflows exp.
fn sigmoid(x: f32) -> f32 {
    if (x >= 0.0) {
        return 1.0 / (1.0 + exp(-x));
    }
    let e = exp(x);
    return e / (1.0 + e);
}

// tanh saturates to +-1 in f32 beyond |x| = 9.01; clamping keeps drivers that
// evaluate it as (e^2x - 1) / (e^2x + 1) away from inf / inf.
fn tanh_safe(x: f32) -> f32 {
    return tanh(clamp(x, -15.0, 15.0));
}

// x ^ p with the IEEE pow conventions Rust's powf follows: a negative base is
// allowed for integral exponents, x ^ 0 = 1 (even for NaN), 0 ^ p = 0 or inf.
fn pow_ieee(x: f32, p: f32) -> f32 {
    if (p == 0.0) {
        return 1.0;
    }
    if (p == 1.0) {
        return x;
    }
    if (p == 2.0) {
        return x * x;
    }
    let ax = abs(x);
    var r: f32;
    if (ax == 0.0) {
        r = select(1.0 / ax, 0.0, p > 0.0);
    } else {
        r = pow(ax, p);
    }
    if (x < 0.0 || (x == 0.0 && sign_bit(x))) {
        if (fract(p) != 0.0) {
            if (x == 0.0) {
                return r;
            }
            return nan_like(x);
        }
        // Odd integral exponent keeps the sign.
        if (fract(p * 0.5) != 0.0) {
            return -r;
        }
    }
    return r;
}

fn sign_bit(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x80000000u) != 0u;
}

// ---------------------------------------------------------------- unary

struct UnaryParams {
    len: u32,
    op: u32,
    p0: f32,
    p1: f32,
}

@group(0) @binding(0) var<uniform> un_p: UnaryParams;
@group(0) @binding(1) var<storage, read> un_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> un_y: array<f32>;

// fn unary_op(op: u32, x: f32, p0: f32, p1: f32) -> f32 is generated from the op
// table in crates/tensor/src/backend/elementwise.rs (UnaryOp::wgsl_function).

@compute @workgroup_size(WG)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i < un_p.len) {
        un_y[i] = unary_op(un_p.op, un_x[i], un_p.p0, un_p.p1);
    }
}

// ---------------------------------------------------------------- binary

// Output dims and, per output dim, the element strides into a and b (0 where
// broadcast). Up to 8 dims (the host merges contiguous dims first, and launches
// once per index of any further leading dims, with offsets).
struct BinaryParams {
    dims: array<vec4<u32>, 2>,
    a_strides: array<vec4<u32>, 2>,
    b_strides: array<vec4<u32>, 2>,
    len: u32,
    rank: u32,
    op: u32,
    a_offset: u32,
    b_offset: u32,
    y_offset: u32,
}

@group(0) @binding(0) var<uniform> bin_p: BinaryParams;
@group(0) @binding(1) var<storage, read> bin_a: array<f32>;
@group(0) @binding(2) var<storage, read> bin_b: array<f32>;
@group(0) @binding(3) var<storage, read_write> bin_y: array<f32>;

// fn binary_op(op: u32, a: f32, b: f32) -> f32 is generated from the same table
// (BinaryOp::wgsl_function).

@compute @workgroup_size(WG)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= bin_p.len) {
        return;
    }
    var rem = i;
    var ia = bin_p.a_offset;
    var ib = bin_p.b_offset;
    for (var d = i32(bin_p.rank) - 1; d >= 0; d--) {
        let du = u32(d);
        let n = bin_p.dims[du / 4u][du % 4u];
        let c = rem % n;
        rem = rem / n;
        ia += c * bin_p.a_strides[du / 4u][du % 4u];
        ib += c * bin_p.b_strides[du / 4u][du % 4u];
    }
    bin_y[bin_p.y_offset + i] = binary_op(bin_p.op, bin_a[ia], bin_b[ib]);
}
