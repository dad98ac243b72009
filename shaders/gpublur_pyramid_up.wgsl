// Pyramid pass 4: every pixel inside a region's mask takes the blurred block grid
// (tmp[2 * blocks ..)) sampled bilinearly at its position, blended into `out`.
// Bindings: 0 params (uniform), 1 regions, 3 frame (read), 4 tmp (read), 5 out (read_write).
// Workgroup 16x16; global id z is the region index.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> regions: array<Region>;
@group(0) @binding(3) var<storage, read> frame: array<u32>;
@group(0) @binding(4) var<storage, read> tmp: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> out: array<u32>;

fn block_at(bx: i32, by: i32) -> vec4<f32> {
    let x = clamp(bx, 0, i32(params.blocks_w) - 1);
    let y = clamp(by, 0, i32(params.blocks_h) - 1);
    return tmp[2u * params.blocks_w * params.blocks_h + u32(y) * params.blocks_w + u32(x)];
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
    let f = f32(params.block);
    let u = (f32(x) + 0.5) / f - 0.5;
    let v = (f32(y) + 0.5) / f - 0.5;
    let u0 = floor(u);
    let v0 = floor(v);
    let fu = u - u0;
    let fv = v - v0;
    let bx = i32(u0);
    let by = i32(v0);
    // Vertical first, then horizontal: the CPU path blends each grid row once per pixel row.
    let left = block_at(bx, by) + (block_at(bx, by + 1) - block_at(bx, by)) * fv;
    let right = block_at(bx + 1, by) + (block_at(bx + 1, by + 1) - block_at(bx + 1, by)) * fv;
    let i = u32(y) * params.stride + u32(x);
    out[i] = blend(frame[i], left + (right - left) * fu, x, y);
}
