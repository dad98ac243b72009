// Packed pixels back to YUV 4:2:0: the words of the planes' rows that luma rows
// [write0, write1) cover are rebuilt from `out`, luma from every pixel and each block's chroma
// from its top-left pixel; bytes past the row's end keep their uploaded value.
// Bindings: 0 params (uniform), 1 regions, 5 out (read), 6 planes (uniform),
//           7 frame_bytes (read_write).
// Workgroup 16×16: x the 4-byte word of the row, y the row, z the plane (0 Y, 1 U or UV, 2 V).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> regions: array<Region>;
@group(0) @binding(5) var<storage, read> out: array<u32>;
@group(0) @binding(6) var<uniform> planes: Planes;
@group(0) @binding(7) var<storage, read_write> frame_bytes: array<u32>;

// Byte `component` (0 Y, 1 U, 2 V) of the packed pixel (x, y).
fn component(x: u32, y: u32, c: u32) -> u32 {
    return (out[y * params.stride + x] >> (c * 8u)) & 0xffu;
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let plane = gid.z;
    let cw = (params.width + 1u) / 2u;
    let f = planes.frame;
    let interleaved = f.kind == 2u;
    var word: u32;
    var value = 0u;
    var keep = 0u;
    if (plane == 0u) {
        let y = planes.write0 + gid.y;
        if (y >= planes.write1 || gid.x * 4u >= params.width) {
            return;
        }
        word = plane_word(f, 0u, y, gid.x);
        for (var k = 0u; k < 4u; k++) {
            let x = gid.x * 4u + k;
            if (x < params.width) {
                value |= component(x, y, 0u) << (k * 8u);
            } else {
                keep |= 0xffu << (k * 8u);
            }
        }
    } else {
        if (plane == 2u && interleaved) {
            return;
        }
        // Chroma rows whose top-left luma row is even and inside the band.
        let cy = (planes.write0 + 1u) / 2u + gid.y;
        if (cy * 2u >= planes.write1) {
            return;
        }
        if (interleaved) {
            if (gid.x * 2u >= cw) {
                return;
            }
            word = plane_word(f, 1u, cy, gid.x);
            for (var k = 0u; k < 4u; k++) {
                let cx = gid.x * 2u + k / 2u;
                if (cx < cw) {
                    value |= component(cx * 2u, cy * 2u, 1u + k % 2u) << (k * 8u);
                } else {
                    keep |= 0xffu << (k * 8u);
                }
            }
        } else {
            if (gid.x * 4u >= cw) {
                return;
            }
            word = plane_word(f, plane, cy, gid.x);
            for (var k = 0u; k < 4u; k++) {
                let cx = gid.x * 4u + k;
                if (cx < cw) {
                    value |= component(cx * 2u, cy * 2u, plane) << (k * 8u);
                } else {
                    keep |= 0xffu << (k * 8u);
                }
            }
        }
    }
    frame_bytes[word] = value | (frame_bytes[word] & keep);
}
