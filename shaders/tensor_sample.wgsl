// A video frame to a network's RGB input, on the GPU: the same bilinear taps, YUV matrix,
// placement and letterbox grey as the CPU's `TensorSampler` (plugins/common/src/sampler.rs),
// written as 8-bit samples, plane after plane (R, G, B), rows `row_bytes` apart. The element
// reads back only these bytes and scales them by the model's gain.
// Bindings: 0 the sampling (uniform), 1 the frame's bytes, 2 the samples written.
// Workgroup 16x16: x four consecutive tensor columns (one 4-byte word per plane), y the row.

struct Sampling {
    // 0 packed RGB, 1 planar 4:2:0 (I420, YV12), 2 semi-planar 4:2:0 (NV12).
    kind: u32,
    // Packed: the plane; 4:2:0: the luma plane.
    offset0: u32,
    stride0: u32,
    pixel_stride: u32,
    // 4:2:0 chroma: the U plane (or the UV plane) and the V plane.
    u_offset: u32,
    u_stride: u32,
    v_offset: u32,
    v_stride: u32,
    // Packed: bytes of R, G and B inside a pixel.
    r_byte: u32,
    g_byte: u32,
    b_byte: u32,
    src_w: u32,
    src_h: u32,
    dst_w: u32,
    dst_h: u32,
    row_bytes: u32,
    inner_x: u32,
    inner_y: u32,
    inner_w: u32,
    inner_h: u32,
    // YuvMatrix::coefficients.
    y_offset: f32,
    y_scale: f32,
    c_scale: f32,
    r_cr: f32,
    g_cb: f32,
    g_cr: f32,
    b_cb: f32,
    grey: f32,
}

@group(0) @binding(0) var<uniform> s: Sampling;
@group(0) @binding(1) var<storage, read> frame: array<u32>;
@group(0) @binding(2) var<storage, read_write> samples: array<u32>;

fn byte_at(o: u32) -> f32 {
    return f32((frame[o >> 2u] >> ((o & 3u) * 8u)) & 0xffu);
}

// One axis' tap: the two source indices and the weight of the second, as `taps` computes.
fn tap(d: u32, src: u32, dst: u32) -> vec3<f32> {
    let scale = f32(src) / f32(dst);
    let p = clamp((f32(d) + 0.5) * scale - 0.5, 0.0, f32(src - 1u));
    let i0 = floor(p);
    return vec3<f32>(i0, min(i0 + 1.0, f32(src - 1u)), p - i0);
}

fn bilinear(base: u32, stride: u32, step: u32, xt: vec3<f32>, yt: vec3<f32>) -> f32 {
    let x0 = base + u32(xt.x) * step;
    let x1 = base + u32(xt.y) * step;
    let r0 = u32(yt.x) * stride;
    let r1 = u32(yt.y) * stride;
    let top = byte_at(x0 + r0) + (byte_at(x1 + r0) - byte_at(x0 + r0)) * xt.z;
    let bottom = byte_at(x0 + r1) + (byte_at(x1 + r1) - byte_at(x0 + r1)) * xt.z;
    return top + (bottom - top) * yt.z;
}

fn yuv_rgb(y: f32, u: f32, v: f32) -> vec3<f32> {
    let l = (y - s.y_offset) * s.y_scale;
    let cb = (u - 128.0) * s.c_scale;
    let cr = (v - 128.0) * s.c_scale;
    return clamp(
        vec3<f32>(l + s.r_cr * cr, l + s.g_cb * cb + s.g_cr * cr, l + s.b_cb * cb),
        vec3<f32>(0.0),
        vec3<f32>(255.0),
    );
}

// The RGB value of tensor pixel (tx, ty), 0..255.
fn sample(tx: u32, ty: u32) -> vec3<f32> {
    if (tx < s.inner_x || ty < s.inner_y || tx >= s.inner_x + s.inner_w || ty >= s.inner_y + s.inner_h) {
        return vec3<f32>(s.grey);
    }
    let xt = tap(tx - s.inner_x, s.src_w, s.inner_w);
    let yt = tap(ty - s.inner_y, s.src_h, s.inner_h);
    if (s.kind == 0u) {
        return vec3<f32>(
            bilinear(s.offset0 + s.r_byte, s.stride0, s.pixel_stride, xt, yt),
            bilinear(s.offset0 + s.g_byte, s.stride0, s.pixel_stride, xt, yt),
            bilinear(s.offset0 + s.b_byte, s.stride0, s.pixel_stride, xt, yt),
        );
    }
    let luma = bilinear(s.offset0, s.stride0, 1u, xt, yt);
    // Chroma of the block the first tap lies in, unfiltered, as the CPU path takes it.
    let cx = u32(xt.x) / 2u;
    let cy = u32(yt.x) / 2u;
    if (s.kind == 1u) {
        return yuv_rgb(luma, byte_at(s.u_offset + cy * s.u_stride + cx), byte_at(s.v_offset + cy * s.v_stride + cx));
    }
    let c = s.u_offset + cy * s.u_stride + 2u * cx;
    return yuv_rgb(luma, byte_at(c), byte_at(c + 1u));
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let words = s.row_bytes / 4u;
    let ty = gid.y;
    if (gid.x >= words || ty >= s.dst_h) {
        return;
    }
    var r = 0u;
    var g = 0u;
    var b = 0u;
    for (var k = 0u; k < 4u; k++) {
        let tx = gid.x * 4u + k;
        if (tx < s.dst_w) {
            // Rounded to the nearest level as `pixels` rounds.
            let v = vec3<u32>(clamp(floor(sample(tx, ty) + vec3<f32>(0.5)), vec3<f32>(0.0), vec3<f32>(255.0)));
            r |= v.x << (k * 8u);
            g |= v.y << (k * 8u);
            b |= v.z << (k * 8u);
        }
    }
    let plane = s.dst_h * words;
    let i = ty * words + gid.x;
    samples[i] = r;
    samples[plane + i] = g;
    samples[2u * plane + i] = b;
}
