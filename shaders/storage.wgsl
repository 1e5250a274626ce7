// Fill: one invocation per element.

// ---------------------------------------------------------------- fill

struct FillParams {
    len: u32,
    value: f32,
}

@group(0) @binding(0) var<uniform> fill_p: FillParams;
@group(0) @binding(1) var<storage, read_write> fill_out: array<f32>;

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i < fill_p.len) {
        fill_out[i] = fill_p.value;
    }
}
