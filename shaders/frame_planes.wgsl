// Where a frame's planes lie and how its colours convert: the one description every GPU pass of
// the collection reads frames through (plugins/common/src/planes.rs writes these structs).
// Prepended to a pass's source; the pass declares the frame's bytes as
//   var<storage, ...> frame_bytes: array<u32>;
// (little-endian words, planes at the offsets below).

struct FramePlanes {
    // 0 packed RGB, 1 planar 4:2:0 (I420, YV12), 2 semi-planar 4:2:0 (NV12).
    kind: u32,
    // Packed: the plane; 4:2:0: the luma plane. Byte offset and row stride.
    offset0: u32,
    stride0: u32,
    // Packed: bytes per pixel; 4:2:0: 1.
    pixel_stride: u32,
    // 4:2:0: the U plane (NV12: the UV plane) and the V plane.
    u_offset: u32,
    u_stride: u32,
    v_offset: u32,
    v_stride: u32,
    // Packed: bytes of R, G, B and of alpha or padding (4: none) inside a pixel.
    r_byte: u32,
    g_byte: u32,
    b_byte: u32,
    alpha_byte: u32,
}

// Y'CbCr <-> R'G'B' in one matrix and range (YuvMatrix::coefficients).
struct YuvMatrix {
    y_offset: f32,
    y_scale: f32,
    c_scale: f32,
    r_cr: f32,
    g_cb: f32,
    g_cr: f32,
    b_cb: f32,
    _pad: f32,
}

fn frame_byte(o: u32) -> f32 {
    return f32((frame_bytes[o >> 2u] >> ((o & 3u) * 8u)) & 0xffu);
}

// Luma of pixel (x, y) of a 4:2:0 frame.
fn frame_luma(p: FramePlanes, x: u32, y: u32) -> f32 {
    return frame_byte(p.offset0 + y * p.stride0 + x);
}

// Byte offset and row stride of plane k: 0 the packed or luma plane, 1 U (NV12: UV), 2 V.
fn plane_place(p: FramePlanes, k: u32) -> vec2<u32> {
    if (k == 1u) {
        return vec2<u32>(p.u_offset, p.u_stride);
    }
    if (k == 2u) {
        return vec2<u32>(p.v_offset, p.v_stride);
    }
    return vec2<u32>(p.offset0, p.stride0);
}

// Index among the frame's words of word w of row `row` of plane k, for passes that write frames
// a word at a time (offsets and strides are multiples of 4).
fn plane_word(p: FramePlanes, k: u32, row: u32, w: u32) -> u32 {
    let place = plane_place(p, k);
    return (place.x + row * place.y) / 4u + w;
}

// U and V of chroma sample (cx, cy) of a 4:2:0 frame.
fn frame_chroma(p: FramePlanes, cx: u32, cy: u32) -> vec2<f32> {
    if (p.kind == 2u) {
        let o = p.u_offset + cy * p.u_stride + 2u * cx;
        return vec2<f32>(frame_byte(o), frame_byte(o + 1u));
    }
    return vec2<f32>(frame_byte(p.u_offset + cy * p.u_stride + cx), frame_byte(p.v_offset + cy * p.v_stride + cx));
}

// R, G, B (0..255, clamped) of Y', Cb, Cr.
fn yuv_to_rgb(m: YuvMatrix, y: f32, u: f32, v: f32) -> vec3<f32> {
    let l = (y - m.y_offset) * m.y_scale;
    let cb = (u - 128.0) * m.c_scale;
    let cr = (v - 128.0) * m.c_scale;
    return clamp(
        vec3<f32>(l + m.r_cr * cr, l + m.g_cb * cb + m.g_cr * cr, l + m.b_cb * cb),
        vec3<f32>(0.0),
        vec3<f32>(255.0),
    );
}

// Y', Cb, Cr of R, G, B (0..255), in the matrix's range: yuv_to_rgb's inverse (before its clamp).
fn rgb_to_yuv(m: YuvMatrix, rgb: vec3<f32>) -> vec3<f32> {
    let kr = 1.0 - m.r_cr / 2.0;
    let kb = 1.0 - m.b_cb / 2.0;
    let luma = kr * rgb.x + (1.0 - kr - kb) * rgb.y + kb * rgb.z;
    return vec3<f32>(
        luma / m.y_scale + m.y_offset,
        (rgb.z - luma) / m.b_cb / m.c_scale + 128.0,
        (rgb.x - luma) / m.r_cr / m.c_scale + 128.0,
    );
}

// R, G, B (0..255) of pixel (x, y): a packed pixel's bytes, or its luma with the chroma of its
// 2x2 block.
fn frame_rgb(p: FramePlanes, m: YuvMatrix, x: u32, y: u32) -> vec3<f32> {
    if (p.kind == 0u) {
        let base = p.offset0 + y * p.stride0 + x * p.pixel_stride;
        return vec3<f32>(frame_byte(base + p.r_byte), frame_byte(base + p.g_byte), frame_byte(base + p.b_byte));
    }
    let c = frame_chroma(p, x / 2u, y / 2u);
    return yuv_to_rgb(m, frame_luma(p, x, y), c.x, c.y);
}
