// Workbench matmul version 2: one invocation per element of C, 16 x 16 per workgroup,
// A and B read straight from storage (no workgroup memory). The baseline every tiled
// version is measured against. Row-major, no transposes: C[m, n] = A[m, k] B[k, n].

struct WorkbenchMatmulParams {
    m: u32,
    n: u32,
    k: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> p: WorkbenchMatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(16, 16)
fn naive(@builtin(global_invocation_id) gid: vec3<u32>) {
    let col = gid.x;
    let row = gid.y;
    if (row >= p.m || col >= p.n) {
        return;
    }
    var acc = 0.0;
    for (var i = 0u; i < p.k; i++) {
        acc = fma(a[row * p.k + i], b[i * p.n + col], acc);
    }
    c[row * p.n + col] = acc;
}
