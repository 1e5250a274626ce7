// Workbench matmul version 3: a 128 x 128 tile of C per workgroup of 256 invocations,
// each computing an 8 x 8 block in registers; the A and B panels (128 x 8 and 8 x 128)
// pass through workgroup memory, double-buffered: while the tile computes on one
// k-step, the next is loaded into the other buffer, so one barrier per k-step
// suffices. Row-major, no transposes: C[m, n] = A[m, k] B[k, n]; any sizes (edges are
// zero-filled on load and masked on store).

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

const BM: u32 = 128u;
const BN: u32 = 128u;
const BK: u32 = 8u;
const TM: u32 = 8u;
const TN: u32 = 8u;

// [buffer][kk * BM + row] and [buffer][kk * BN + col]: 2 x 2 x 4 KiB.
var<workgroup> a_tile: array<array<f32, 1024>, 2>;
var<workgroup> b_tile: array<array<f32, 1024>, 2>;

fn load_panels(step: u32, buf: u32, lid: u32, row0: u32, col0: u32) {
    let k0 = step * BK;
    for (var i = 0u; i < 4u; i++) {
        let e = lid + i * 256u;
        // A: 128 rows x 8 k, k fastest in memory.
        let r = e / BK;
        let kk = e % BK;
        let gr = row0 + r;
        let gk = k0 + kk;
        var va = 0.0;
        if (gr < p.m && gk < p.k) {
            va = a[gr * p.k + gk];
        }
        a_tile[buf][kk * BM + r] = va;
        // B: 8 k x 128 columns, columns fastest.
        let bk = e / BN;
        let bc = e % BN;
        let gbk = k0 + bk;
        let gc = col0 + bc;
        var vb = 0.0;
        if (gbk < p.k && gc < p.n) {
            vb = b[gbk * p.n + gc];
        }
        b_tile[buf][bk * BN + bc] = vb;
    }
}

@compute @workgroup_size(256)
fn tiled(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row0 = wg.y * BM;
    let col0 = wg.x * BN;
    let tr = (lid / 16u) * TM;
    let tc = (lid % 16u) * TN;
    var acc: array<f32, 64>;
    for (var i = 0u; i < 64u; i++) {
        acc[i] = 0.0;
    }
    let steps = (p.k + BK - 1u) / BK;
    load_panels(0u, 0u, lid, row0, col0);
    workgroupBarrier();
    for (var s = 0u; s < steps; s++) {
        let cur = s % 2u;
        if (s + 1u < steps) {
            load_panels(s + 1u, 1u - cur, lid, row0, col0);
        }
        for (var kk = 0u; kk < BK; kk++) {
            var ar: array<f32, 8>;
            var br: array<f32, 8>;
            for (var i = 0u; i < TM; i++) {
                ar[i] = a_tile[cur][kk * BM + tr + i];
            }
            for (var j = 0u; j < TN; j++) {
                br[j] = b_tile[cur][kk * BN + tc + j];
            }
            for (var i = 0u; i < TM; i++) {
                for (var j = 0u; j < TN; j++) {
                    acc[i * TN + j] = fma(ar[i], br[j], acc[i * TN + j]);
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < TM; i++) {
        let row = row0 + tr + i;
        if (row >= p.m) {
            break;
        }
        for (var j = 0u; j < TN; j++) {
            let col = col0 + tc + j;
            if (col < p.n) {
                c[row * p.n + col] = acc[i * TN + j];
            }
        }
    }
}
