// upscale's spatial path on the GPU, frame bytes in and frame bytes out: `unpack` turns the
// uploaded frame (packed 8-bit RGB or I420) into planar RGB f32 (0..1), `easu` interpolates it
// (edge-adaptive, as FSR 1.0's EASU), `rcas` sharpens it (contrast-adaptive sharpening), and
// `pack` turns it into the output frame's bytes. The same arithmetic in the same order as the
// CPU path (common's TensorSampler at identity size, plugins/upscale/src/easu.rs and
// spatial.rs, and the element's write_frame), with the sample places made by the CPU once per
// caps.
//
// Frames are arrays of u32 words holding their bytes (little-endian), planes where GStreamer
// puts them (rows a multiple of four bytes), read and converted through frame_planes.wgsl,
// which is prepended.
//
// Bindings (group 0):
//   0 params    : uniform Params
//   1 xs        : storage read, Place per output column
//   2 ys        : storage read, Place per output row
//   3 src       : storage read_write, the input as planar RGB (3 planes of width x height)
//   4 scaled    : storage read_write, the EASU frame (3 planes of the output size)
//   5 dst       : storage read_write, the sharpened frame (3 planes of the output size)
//   6 frame_bytes : storage read, the input frame's bytes
//   7 frame_out : storage read_write, the output frame's bytes
// Workgroup: 16 x 16. unpack: one invocation per input pixel; easu, rcas: per output pixel;
// pack: per output word of a row, z = plane (I420).

struct Params {
    width: u32,
    height: u32,
    out_width: u32,
    out_height: u32,
    sharpness: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    // Where the input and output frames' planes lie (packed 8-bit RGB or I420), and the
    // Y'CbCr matrix of I420 frames.
    in_planes: FramePlanes,
    out_planes: FramePlanes,
    matrix: YuvMatrix,
}

