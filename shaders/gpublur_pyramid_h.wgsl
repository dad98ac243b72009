// Pyramid pass 2: horizontal gaussian over the block grid, tmp[0 ..) into tmp[blocks ..),
// for the region's blocks widened by one block across and radius + 1 blocks down.
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
    let reg = regions[gid.z];
    let cols = block_range(reg, 1);
    let rows = block_range(reg, i32(params.radius) + 1);
    let bx = cols.x + i32(gid.x);
    let by = rows.y + i32(gid.y);
    if (bx >= cols.z || by >= rows.w) {
        return;
    }
    let w = i32(params.blocks_w);
    let row = u32(by) * params.blocks_w;
    let rad = i32(params.radius);
    var acc = tmp[row + u32(bx)] * weights[0];
    for (var i = 1; i <= rad; i++) {
        let l = tmp[row + u32(clamp(bx - i, 0, w - 1))];
        let r = tmp[row + u32(clamp(bx + i, 0, w - 1))];
        acc += (l + r) * weights[i];
    }
    tmp[params.blocks_w * params.blocks_h + row + u32(bx)] = acc;
}
