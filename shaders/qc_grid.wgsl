// qcfingerprint: the fingerprint's 32x32 grid of luma sums, from the same samples as the CPU
// path (every `steps.x`-th column of every `steps.y`-th row, each adding to the cell that
// `column_cell`/`row_cell` name). Integer sums, so both paths hash the same grid.
// One workgroup per sampled row; lanes stride over the sampled columns.

// Luma plane: byte offset, row stride, width, height.
@group(0) @binding(0) var<uniform> luma: vec4<u32>;
// Sampling steps (x, y) and the counts of sampled columns and rows.
@group(0) @binding(1) var<uniform> steps: vec4<u32>;
@group(0) @binding(2) var<storage, read> frame: array<u32>;
@group(0) @binding(3) var<storage, read> column_cell: array<u32>;
@group(0) @binding(4) var<storage, read> row_cell: array<u32>;
@group(0) @binding(5) var<storage, read_write> sums: array<atomic<u32>, 1024>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let r = group.x;
    let y = r * steps.y;
    if (r >= steps.w || y >= luma.w) {
        return;
    }
    let cy = row_cell[r];
    let start = luma.x + y * luma.y;
    for (var i = lane; i < steps.z; i += 256u) {
        let x = i * steps.x;
        if (x < luma.z) {
            let at = start + x;
            let v = (frame[at >> 2u] >> ((at & 3u) * 8u)) & 0xffu;
            atomicAdd(&sums[cy * 32u + column_cell[i]], v);
        }
    }
}
