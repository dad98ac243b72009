// qcfingerprint: the freeze detector's difference, per row of each plane: the sum of absolute
// differences between the frame and the reference frame (both laid out alike). One workgroup
// per (row, plane); integer sums, so the CPU path's mean follows exactly.

// Per plane: byte offset in the frame, row stride in bytes, width, height.
@group(0) @binding(0) var<uniform> planes: array<vec4<u32>, 3>;
@group(0) @binding(1) var<storage, read> frame: array<u32>;
@group(0) @binding(2) var<storage, read> reference: array<u32>;
// Row sums, plane after plane, `rows` (the tallest plane's height) apart.
@group(0) @binding(3) var<storage, read_write> row_sums: array<u32>;

var<workgroup> total: atomic<u32>;

fn byte_of(word: u32, at: u32) -> u32 {
    return (word >> ((at & 3u) * 8u)) & 0xffu;
}

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    if (lane == 0u) {
        atomicStore(&total, 0u);
    }
    workgroupBarrier();
    let p = planes[group.z];
    let row = group.y;
    var sum = 0u;
    if (row < p.w) {
        let start = p.x + row * p.y;
        for (var x = lane; x < p.z; x += 256u) {
            let at = start + x;
            let a = byte_of(frame[at >> 2u], at);
            let b = byte_of(reference[at >> 2u], at);
            sum += max(a, b) - min(a, b);
        }
    }
    atomicAdd(&total, sum);
    workgroupBarrier();
    if (lane == 0u) {
        row_sums[group.z * groups.y + row] = atomicLoad(&total);
    }
}
