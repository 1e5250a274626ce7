// Tiled GEMM core: C[batch] (m x n) = A[batch] (m x k) * B[batch] (k x n).
//
// Shared by matmul.wgsl and conv2d.wgsl, which are placed before this file and
// provide:
//   var<uniform> P   with u32 fields m, n, k, batch_base, row_tile_base, splits, k_chunk;
//   fn load_a(batch, row, k) -> f32, fn load_b(batch, k, col) -> f32
//       one element (called only in bounds);
//   fn load_a4(batch, row, k) -> vec4<f32>, fn load_b4(batch, k, col) -> vec4<f32>
//       four elements along the operand's contiguous direction (k for A when
//       A_K_FAST, else rows; k for B when B_K_FAST, else columns), called only
//       when all four are in bounds; a vec4 load where the data is aligned;
//   fn store_c(slice, row, col, v: f32), fn store_c4(slice, row, col, v: vec4<f32>)
//       (store_c4 only for 4 in-bounds columns);
// so the same kernel computes a plain matmul and conv2d as an implicit GEMM
// (the loads gather from the image on the fly).
//
// A 16 x 16 workgroup computes a 64 x 64 block of C; each invocation a 4 x 4
// block held in registers. Per step of TILE_K = 16, the workgroup stages a
// 64 x 16 slice of A and a 16 x 64 slice of B in workgroup memory (one vec4 of
// each per invocation, along the contiguous direction so that neighbouring
// invocations read neighbouring addresses; zeros outside the matrices, so any
// m, n, k works), then every invocation reads 4 x 4 blocks of both as vec4s
// and does 16 rank-1 updates of its 4 x 4 block. Each output sums over k in
// increasing order, like a plain loop.
//
// Split-K: with splits > 1, grid z enumerates slices = batch * splits + split,
// and slice s sums only k in [split * k_chunk, (split + 1) * k_chunk); store_c
// then writes partial products of slice s, which the host sums over splits.
// Shapes with few output tiles and a long k (conv2d's filter gradient) get
// enough workgroups that way. k_chunk is a multiple of TILE_K.

const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;

// Which index of A (and of B) is contiguous in memory: k (true) or the row
// (column) index (false).
override A_K_FAST: bool = true;
override B_K_FAST: bool = false;
// Whether C's rows are 4-aligned so that store_c4 may be used.
override C_VEC4: bool = false;

// Staged tiles, always written as whole vec4s (no two invocations write parts
// of one vector). Layout per operand:
//   along rows (columns) contiguous: [TILE_K][16] vec4 = 4 consecutive rows at one k;
//   k contiguous: [64][TILE_STRIDE] vec4 = 4 consecutive k of one row, rows padded
//   from 4 to 5 vec4s so that neighbouring invocations hit different banks.
const TILE_STRIDE: u32 = 5u;
var<workgroup> tile_a: array<vec4<f32>, 320>;
var<workgroup> tile_b: array<vec4<f32>, 320>;

// Four elements of A from (row, k) along its contiguous direction; zeros
// outside rows < m and k < k_end.
fn stage_a(batch: u32, row: u32, k: u32, k_end: u32) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    if (A_K_FAST) {
        if (row < P.m) {
            if (k + 3u < k_end) {
                v = load_a4(batch, row, k);
            } else {
                if (k < k_end) { v.x = load_a(batch, row, k); }
                if (k + 1u < k_end) { v.y = load_a(batch, row, k + 1u); }
                if (k + 2u < k_end) { v.z = load_a(batch, row, k + 2u); }
            }
        }
    } else {
        if (k < k_end) {
            if (row + 3u < P.m) {
                v = load_a4(batch, row, k);
            } else {
                if (row < P.m) { v.x = load_a(batch, row, k); }
                if (row + 1u < P.m) { v.y = load_a(batch, row + 1u, k); }
                if (row + 2u < P.m) { v.z = load_a(batch, row + 2u, k); }
            }
        }
    }
    return v;
}

// Four elements of B from (k, col) along its contiguous direction; zeros
// outside k < k_end and col < n.
fn stage_b(batch: u32, k: u32, col: u32, k_end: u32) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    if (B_K_FAST) {
        if (col < P.n) {
            if (k + 3u < k_end) {
                v = load_b4(batch, k, col);
            } else {
                if (k < k_end) { v.x = load_b(batch, k, col); }
                if (k + 1u < k_end) { v.y = load_b(batch, k + 1u, col); }
                if (k + 2u < k_end) { v.z = load_b(batch, k + 2u, col); }
            }
        }
    } else {
        if (k < k_end) {
            if (col + 3u < P.n) {
                v = load_b4(batch, k, col);
            } else {
                if (col < P.n) { v.x = load_b(batch, k, col); }
                if (col + 1u < P.n) { v.y = load_b(batch, k, col + 1u); }
                if (col + 2u < P.n) { v.z = load_b(batch, k, col + 2u); }
            }
        }
    }
    return v;
}

