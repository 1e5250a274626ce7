// One fused Adam step, in place (Keras semantics, bias corrections folded into lr_t):
//   m = beta1 m + (1 - beta1) g
//   v = beta2 v + (1 - beta2) g^2
//   p = p - lr_t m / (sqrt(v) + epsilon)

struct AxpbyParams {
    len: u32,
    a: f32,
    b: f32,
}

struct RmsPropParams {
    len: u32,
    lr: f32,
    rho: f32,
    epsilon: f32,
    epsilon_outside_sqrt: u32,
}

struct AdamParams {
    len: u32,
    lr_t: f32,
    beta1: f32,
    beta2: f32,
    epsilon: f32,
}

@group(0) @binding(0) var<uniform> ap: AdamParams;
// Updated in place: each invocation reads, then writes, its own element.
@group(0) @binding(1) var<storage, read_write> adam_p: array<f32>;
@group(0) @binding(2) var<storage, read> adam_g: array<f32>;
@group(0) @binding(3) var<storage, read_write> adam_m: array<f32>;
@group(0) @binding(4) var<storage, read_write> adam_v: array<f32>;

@compute @workgroup_size(WG)
fn adam_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= ap.len) {
        return;
    }
    let g = adam_g[i];
    let m = ap.beta1 * adam_m[i] + (1.0 - ap.beta1) * g;
    let v = ap.beta2 * adam_v[i] + (1.0 - ap.beta2) * g * g;
    adam_m[i] = m;
    adam_v[i] = v;
    adam_p[i] = adam_p[i] - ap.lr_t * m / (sqrt(v) + ap.epsilon);
}

// One fused RMSprop step, in place (Keras semantics):
//   a = a rho + g^2 (1 - rho)
//   p = p - g lr / sqrt(a + epsilon)      or, Keras 2, / (sqrt(a) + epsilon)
@group(0) @binding(0) var<uniform> rp: RmsPropParams;
@group(0) @binding(1) var<storage, read_write> rms_p: array<f32>;
@group(0) @binding(2) var<storage, read> rms_g: array<f32>;
@group(0) @binding(3) var<storage, read_write> rms_a: array<f32>;

@compute @workgroup_size(WG)
fn rmsprop_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= rp.len) {
        return;
    }
    let g = rms_g[i];
    let a = rms_a[i] * rp.rho + g * g * (1.0 - rp.rho);
    rms_a[i] = a;
    var denom = sqrt(a + rp.epsilon);
    if (rp.epsilon_outside_sqrt != 0u) {
        denom = sqrt(a) + rp.epsilon;
    }
    rms_p[i] = rms_p[i] - g * rp.lr / denom;
}

// y = a y + b x, in place (running averages of weights).
@group(0) @binding(0) var<uniform> xp: AxpbyParams;
@group(0) @binding(1) var<storage, read_write> axpby_y: array<f32>;
@group(0) @binding(2) var<storage, read> axpby_x: array<f32>;

@compute @workgroup_size(WG)
fn axpby(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= xp.len) {
        return;
    }
    axpby_y[i] = xp.a * axpby_y[i] + xp.b * axpby_x[i];
}
