// Pyramid pass 3: vertical gaussian over the block grid, tmp[blocks ..) into
// tmp[2 * blocks ..), for the region's blocks widened by one block.
// Bindings: 0 params (uniform), 1 regions, 2 weights (half kernel), 4 tmp (read_write).
// Workgroup 16x16, one invocation per block; global id z is the region index.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> regions: array<Region>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> tmp: array<vec4<f32>>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if (gid.z >= params.n_regions) {
        return;
    }
    let r = block_range(regions[gid.z], 1);
    let bx = r.x + i32(gid.x);
    let by = r.y + i32(gid.y);
    if (bx >= r.z || by >= r.w) {
        return;
    }
    let nb = params.blocks_w * params.blocks_h;
    let h = i32(params.blocks_h);
    let rad = i32(params.radius);
    var acc = tmp[nb + u32(by) * params.blocks_w + u32(bx)] * weights[0];
    for (var i = 1; i <= rad; i++) {
        let a = tmp[nb + u32(clamp(by - i, 0, h - 1)) * params.blocks_w + u32(bx)];
        let b = tmp[nb + u32(clamp(by + i, 0, h - 1)) * params.blocks_w + u32(bx)];
        acc += (a + b) * weights[i];
    }
    tmp[2u * nb + u32(by) * params.blocks_w + u32(bx)] = acc;
}
