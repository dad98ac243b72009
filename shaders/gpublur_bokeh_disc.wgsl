// Bokeh: the mean of the block grid over a disc of radius `disc` blocks (uniform weights, the
// shape of an out-of-focus lens), tmp[0 ..) into tmp[2 * blocks ..), for the region's blocks
// widened by one block. Samples: every grid offset inside the disc, at most 81 (radius <= 4).
// Bindings: 0 params (uniform), 1 regions, 4 tmp (read_write).
// Workgroup 16x16, one invocation per block; global id z is the region index.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> regions: array<Region>;
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
    let reach = i32(params.radius);
    let disc2 = params.disc * params.disc;
    let w = i32(params.blocks_w);
    let h = i32(params.blocks_h);
    var acc = vec4<f32>(0.0);
    var n = 0.0;
    for (var dy = -reach; dy <= reach; dy++) {
        let y = u32(clamp(by + dy, 0, h - 1)) * params.blocks_w;
        for (var dx = -reach; dx <= reach; dx++) {
            if (f32(dx * dx + dy * dy) <= disc2) {
                acc += tmp[y + u32(clamp(bx + dx, 0, w - 1))];
                n += 1.0;
            }
        }
    }
    tmp[2u * params.blocks_w * params.blocks_h + u32(by) * params.blocks_w + u32(bx)] = acc / n;
}
