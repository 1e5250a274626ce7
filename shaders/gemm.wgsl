// Tiled GEMM core: C[batch] (m x n) = A[batch] (m x k) * B[batch] (k x n).
//
// Shared by matmul.wgsl and conv2d.wgsl, which are placed before this file and
// provide:
//   var<uniform> P     with u32 fields m, n, k, batch_base, row_tile_base;
//   fn load_a(batch: u32, row: u32, k: u32) -> f32   (called only in bounds)
//   fn load_b(batch: u32, k: u32, col: u32) -> f32   (called only in bounds)
//   fn store_c(batch: u32, row: u32, col: u32, v: f32)
// so the same kernel computes a plain matmul and conv2d as an implicit GEMM
// (load_a gathers from the image on the fly).
//
// A 16 x 16 workgroup computes a 64 x 64 block of C; each invocation a 4 x 4
// block held in registers. Per step of TILE_K = 16, the workgroup stages a
// 64 x 16 slice of A and a 16 x 64 slice of B in workgroup memory (zeros
// outside the matrices, so any m, n, k works), then every invocation does 16
// rank-1 updates of its 4 x 4 block. Each output sums over k in increasing
// order, like a plain loop.

const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;

// Which index is contiguous in memory when staging tiles, so that neighbouring
// invocations load neighbouring addresses: k (true) or the row / column (false).
override A_K_FAST: bool = true;
override B_K_FAST: bool = false;

// [TILE_K][TILE_M / 4] and [TILE_K][TILE_N / 4]: a vec4 is 4 consecutive rows
// (of A) or columns (of B).
var<workgroup> tile_a: array<vec4<f32>, 256>;
var<workgroup> tile_b: array<vec4<f32>, 256>;

@compute @workgroup_size(16, 16, 1)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let batch = wid.z + P.batch_base;
    let row0 = (wid.y + P.row_tile_base) * TILE_M;
    let col0 = wid.x * TILE_N;
    let t = lid.y * 16u + lid.x;
    var acc: array<vec4<f32>, 4>;

    // All bounds tests guard loads and stores only: every invocation runs every
    // iteration and reaches every barrier.
    for (var k0 = 0u; k0 < P.k; k0 += TILE_K) {
        for (var l = 0u; l < 4u; l++) {
            let e = t + l * 256u;
            var r: u32;
            var ka: u32;
            if (A_K_FAST) {
                r = e / TILE_K;
                ka = e % TILE_K;
            } else {
                ka = e / TILE_M;
                r = e % TILE_M;
            }
            var va = 0.0;
            if (row0 + r < P.m && k0 + ka < P.k) {
                va = load_a(batch, row0 + r, k0 + ka);
            }
            tile_a[ka * 16u + r / 4u][r % 4u] = va;

            var c: u32;
            var kb: u32;
            if (B_K_FAST) {
                c = e / TILE_K;
                kb = e % TILE_K;
            } else {
                kb = e / TILE_N;
                c = e % TILE_N;
            }
            var vb = 0.0;
            if (col0 + c < P.n && k0 + kb < P.k) {
                vb = load_b(batch, k0 + kb, col0 + c);
            }
            tile_b[kb * 16u + c / 4u][c % 4u] = vb;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TILE_K; kk++) {
            let a = tile_a[kk * 16u + lid.y];
            let b = tile_b[kk * 16u + lid.x];
            acc[0] += a.x * b;
            acc[1] += a.y * b;
            acc[2] += a.z * b;
            acc[3] += a.w * b;
        }
        workgroupBarrier();
    }

    for (var i = 0u; i < 4u; i++) {
        let row = row0 + lid.y * 4u + i;
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + lid.x * 4u + j;
            if (row < P.m && col < P.n) {
                store_c(batch, row, col, acc[i][j]);
            }
        }
    }
}
