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
    splits: u32,
    k_chunk: u32,
    a_batch_stride: u32,
    b_batch_stride: u32,
}

@group(0) @binding(0) var<uniform> P: MatmulParams;
// Bound as vec4 arrays so that aligned loads and stores move 16 bytes at once;
// buffers are padded to 16 bytes (the pool's size classes are multiples of 64).
@group(0) @binding(1) var<storage, read> mm_a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> mm_b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> mm_c: array<vec4<f32>>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
// The contiguous dimension and the batch stride of A (B) are multiples of 4.
override A_VEC4: bool = false;
override B_VEC4: bool = false;

fn a_index(batch: u32, row: u32, k: u32) -> u32 {
    let base = batch * P.a_batch_stride;
    if (TRANS_A) {
        return base + k * P.m + row;
    }
    return base + row * P.k + k;
}

fn b_index(batch: u32, k: u32, col: u32) -> u32 {
    let base = batch * P.b_batch_stride;
    if (TRANS_B) {
        return base + col * P.k + k;
    }
    return base + k * P.n + col;
}

fn a_at(i: u32) -> f32 {
    return mm_a[i / 4u][i % 4u];
}

fn b_at(i: u32) -> f32 {
    return mm_b[i / 4u][i % 4u];
}

fn load_a(batch: u32, row: u32, k: u32) -> f32 {
    return a_at(a_index(batch, row, k));
}

// Along A's contiguous direction (k, or rows with TRANS_A): elements i .. i + 3.
fn load_a4(batch: u32, row: u32, k: u32) -> vec4<f32> {
    let i = a_index(batch, row, k);
    if (A_VEC4) {
        return mm_a[i / 4u];
    }
    return vec4<f32>(a_at(i), a_at(i + 1u), a_at(i + 2u), a_at(i + 3u));
}

fn load_b(batch: u32, k: u32, col: u32) -> f32 {
    return b_at(b_index(batch, k, col));
}

// Along B's contiguous direction (columns, or k with TRANS_B).
fn load_b4(batch: u32, k: u32, col: u32) -> vec4<f32> {
    let i = b_index(batch, k, col);
    if (B_VEC4) {
        return mm_b[i / 4u];
    }
    return vec4<f32>(b_at(i), b_at(i + 1u), b_at(i + 2u), b_at(i + 3u));
}

// slice = batch * splits + split: with one split, C[batch] itself.
fn store_c(slice: u32, row: u32, col: u32, v: f32) {
    let i = (slice * P.m + row) * P.n + col;
    mm_c[i / 4u][i % 4u] = v;
}

fn store_c4(slice: u32, row: u32, col: u32, v: vec4<f32>) {
    mm_c[((slice * P.m + row) * P.n + col) / 4u] = v;
}
