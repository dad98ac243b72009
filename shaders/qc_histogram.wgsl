// qcfingerprint: 256-bin histograms of the three planes of an 8-bit frame. One workgroup per
// (row, plane): counts into workgroup memory, then adds its non-zero bins to the frame's
// histograms. Only the 768 counts are read back; everything else follows from them on the CPU,
// exactly as the CPU path computes it.

// Per plane: byte offset in the frame, row stride in bytes, width, height.
@group(0) @binding(0) var<uniform> planes: array<vec4<u32>, 3>;
@group(0) @binding(1) var<storage, read> frame: array<u32>;
@group(0) @binding(2) var<storage, read_write> histograms: array<atomic<u32>, 768>;

var<workgroup> local_bins: array<atomic<u32>, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    atomicStore(&local_bins[lane], 0u);
    workgroupBarrier();
    let p = planes[group.z];
    let row = group.y;
    if (row < p.w) {
        let start = p.x + row * p.y;
        for (var x = lane; x < p.z; x += 256u) {
            let at = start + x;
            let v = (frame[at >> 2u] >> ((at & 3u) * 8u)) & 0xffu;
            atomicAdd(&local_bins[v], 1u);
        }
    }
    workgroupBarrier();
    let n = atomicLoad(&local_bins[lane]);
    if (n > 0u) {
        atomicAdd(&histograms[group.z * 256u + lane], n);
    }
}
