// Batched matmul C[b] = op(A[b]) @ op(B[b]) on the tiled core of gemm.wgsl.
//
// A is m x k row-major, or k x m with TRANS_A; B is k x n, or n x k with
// TRANS_B. A batch stride of 0 reuses one matrix for every batch (broadcast).

struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    batch_base: u32,
    row_tile_base: u32,
    a_batch_stride: u32,
    b_batch_stride: u32,
}

@group(0) @binding(0) var<uniform> P: MatmulParams;
@group(0) @binding(1) var<storage, read> mm_a: array<f32>;
@group(0) @binding(2) var<storage, read> mm_b: array<f32>;
@group(0) @binding(3) var<storage, read_write> mm_c: array<f32>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;

fn load_a(batch: u32, row: u32, k: u32) -> f32 {
    let base = batch * P.a_batch_stride;
    if (TRANS_A) {
        return mm_a[base + k * P.m + row];
    }
    return mm_a[base + row * P.k + k];
}

fn load_b(batch: u32, k: u32, col: u32) -> f32 {
    let base = batch * P.b_batch_stride;
    if (TRANS_B) {
        return mm_b[base + col * P.k + k];
    }
    return mm_b[base + k * P.n + col];
}

fn store_c(batch: u32, row: u32, col: u32, v: f32) {
    mm_c[(batch * P.m + row) * P.n + col] = v;
}
