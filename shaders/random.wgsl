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
            let r = sqrt(-2.0 * log(u1));
            v = rp.a + rp.b * r * cos(TAU * u2);
        }
    }
    rand_out[i] = v;
}
