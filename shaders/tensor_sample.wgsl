// A video frame to a network's RGB input, on the GPU: the same bilinear taps, YUV matrix,
// placement and letterbox grey as the CPU's `TensorSampler` (plugins/common/src/sampler.rs),
// written as 8-bit samples, plane after plane (R, G, B), rows `row_bytes` apart. The element
// reads back only these bytes and scales them by the model's gain.
// frame_planes.wgsl is prepended.
// Bindings: 0 the sampling (uniform), 1 the frame's bytes, 2 the samples written.
// Workgroup 16x16: x four consecutive tensor columns (one 4-byte word per plane), y the row.

struct Sampling {
    planes: FramePlanes,
    matrix: YuvMatrix,
    src_w: u32,
    src_h: u32,
    dst_w: u32,
    dst_h: u32,
    row_bytes: u32,
    inner_x: u32,
    inner_y: u32,
    inner_w: u32,
    inner_h: u32,
    grey: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> s: Sampling;
@group(0) @binding(1) var<storage, read> frame_bytes: array<u32>;
@group(0) @binding(2) var<storage, read_write> samples: array<u32>;

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
    let top = frame_byte(x0 + r0) + (frame_byte(x1 + r0) - frame_byte(x0 + r0)) * xt.z;
    let bottom = frame_byte(x0 + r1) + (frame_byte(x1 + r1) - frame_byte(x0 + r1)) * xt.z;
    return top + (bottom - top) * yt.z;
}

// The RGB value of tensor pixel (tx, ty), 0..255.
fn sample(tx: u32, ty: u32) -> vec3<f32> {
    if (tx < s.inner_x || ty < s.inner_y || tx >= s.inner_x + s.inner_w || ty >= s.inner_y + s.inner_h) {
        return vec3<f32>(s.grey);
    }
    let xt = tap(tx - s.inner_x, s.src_w, s.inner_w);
    let yt = tap(ty - s.inner_y, s.src_h, s.inner_h);
    let p = s.planes;
    if (p.kind == 0u) {
        return vec3<f32>(
            bilinear(p.offset0 + p.r_byte, p.stride0, p.pixel_stride, xt, yt),
            bilinear(p.offset0 + p.g_byte, p.stride0, p.pixel_stride, xt, yt),
            bilinear(p.offset0 + p.b_byte, p.stride0, p.pixel_stride, xt, yt),
        );
    }
    // Chroma of the block the first tap lies in, unfiltered, as the CPU path takes it.
    let c = frame_chroma(p, u32(xt.x) / 2u, u32(yt.x) / 2u);
    return yuv_to_rgb(s.matrix, bilinear(p.offset0, p.stride0, 1u, xt, yt), c.x, c.y);
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
            // Rounded to the nearest level as the CPU sampler's `level` rounds.
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
