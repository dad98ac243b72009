// Block means (pyramid pass 1, and the mosaic): the mean of every frame-grid block of side `block`
// that the region's box, widened by radius + 1 blocks, touches, into tmp[0 .. blocks).
// Bindings: 0 params (uniform), 1 regions, 3 frame (read), 4 tmp (read_write).
// Workgroup 16x16, one invocation per block; global id z is the region index.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> regions: array<Region>;
@group(0) @binding(3) var<storage, read> frame: array<u32>;
@group(0) @binding(4) var<storage, read_write> tmp: array<vec4<f32>>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if (gid.z >= params.n_regions) {
        return;
    }
    let r = block_range(regions[gid.z], i32(params.radius) + 1);
    let bx = r.x + i32(gid.x);
    let by = r.y + i32(gid.y);
    if (bx >= r.z || by >= r.w) {
        return;
    }
    let b = params.block;
    let x0 = u32(bx) * b;
    let y0 = u32(by) * b;
    let x_end = min(x0 + b, params.width);
    let y_end = min(y0 + b, params.height);
    var acc = vec4<f32>(0.0);
    for (var y = y0; y < y_end; y++) {
        var row = vec4<f32>(0.0);
        for (var x = x0; x < x_end; x++) {
            row += unpack_px(frame[y * params.stride + x]);
        }
        acc += row;
    }
    tmp[u32(by) * params.blocks_w + u32(bx)] = acc / f32((x_end - x0) * (y_end - y0));
}
