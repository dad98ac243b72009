// YUV 4:2:0 to packed pixels: every pixel of the uploaded rows [read0, read1) becomes
// (Y, U, V, 255) in `frame` and `out`, each pixel of a 2×2 block carrying the block's chroma
// (see plugins/gpublur/src/planar.rs, which the CPU path runs).
// Bindings: 0 params (uniform), 1 regions, 3 frame (read_write), 5 out (read_write),
//           6 planes (uniform), 7 raw (read): the planes as the buffer holds them.
// Workgroup 16×16: x the column, y the row from read0.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> regions: array<Region>;
@group(0) @binding(3) var<storage, read_write> frame: array<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<u32>;
@group(0) @binding(6) var<uniform> planes: Planes;
@group(0) @binding(7) var<storage, read> raw: array<u32>;

fn raw_byte(o: u32) -> u32 {
    return (raw[o >> 2u] >> ((o & 3u) * 8u)) & 0xffu;
}

// Byte offsets of the U and V samples of chroma (cx, cy).
fn chroma_offsets(cx: u32, cy: u32) -> vec2<u32> {
    if (planes.interleaved != 0u) {
        let o = planes.u_offset + cy * planes.u_stride + 2u * cx;
        return vec2<u32>(o, o + 1u);
    }
    return vec2<u32>(planes.u_offset + cy * planes.u_stride + cx, planes.v_offset + cy * planes.v_stride + cx);
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let x = gid.x;
    let y = planes.read0 + gid.y;
    if (x >= params.width || y >= planes.read1) {
        return;
    }
    let luma = raw_byte(planes.luma_offset + y * planes.luma_stride + x);
    let uv = chroma_offsets(x / 2u, y / 2u);
    let px = luma | (raw_byte(uv.x) << 8u) | (raw_byte(uv.y) << 16u) | (255u << 24u);
    let i = y * params.stride + x;
    frame[i] = px;
    out[i] = px;
}
