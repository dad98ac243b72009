// upscale's spatial path on the GPU, frame bytes in and frame bytes out: `unpack` turns the
// uploaded frame (packed 8-bit RGB or I420) into planar RGB f32 (0..1), `bicubic` interpolates
// it (Catmull-Rom), `rcas` sharpens it (contrast-adaptive sharpening), and `pack` turns it into
// the output frame's bytes. The same arithmetic in the same order as the CPU path
// (common's TensorSampler at identity size, plugins/upscale/src/spatial.rs, and the element's
// write_frame), with the taps made by the CPU once per caps.
//
// Frames are arrays of u32 words holding their bytes (little-endian), planes one after the
// other, each row a multiple of four bytes.
//
// Bindings (group 0):
//   0 params    : uniform Params
//   1 xs        : storage read, Tap per output column
//   2 ys        : storage read, Tap per output row
//   3 src       : storage read_write, the input as planar RGB (3 planes of width x height)
//   4 scaled    : storage read_write, the bicubic frame (3 planes of the output size)
//   5 dst       : storage read_write, the sharpened frame (3 planes of the output size)
//   6 frame_in  : storage read, the input frame's bytes
//   7 frame_out : storage read_write, the output frame's bytes
// Workgroup: 16 x 16. unpack: one invocation per input pixel; bicubic: per output pixel,
// z = colour plane; rcas: per output pixel; pack: per output word of a row, z = plane (I420).

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

struct Tap {
    at: vec4<u32>,
    weight: vec4<f32>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> xs: array<Tap>;
@group(0) @binding(2) var<storage, read> ys: array<Tap>;
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

// One input row of plane `c` sampled at output column `x` through its four taps.
fn across(c: u32, row: u32, t: Tap) -> f32 {
    let base = (c * params.height + row) * params.width;
    // The CPU path sums from zero in this order.
    var v = 0.0;
    v = v + src[base + t.at.x] * t.weight.x;
    v = v + src[base + t.at.y] * t.weight.y;
    v = v + src[base + t.at.z] * t.weight.z;
    v = v + src[base + t.at.w] * t.weight.w;
    return v;
}

@compute @workgroup_size(16, 16, 1)
fn bicubic(@builtin(global_invocation_id) id: vec3<u32>) {
    let x = id.x;
    let y = id.y;
    let c = id.z;
    if (x >= params.out_width || y >= params.out_height || c >= 3u) {
        return;
    }
    let tx = xs[x];
    let ty = ys[y];
    let a = across(c, ty.at.x, tx);
    let b = across(c, ty.at.y, tx);
    let cc = across(c, ty.at.z, tx);
    let d = across(c, ty.at.w, tx);
    let w = ty.weight;
    let v = a * w.x + b * w.y + cc * w.z + d * w.w;
    let at = (c * params.out_height + y) * params.out_width + x;
    let value = clamp(v, 0.0, 1.0);
    if (params.sharpness > 0.0) {
        scaled[at] = value;
    } else {
        dst[at] = value;
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
