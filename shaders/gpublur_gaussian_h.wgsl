// Pass 1 of the separable gaussian: horizontal blur of each region's box widened by the radius
// vertically, from the frame into `tmp` (vec4<f32> per pixel, frame-sized, width-strided).
// Bindings: 0 params (uniform), 1 regions, 2 weights (half kernel, weights[0] = centre),
//           3 frame (read), 4 tmp (read_write).
// Workgroup 16×16; global id z is the region index.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> regions: array<Region>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read> frame: array<u32>;
@group(0) @binding(4) var<storage, read_write> tmp: array<vec4<f32>>;

fn load(x: i32, y: i32) -> vec4<f32> {
    let xc = clamp(x, 0, i32(params.width) - 1);
    return unpack_px(frame[u32(y) * params.stride + u32(xc)]);
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if (gid.z >= params.n_regions) {
        return;
    }
    let reg = regions[gid.z];
    let r = i32(params.radius);
    let y_start = max(reg.bbox.y - r, 0);
    let y_end = min(reg.bbox.w + r, i32(params.height));
    let x = reg.bbox.x + i32(gid.x);
    let y = y_start + i32(gid.y);
    if (x >= reg.bbox.z || y >= y_end) {
        return;
    }
    var acc = load(x, y) * weights[0];
    for (var i = 1; i <= r; i++) {
        acc += (load(x - i, y) + load(x + i, y)) * weights[i];
    }
    tmp[u32(y) * params.width + u32(x)] = acc;
}