// Stores row `row` of an invocation's 4 x 4 block (columns col .. col + 3).
fn store_row(slice: u32, row: u32, col: u32, v: vec4<f32>) {
    if (row < P.m) {
        if (C_VEC4 && col + 3u < P.n) {
            store_c4(slice, row, col, v);
        } else {
            if (col < P.n) { store_c(slice, row, col, v.x); }
            if (col + 1u < P.n) { store_c(slice, row, col + 1u, v.y); }
            if (col + 2u < P.n) { store_c(slice, row, col + 2u, v.z); }
            if (col + 3u < P.n) { store_c(slice, row, col + 3u, v.w); }
        }
    }
}

@compute @workgroup_size(16, 16, 1)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let slice = wid.z + P.batch_base;
    let batch = slice / P.splits;
    let k_begin = (slice % P.splits) * P.k_chunk;
    let k_end = min(P.k, k_begin + P.k_chunk);
    let row0 = (wid.y + P.row_tile_base) * TILE_M;
    let col0 = wid.x * TILE_N;
    let t = lid.y * 16u + lid.x;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);

    // What this invocation stages: 4 consecutive k of one row (column), or
    // one k of 4 consecutive rows (columns).
    var ra: u32;
    var ka: u32;
    if (A_K_FAST) {
        ra = t / 4u;
        ka = (t % 4u) * 4u;
    } else {
        ka = t / 16u;
        ra = (t % 16u) * 4u;
    }
    var cb: u32;
    var kb: u32;
    if (B_K_FAST) {
        cb = t / 4u;
        kb = (t % 4u) * 4u;
    } else {
        kb = t / 16u;
        cb = (t % 16u) * 4u;
    }

    // All bounds tests guard loads and stores only: every invocation runs every
    // iteration and reaches every barrier.
    for (var k0 = k_begin; k0 < k_end; k0 += TILE_K) {
        let va = stage_a(batch, row0 + ra, k0 + ka, k_end);
        if (A_K_FAST) {
            tile_a[ra * TILE_STRIDE + ka / 4u] = va;
        } else {
            tile_a[ka * 16u + ra / 4u] = va;
        }
        let vb = stage_b(batch, k0 + kb, col0 + cb, k_end);
        if (B_K_FAST) {
            tile_b[cb * TILE_STRIDE + kb / 4u] = vb;
        } else {
            tile_b[kb * 16u + cb / 4u] = vb;
        }
        workgroupBarrier();
        for (var kq = 0u; kq < TILE_K / 4u; kq++) {
            // This invocation's 4 rows x 4 k of A (column i = row i over k) and
            // 4 k x 4 columns of B (column j = k j over the columns).
            var ma: mat4x4<f32>;
            if (A_K_FAST) {
                let i = lid.y * 4u * TILE_STRIDE + kq;
                ma = mat4x4<f32>(tile_a[i], tile_a[i + TILE_STRIDE],
                    tile_a[i + 2u * TILE_STRIDE], tile_a[i + 3u * TILE_STRIDE]);
            } else {
                let i = kq * 64u + lid.y;
                ma = transpose(mat4x4<f32>(tile_a[i], tile_a[i + 16u], tile_a[i + 32u],
                    tile_a[i + 48u]));
            }
            var mb: mat4x4<f32>;
            if (B_K_FAST) {
                let i = lid.x * 4u * TILE_STRIDE + kq;
                mb = transpose(mat4x4<f32>(tile_b[i], tile_b[i + TILE_STRIDE],
                    tile_b[i + 2u * TILE_STRIDE], tile_b[i + 3u * TILE_STRIDE]));
            } else {
                let i = kq * 64u + lid.x;
                mb = mat4x4<f32>(tile_b[i], tile_b[i + 16u], tile_b[i + 32u], tile_b[i + 48u]);
            }
            // k in increasing order for every output.
            acc0 += ma[0].x * mb[0];
            acc1 += ma[1].x * mb[0];
            acc2 += ma[2].x * mb[0];
            acc3 += ma[3].x * mb[0];
            acc0 += ma[0].y * mb[1];
            acc1 += ma[1].y * mb[1];
            acc2 += ma[2].y * mb[1];
            acc3 += ma[3].y * mb[1];
            acc0 += ma[0].z * mb[2];
            acc1 += ma[1].z * mb[2];
            acc2 += ma[2].z * mb[2];
            acc3 += ma[3].z * mb[2];
            acc0 += ma[0].w * mb[3];
            acc1 += ma[1].w * mb[3];
            acc2 += ma[2].w * mb[3];
            acc3 += ma[3].w * mb[3];
        }
        workgroupBarrier();
    }

    let row = row0 + lid.y * 4u;
    let col = col0 + lid.x * 4u;
    store_row(slice, row, col, acc0);
    store_row(slice, row + 1u, col, acc1);
    store_row(slice, row + 2u, col, acc2);
    store_row(slice, row + 3u, col, acc3);
}
