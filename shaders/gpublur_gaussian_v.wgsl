// Pass 2 of the separable gaussian: vertical blur of `tmp`, blended into `out` at the pixels
// inside each region's mask; every other pixel of `out` keeps its copied value.
// Bindings: 0 params (uniform), 1 regions, 2 weights, 3 frame (read), 4 tmp (read),
//           5 out (read_write).
// Workgroup 16×16; global id z is the region index.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> regions: array<Region>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read> frame: array<u32>;
@group(0) @binding(4) var<storage, read> tmp: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> out: array<u32>;

fn load_tmp(x: i32, y: i32) -> vec4<f32> {
    let yc = clamp(y, 0, i32(params.height) - 1);
    return tmp[u32(yc) * params.width + u32(x)];
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if (gid.z >= params.n_regions) {
        return;
    }
    let reg = regions[gid.z];
    let x = reg.bbox.x + i32(gid.x);
    let y = reg.bbox.y + i32(gid.y);
    if (!in_mask(reg, params.shape, x, y)) {
        return;
    }
    let r = i32(params.radius);
    var acc = load_tmp(x, y) * weights[0];
    for (var i = 1; i <= r; i++) {
        acc += (load_tmp(x, y - i) + load_tmp(x, y + i)) * weights[i];
    }
    let i = u32(y) * params.stride + u32(x);
    out[i] = blend(frame[i], acc, x, y);
}
