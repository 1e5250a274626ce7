// Counter-based random fill: a port of crates/tensor/src/random.rs using only
// u32 arithmetic, so that element i of a fill is the same on every backend.
// The per-fill keys key(seed, 0) and key(seed, 1) are computed on the host.

struct RandomParams {
    len: u32,
    // 0 uniform on [a, b), 1 bernoulli with p = a, 2 normal with mean a and std b.
    kind: u32,
    key0: u32,
    key1: u32,
    a: f32,
    b: f32,
}

@group(0) @binding(0) var<uniform> rp: RandomParams;
@group(0) @binding(1) var<storage, read_write> rand_out: array<f32>;

const TAU: f32 = 6.283185307179586;

fn mix32(x0: u32) -> u32 {
    var x = x0;
    x ^= x >> 16u;
    x *= 0x7feb352du;
    x ^= x >> 15u;
    x *= 0x846ca68bu;
    x ^= x >> 16u;
    return x;
}

fn bits(key: u32, index: u32) -> u32 {
    return mix32(mix32(index ^ key) + key);
}

// Uniform on [0, 1) with 24 bits: exact in f32.
fn unit(b: u32) -> f32 {
    return f32(b >> 8u) * (1.0 / 16777216.0);
}

// Uniform on (0, 1], safe for log.
fn unit_open(b: u32) -> f32 {
    return f32((b >> 8u) + 1u) * (1.0 / 16777216.0);
}

// ln(u) for u in (0, 1]. Builtin log is accurate in absolute terms only (its
// relative error explodes as u -> 1, where ln u -> 0), and Box-Muller's
// sqrt(-2 ln u) passes that on; so near 1 use ln(u) = 2 atanh(s),
// s = d / (2 + d), d = u - 1 (exact), summing the series to s^13.
fn ln_unit(u: f32) -> f32 {
    if (u < 0.75) {
        return log(u);
    }
    let d = u - 1.0;
    let s = d / (2.0 + d);
    let s2 = s * s;
    // |s| <= 1/7: the first term left out is below 1e-12 relative.
    let p = 1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0
        + s2 * (1.0 / 11.0 + s2 * (1.0 / 13.0))))));
    return 2.0 * s * p;
}

// cos(t) for t in [0, 2 pi], accurate to a few ulp on every driver (Vulkan only
// promises 2^-11 absolute for the builtin). Cody-Waite reduction with a short
// head of pi (exact subtraction), then an even Taylor polynomial on [0, pi/2].
const PI_HI: f32 = 3.140625;
const PI_LO: f32 = 0.0009676535897932;
fn cos_0_2pi(t: f32) -> f32 {
    // r = |t - 2 pi| folded to [0, pi]; cos is even and 2 pi periodic.
    var r = t;
    if (t > PI_HI) {
        r = abs(((t - 2.0 * PI_HI) - 2.0 * PI_LO));
    }
    // cos(r) = -cos(pi - r) moves r to [0, pi/2].
    var sign = 1.0;
    if (r > 1.5707963) {
        r = (PI_HI - r) + PI_LO;
        sign = -1.0;
    }
    let x2 = r * r;
    // 1 - x^2/2! + x^4/4! - ... - x^14/14!; the x^16 term is below 1e-10 at pi/2.
    let p = 1.0 + x2 * (-1.0 / 2.0 + x2 * (1.0 / 24.0 + x2 * (-1.0 / 720.0 + x2 * (1.0 / 40320.0
        + x2 * (-1.0 / 3628800.0 + x2 * (1.0 / 479001600.0 + x2 * (-1.0 / 87178291200.0)))))));
    return sign * p;
}

@compute @workgroup_size(WG)
fn random(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= rp.len) {
        return;
    }
    var v: f32;
    switch rp.kind {
        case 0u: {
            v = rp.a + (rp.b - rp.a) * unit(bits(rp.key0, i));
        }
        case 1u: {
            v = select(0.0, 1.0, unit(bits(rp.key0, i)) < rp.a);
        }
        default: {
            let u1 = unit_open(bits(rp.key0, i));
            let u2 = unit(bits(rp.key1, i));
            let r = sqrt(-2.0 * ln_unit(u1));
            v = rp.a + rp.b * r * cos_0_2pi(TAU * u2);
        }
    }
    rand_out[i] = v;
}