// Where an output column or row samples the input: the four input indices around it (offsets
// -1, 0, 1, 2 from the one at or before it, clamped) and the fraction past the second.
struct Place {
    at: vec4<u32>,
    frac: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> xs: array<Place>;
@group(0) @binding(2) var<storage, read> ys: array<Place>;
@group(0) @binding(3) var<storage, read_write> src: array<f32>;
@group(0) @binding(4) var<storage, read_write> scaled: array<f32>;
@group(0) @binding(5) var<storage, read_write> dst: array<f32>;
@group(0) @binding(6) var<storage, read> frame_bytes: array<u32>;
@group(0) @binding(7) var<storage, read_write> frame_out: array<u32>;

// RCAS's limit on the negative lobe, which keeps it from ringing.
const RCAS_LIMIT: f32 = 0.1875;

// A value on the 0..255 scale rounded to a byte, as the CPU rounds.
fn round_byte(v: f32) -> u32 {
    return u32(clamp(v + 0.5, 0.0, 255.0));
}

@compute @workgroup_size(16, 16, 1)
fn unpack(@builtin(global_invocation_id) id: vec3<u32>) {
    let x = id.x;
    let y = id.y;
    if (x >= params.width || y >= params.height) {
        return;
    }
    let rgb = frame_rgb(params.in_planes, params.matrix, x, y);
    let gain = 1.0 / 255.0;
    let plane = params.width * params.height;
    let i = y * params.width + x;
    src[i] = rgb.x * gain;
    src[plane + i] = rgb.y * gain;
    src[2u * plane + i] = rgb.z * gain;
}

// How EASU's negative lobe shrinks as the edge grows stronger.
const LOBE_SLOPE: f32 = -0.29;

fn index4(v: vec4<u32>, i: u32) -> u32 {
    switch i {
        case 0u: { return v.x; }
        case 1u: { return v.y; }
        case 2u: { return v.z; }
        default: { return v.w; }
    }
}

fn luma(c: vec3<f32>) -> f32 {
    return c.z * 0.5 + (c.x * 0.5 + c.y);
}

// The gradient across one axis of a pixel and how edge-like it is (squared).
fn edge(before: f32, centre: f32, after: f32) -> vec2<f32> {
    let dir = after - before;
    let span = max(abs(after - centre), abs(centre - before));
    let strength = select(0.0, min(abs(dir) / span, 1.0), span > 0.0);
    return vec2<f32>(dir, strength * strength);
}

@compute @workgroup_size(16, 16, 1)
fn easu(@builtin(global_invocation_id) id: vec3<u32>) {
    let x = id.x;
    let y = id.y;
    if (x >= params.out_width || y >= params.out_height) {
        return;
    }
    let px = xs[x];
    let py = ys[y];
    let tx = px.frac;
    let ty = py.frac;
    let plane = params.width * params.height;
    // The twelve taps b c / e f g h / i j k l / n o as (column, row) indices into the places.
    let tap_cols = array<u32, 12>(1u, 2u, 0u, 1u, 2u, 3u, 0u, 1u, 2u, 3u, 1u, 2u);
    let tap_rows = array<u32, 12>(0u, 0u, 1u, 1u, 1u, 1u, 2u, 2u, 2u, 2u, 3u, 3u);
    var c: array<vec3<f32>, 12>;
    var l: array<f32, 12>;
    for (var k = 0u; k < 12u; k = k + 1u) {
        let at = index4(py.at, tap_rows[k]) * params.width + index4(px.at, tap_cols[k]);
        c[k] = vec3<f32>(src[at], src[plane + at], src[2u * plane + at]);
        l[k] = luma(c[k]);
    }
    // Direction and edge strength of f, g, j and k, weighted bilinearly.
    let ws = array<f32, 4>((1.0 - tx) * (1.0 - ty), tx * (1.0 - ty), (1.0 - tx) * ty, tx * ty);
    // up, left, centre, right, down of each.
    let up = array<u32, 4>(0u, 1u, 3u, 4u);
    let left = array<u32, 4>(2u, 3u, 6u, 7u);
    let centre = array<u32, 4>(3u, 4u, 7u, 8u);
    let right = array<u32, 4>(4u, 5u, 8u, 9u);
    let down = array<u32, 4>(7u, 8u, 10u, 11u);
    var dir_x = 0.0;
    var dir_y = 0.0;
    var len = 0.0;
    for (var q = 0u; q < 4u; q = q + 1u) {
        let w = ws[q];
        let ex = edge(l[left[q]], l[centre[q]], l[right[q]]);
        dir_x = dir_x + ex.x * w;
        len = len + ex.y * w;
        let ey = edge(l[up[q]], l[centre[q]], l[down[q]]);
        dir_y = dir_y + ey.x * w;
        len = len + ey.y * w;
    }
    let d2 = dir_x * dir_x + dir_y * dir_y;
    let r = 1.0 / sqrt(d2);
    let flat = (1.0 / 32768.0) > d2;
    let dx = select(dir_x * r, 1.0, flat);
    let dy = select(dir_y * r, 0.0, flat);
    let len1 = len * 0.5;
    let len2 = len1 * len1;
    let stretch = (dx * dx + dy * dy) / max(abs(dx), abs(dy));
    let sx = 1.0 + (stretch - 1.0) * len2;
    let sy = 1.0 - 0.5 * len2;
    let lobe = 0.5 + LOBE_SLOPE * len2;
    let clip = 1.0 / lobe;
    var acc = vec3<f32>(0.0);
    var total = 0.0;
    for (var k = 0u; k < 12u; k = k + 1u) {
        let ox = (f32(tap_cols[k]) - 1.0) - tx;
        let oy = (f32(tap_rows[k]) - 1.0) - ty;
        let vx = (ox * dx + oy * dy) * sx;
        let vy = (oy * dx - ox * dy) * sy;
        let d = min(vx * vx + vy * vy, clip);
        let wb = 0.4 * d - 1.0;
        let wa = lobe * d - 1.0;
        let w = (1.5625 * (wb * wb) - 0.5625) * (wa * wa);
        acc = vec3<f32>(acc.x + c[k].x * w, acc.y + c[k].y * w, acc.z + c[k].z * w);
        total = total + w;
    }
    // Within the range of the four nearest pixels.
    let lo = min(min(min(c[3], c[4]), c[7]), c[8]);
    let hi = max(max(max(c[3], c[4]), c[7]), c[8]);
    let value = min(max(acc / total, lo), hi);
    let at = y * params.out_width + x;
    let o = params.out_width * params.out_height;
    if (params.sharpness > 0.0) {
        scaled[at] = value.x;
        scaled[o + at] = value.y;
        scaled[2u * o + at] = value.z;
    } else {
        dst[at] = value.x;
        dst[o + at] = value.y;
        dst[2u * o + at] = value.z;
    }
}

@compute @workgroup_size(16, 16, 1)
fn rcas(@builtin(global_invocation_id) id: vec3<u32>) {
    let x = id.x;
    let y = id.y;
    let ow = params.out_width;
    let oh = params.out_height;
    if (x >= ow || y >= oh) {
        return;
    }
    let plane = ow * oh;
    let up = select(y - 1u, 0u, y == 0u);
    let down = min(y + 1u, oh - 1u);
    let left = select(x - 1u, 0u, x == 0u);
    let right = min(x + 1u, ow - 1u);
    var lobe = -3.4028235e38;
    var px: array<array<f32, 5>, 3>;
    for (var c = 0u; c < 3u; c = c + 1u) {
        let o = c * plane;
        let p0 = scaled[o + up * ow + x];
        let p1 = scaled[o + y * ow + left];
        let p2 = scaled[o + y * ow + right];
        let p3 = scaled[o + down * ow + x];
        let p4 = scaled[o + y * ow + x];
        px[c] = array<f32, 5>(p0, p1, p2, p3, p4);
        let mn = min(min(min(p0, p1), p2), p3);
        let mx = max(max(max(p0, p1), p2), p3);
        // How far the lobe may go before this channel leaves [mn, mx].
        let hit_min = mn / max(4.0 * mx, 1e-6);
        let hit_max = (1.0 - mx) / min(4.0 * mn - 4.0, -1e-6);
        lobe = max(lobe, max(-hit_min, hit_max));
    }
    let l = clamp(lobe, -RCAS_LIMIT, 0.0) * params.sharpness;
    let norm = 1.0 / (4.0 * l + 1.0);
    for (var c = 0u; c < 3u; c = c + 1u) {
        let p = px[c];
        dst[c * plane + y * ow + x] = clamp((l * (p[0] + p[1] + p[2] + p[3]) + p[4]) * norm, 0.0, 1.0);
    }
}

// Channel c (0..3) of output pixel i, on the 0..255 scale.
fn out_value(c: u32, i: u32) -> f32 {
    return dst[c * params.out_width * params.out_height + i] * 255.0;
}

// Y', Cb or Cr (k = 0, 1, 2) of output pixel i, in the matrix's range: the inverse of unpack's.
fn out_yuv(k: u32, i: u32) -> f32 {
    let yuv = rgb_to_yuv(params.matrix, vec3<f32>(out_value(0u, i), out_value(1u, i), out_value(2u, i)));
    return yuv[k];
}

@compute @workgroup_size(16, 16, 1)
fn pack(@builtin(global_invocation_id) id: vec3<u32>) {
    let wx = id.x;
    let y = id.y;
    let p = id.z;
    let ow = params.out_width;
    let oh = params.out_height;
    let o = params.out_planes;
    if (o.kind == 0u && o.pixel_stride == 4u) {
        // One pixel per word.
        if (p > 0u || wx >= ow || y >= oh) {
            return;
        }
        let i = y * ow + wx;
        var word = 0u;
        if (o.alpha_byte < 4u) {
            word = 255u << (8u * o.alpha_byte);
        }
        word = word | (round_byte(out_value(0u, i)) << (8u * o.r_byte));
        word = word | (round_byte(out_value(1u, i)) << (8u * o.g_byte));
        word = word | (round_byte(out_value(2u, i)) << (8u * o.b_byte));
        frame_out[plane_word(o, 0u, y, wx)] = word;
        return;
    }
    if (o.kind == 0u) {
        // Four bytes of a row of 3-byte pixels per word.
        if (p > 0u || wx >= o.stride0 / 4u || y >= oh) {
            return;
        }
        var word = 0u;
        for (var k = 0u; k < 4u; k = k + 1u) {
            let at = 4u * wx + k;
            if (at < 3u * ow) {
                let b = at % 3u;
                var c = 0u;
                if (o.g_byte == b) {
                    c = 1u;
                } else if (o.b_byte == b) {
                    c = 2u;
                }
                word = word | (round_byte(out_value(c, y * ow + at / 3u)) << (8u * k));
            }
        }
        frame_out[plane_word(o, 0u, y, wx)] = word;
        return;
    }
    // I420: four luma samples of a row per word (p = 0), or four Cb (p = 1) or Cr (p = 2)
    // samples, each the mean of its 2x2 block.
    let stride = plane_place(o, p).y;
    let cw = (ow + 1u) / 2u;
    let ch = (oh + 1u) / 2u;
    let width = select(ow, cw, p > 0u);
    let height = select(oh, ch, p > 0u);
    if (wx >= stride / 4u || y >= height) {
        return;
    }
    var word = 0u;
    for (var k = 0u; k < 4u; k = k + 1u) {
        let x = 4u * wx + k;
        if (x < width) {
            var v = 0u;
            if (p == 0u) {
                v = round_byte(out_yuv(0u, y * ow + x));
            } else {
                var sum = 0.0;
                var n = 0.0;
                for (var d = 0u; d < 4u; d = d + 1u) {
                    let yy = 2u * y + d / 2u;
                    let xx = 2u * x + d % 2u;
                    if (yy < oh && xx < ow) {
                        sum = sum + out_yuv(p, yy * ow + xx);
                        n = n + 1.0;
                    }
                }
                v = round_byte(sum / n);
            }
            word = word | (v << (8u * k));
        }
    }
    frame_out[plane_word(o, p, y, wx)] = word;
}
