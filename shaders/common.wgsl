// Helpers shared by every kernel (prepended to each shader by the launcher).

// Invocations per workgroup of the 1-D kernels (launch.rs: WG).
const WG: u32 = 256u;

// Flat index of an invocation in a 1-D launch that the host may have folded into
// a 2-D grid of workgroups (when the count exceeds 65535 per dimension).
fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}

// Flat index of a workgroup in a folded 2-D grid.
fn flat_group(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.x + wid.y * nwg.x;
}
