// Shared declarations of the gpublur passes; prepended to each pass file before compiling.
//
// Frames are packed 4-byte pixels (RGBA family), one u32 per pixel, rows `stride` u32 apart.
// A region is an integer box [x0, y0, x1, y1) clamped to the frame, plus its ellipse
// (centre, radii) used when `shape` is 1.

struct Params {
    width: u32,
    height: u32,
    stride: u32,
    n_regions: u32,
    radius: u32,
    block: u32,
    alpha_index: u32,
    shape: u32,
    blocks_w: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

struct Region {
    bbox: vec4<i32>,
    ellipse: vec4<f32>,
}

fn unpack_px(p: u32) -> vec4<f32> {
    return unpack4x8unorm(p) * 255.0;
}

fn pack_px(v: vec4<f32>) -> u32 {
    // floor(v + 0.5) like the CPU path, then exact conversion.
    let r = clamp(floor(v + vec4<f32>(0.5)), vec4<f32>(0.0), vec4<f32>(255.0));
    return u32(r.x) | (u32(r.y) << 8u) | (u32(r.z) << 16u) | (u32(r.w) << 24u);
}

fn in_mask(reg: Region, shape: u32, x: i32, y: i32) -> bool {
    if (x < reg.bbox.x || y < reg.bbox.y || x >= reg.bbox.z || y >= reg.bbox.w) {
        return false;
    }
    if (shape == 0u) {
        return true;
    }
    let d = (vec2<f32>(f32(x), f32(y)) + vec2<f32>(0.5) - reg.ellipse.xy) / max(reg.ellipse.zw, vec2<f32>(0.5));
    return dot(d, d) <= 1.0;
}
