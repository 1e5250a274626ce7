// One fused Adam step (Keras semantics, bias corrections folded into lr_t):
//   m = beta1 m + (1 - beta1) g
//   v = beta2 v + (1 - beta2) g^2
//   p = p - lr_t m / (sqrt(v) + epsilon)

struct AdamParams {
    len: u32,
    lr_t: f32,
    beta1: f32,
    beta2: f32,
    epsilon: f32,
}

@group(0) @binding(0) var<uniform> ap: AdamParams;
@group(0) @binding(1) var<storage, read> adam_p: array<f32>;
@group(0) @binding(2) var<storage, read> adam_g: array<f32>;
@group(0) @binding(3) var<storage, read> adam_m: array<f32>;
@group(0) @binding(4) var<storage, read> adam_v: array<f32>;
@group(0) @binding(5) var<storage, read_write> adam_p_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> adam_m_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> adam_v_out: array<f32>;

@compute @workgroup_size(WG)
fn adam_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= ap.len) {
        return;
    }
    let g = adam_g[i];
    let m = ap.beta1 * adam_m[i] + (1.0 - ap.beta1) * g;
    let v = ap.beta2 * adam_v[i] + (1.0 - ap.beta2) * g * g;
    adam_m_out[i] = m;
    adam_v_out[i] = v;
    adam_p_out[i] = adam_p[i] - ap.lr_t * m / (sqrt(v) + ap.epsilon);
}
