// upscale's spatial path on the GPU, frame bytes in and frame bytes out: `unpack` turns the
// uploaded frame (packed 8-bit RGB or I420) into planar RGB f32 (0..1), `easu` interpolates it
// (edge-adaptive, as FSR 1.0's EASU), `rcas` sharpens it (contrast-adaptive sharpening), and
// `pack` turns it into the output frame's bytes. The same arithmetic in the same order as the
// CPU path (common's TensorSampler at identity size, plugins/upscale/src/easu.rs and
// spatial.rs, and the element's write_frame), with the sample places made by the CPU once per
// caps.
//
// Frames are arrays of u32 words holding their bytes (little-endian), planes one after the
// other, each row a multiple of four bytes.
//
// Bindings (group 0):
//   0 params    : uniform Params
//   1 xs        : storage read, Place per output column
//   2 ys        : storage read, Place per output row
//   3 src       : storage read_write, the input as planar RGB (3 planes of width x height)
//   4 scaled    : storage read_write, the EASU frame (3 planes of the output size)
//   5 dst       : storage read_write, the sharpened frame (3 planes of the output size)
//   6 frame_in  : storage read, the input frame's bytes
//   7 frame_out : storage read_write, the output frame's bytes
// Workgroup: 16 x 16. unpack: one invocation per input pixel; easu, rcas: per output pixel;
// pack: per output word of a row, z = plane (I420).

struct Params {
    width: u32,
    height: u32,
    out_width: u32,
    out_height: u32,
    sharpness: f32,
    // 0: 4-byte packed RGB, 1: 3-byte packed RGB, 2: I420.
    kind: u32,
    // Byte offset of alpha (or padding) in a 4-byte pixel; 4: none.
    alpha: u32,
    _pad: u32,
    // Byte offsets of R, G and B in a packed pixel.
    offsets: vec4<u32>,
    // Byte offset and row stride of each plane of the input and output frames.
    in_planes: vec4<u32>,
    in_strides: vec4<u32>,
    out_planes: vec4<u32>,
    out_strides: vec4<u32>,
    // Y'CbCr: luma offset, luma scale, chroma scale, Cr weight of R; Cb and Cr weights of G,
    // Cb weight of B.
    matrix0: vec4<f32>,
    matrix1: vec4<f32>,
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
@group(0) @binding(6) var<storage, read> frame_in: array<u32>;
@group(0) @binding(7) var<storage, read_write> frame_out: array<u32>;

// RCAS's limit on the negative lobe, which keeps it from ringing.
const RCAS_LIMIT: f32 = 0.1875;

fn byte_in(i: u32) -> f32 {
    return f32((frame_in[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu);
}

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
    var rgb: vec3<f32>;
    if (params.kind == 2u) {
        let l = byte_in(params.in_planes.x + y * params.in_strides.x + x);
        let u = byte_in(params.in_planes.y + (y / 2u) * params.in_strides.y + x / 2u);
        let v = byte_in(params.in_planes.z + (y / 2u) * params.in_strides.z + x / 2u);
        let m0 = params.matrix0;
        let m1 = params.matrix1;
        let yy = (l - m0.x) * m0.y;
        let cb = (u - 128.0) * m0.z;
        let cr = (v - 128.0) * m0.z;
        rgb = vec3<f32>(
            clamp(yy + m0.w * cr, 0.0, 255.0),
            clamp(yy + m1.x * cb + m1.y * cr, 0.0, 255.0),
            clamp(yy + m1.z * cb, 0.0, 255.0),
        );
    } else {
        let step = select(3u, 4u, params.kind == 0u);
        let base = params.in_planes.x + y * params.in_strides.x + x * step;
        rgb = vec3<f32>(
            byte_in(base + params.offsets.x),
            byte_in(base + params.offsets.y),
            byte_in(base + params.offsets.z),
        );
    }
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
    let r = out_value(0u, i);
    let g = out_value(1u, i);
    let b = out_value(2u, i);
    let m0 = params.matrix0;
    let m1 = params.matrix1;
    let kr = 1.0 - m0.w / 2.0;
    let kb = 1.0 - m1.z / 2.0;
    let luma = kr * r + (1.0 - kr - kb) * g + kb * b;
    if (k == 0u) {
        return luma / m0.y + m0.x;
    }
    if (k == 1u) {
        return (b - luma) / m1.z / m0.z + 128.0;
    }
    return (r - luma) / m0.w / m0.z + 128.0;
}

@compute @workgroup_size(16, 16, 1)
fn pack(@builtin(global_invocation_id) id: vec3<u32>) {
    let wx = id.x;
    let y = id.y;
    let p = id.z;
    let ow = params.out_width;
    let oh = params.out_height;
    if (params.kind == 0u) {
        // One pixel per word.
        if (p > 0u || wx >= ow || y >= oh) {
            return;
        }
        let i = y * ow + wx;
        var word = 0u;
        if (params.alpha < 4u) {
            word = 255u << (8u * params.alpha);
        }
        word = word | (round_byte(out_value(0u, i)) << (8u * params.offsets.x));
        word = word | (round_byte(out_value(1u, i)) << (8u * params.offsets.y));
        word = word | (round_byte(out_value(2u, i)) << (8u * params.offsets.z));
        frame_out[(params.out_planes.x + y * params.out_strides.x) / 4u + wx] = word;
        return;
    }
    if (params.kind == 1u) {
        // Four bytes of a row of 3-byte pixels per word.
        if (p > 0u || wx >= params.out_strides.x / 4u || y >= oh) {
            return;
        }
        var word = 0u;
        for (var k = 0u; k < 4u; k = k + 1u) {
            let at = 4u * wx + k;
            if (at < 3u * ow) {
                let o = at % 3u;
                var c = 0u;
                if (params.offsets.y == o) {
                    c = 1u;
                } else if (params.offsets.z == o) {
                    c = 2u;
                }
                word = word | (round_byte(out_value(c, y * ow + at / 3u)) << (8u * k));
            }
        }
        frame_out[(params.out_planes.x + y * params.out_strides.x) / 4u + wx] = word;
        return;
    }
    // I420: four luma samples of a row per word (p = 0), or four Cb (p = 1) or Cr (p = 2)
    // samples, each the mean of its 2x2 block.
    let stride = select(params.out_strides.x, select(params.out_strides.z, params.out_strides.y, p == 1u), p > 0u);
    let base = select(params.out_planes.x, select(params.out_planes.z, params.out_planes.y, p == 1u), p > 0u);
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
    frame_out[base / 4u + y * (stride / 4u) + wx] = word;
}
