// Shared declarations of the gpublur passes; prepended to each pass file before compiling.
// Every pass declares bindings 0 (params) and 1 (regions), which `coverage` reads.
//
// Frames are packed 4-byte pixels (RGBA family), one u32 per pixel, rows `stride` u32 apart.
// A region is an integer box [x0, y0, x1, y1) clamped to the frame, plus its ellipse
// (centre, radii) used when `shape` is 1. The uploaded frame is never written: passes write
// `out`, a copy of the rows they change, so every invocation reads original pixels.

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
    // Width in pixels of the soft edge inside each mask (0: hard edge).
    feather: f32,
    blocks_h: u32,
    // Bokeh disc radius in blocks.
    disc: f32,
    // The solid mode's colour, a packed pixel (its alpha byte unused: alpha is kept).
    black: u32,
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

// How far inside `reg`'s mask pixel (x, y) lies, in pixels (0 or less: outside).
fn edge_distance(reg: Region, shape: u32, x: i32, y: i32) -> f32 {
    if (!in_mask(reg, shape, x, y)) {
        return 0.0;
    }
    let p = vec2<f32>(f32(x), f32(y)) + vec2<f32>(0.5);
    if (shape == 0u) {
        let lo = p - vec2<f32>(reg.bbox.xy);
        let hi = vec2<f32>(reg.bbox.zw) - p;
        return min(min(lo.x, lo.y), min(hi.x, hi.y));
    }
    let r = max(reg.ellipse.zw, vec2<f32>(0.5));
    let d = length((p - reg.ellipse.xy) / r);
    return (1.0 - d) * min(r.x, r.y);
}

// Blend weight of the effect at (x, y), a pixel inside at least one mask: 1 with a hard edge,
// else the largest over all regions of the distance inside the mask over the feather width.
fn coverage(x: i32, y: i32) -> f32 {
    if (params.feather <= 0.0) {
        return 1.0;
    }
    var a = 0.0;
    for (var i = 0u; i < params.n_regions; i++) {
        a = max(a, clamp(edge_distance(regions[i], params.shape, x, y) / params.feather, 0.0, 1.0));
    }
    return a;
}

// The pixel written at (x, y): the effect blended over the original by `coverage`.
fn blend(original: u32, effect: vec4<f32>, x: i32, y: i32) -> u32 {
    let a = coverage(x, y);
    if (a >= 1.0) {
        return pack_px(effect);
    }
    let src = unpack_px(original);
    return pack_px(src + (effect - src) * a);
}

// The blocks (side `params.block`) a region's box touches, widened by `e` blocks and clamped to
// the block grid: [bx0, by0, bx1, by1).
fn block_range(reg: Region, e: i32) -> vec4<i32> {
    let f = i32(params.block);
    let lo = reg.bbox.xy / f - vec2<i32>(e);
    let hi = (reg.bbox.zw - vec2<i32>(1)) / f + vec2<i32>(1 + e);
    let grid = vec2<i32>(i32(params.blocks_w), i32(params.blocks_h));
    return vec4<i32>(max(lo, vec2<i32>(0)), min(hi, grid));
}
