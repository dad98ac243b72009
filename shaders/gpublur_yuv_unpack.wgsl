// YUV 4:2:0 to packed pixels: every pixel of the uploaded rows [read0, read1) becomes
// (Y, U, V, 255) in `frame` and `out`, each pixel of a 2×2 block carrying the block's chroma
// (see plugins/gpublur/src/planar.rs, which the CPU path runs).
// Bindings: 0 params (uniform), 1 regions, 3 frame (read_write), 5 out (read_write),
//           6 planes (uniform), 7 frame_bytes (read): the planes as the buffer holds them.
// Workgroup 16×16: x the column, y the row from read0.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> regions: array<Region>;
@group(0) @binding(3) var<storage, read_write> frame: array<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<u32>;
@group(0) @binding(6) var<uniform> planes: Planes;
@group(0) @binding(7) var<storage, read> frame_bytes: array<u32>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let x = gid.x;
    let y = planes.read0 + gid.y;
    if (x >= params.width || y >= planes.read1) {
        return;
    }
    let luma = u32(frame_luma(planes.frame, x, y));
    let uv = vec2<u32>(frame_chroma(planes.frame, x / 2u, y / 2u));
    let px = luma | (uv.x << 8u) | (uv.y << 16u) | (255u << 24u);
    let i = y * params.stride + x;
    frame[i] = px;
    out[i] = px;
}
