// Pass 1 of the mosaic: the mean of every frame-grid block (side `block`) that a region's box
// touches, into `tmp[block_y * blocks_w + block_x]`. Blocks sit on the frame grid so they do
// not crawl as a box moves.
// Bindings: 0 params (uniform), 1 regions, 3 frame (read), 4 tmp (read_write).
// Workgroup 16×16, one invocation per block; global id z is the region index.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> regions: array<Region>;
@group(0) @binding(3) var<storage, read> frame: array<u32>;
@group(0) @binding(4) var<storage, read_write> tmp: array<vec4<f32>>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if (gid.z >= params.n_regions) {
        return;
    }
    let reg = regions[gid.z];
    let b = params.block;
    let bx = u32(reg.bbox.x) / b + gid.x;
    let by = u32(reg.bbox.y) / b + gid.y;
    if (bx > (u32(reg.bbox.z) - 1u) / b || by > (u32(reg.bbox.w) - 1u) / b) {
        return;
    }
    let x_end = min((bx + 1u) * b, params.width);
    let y_end = min((by + 1u) * b, params.height);
    var acc = vec4<f32>(0.0);
    for (var y = by * b; y < y_end; y++) {
        var row = vec4<f32>(0.0);
        for (var x = bx * b; x < x_end; x++) {
            row += unpack_px(frame[y * params.stride + x]);
        }
        acc += row;
    }
    let n = f32((x_end - bx * b) * (y_end - by * b));
    tmp[by * params.blocks_w + bx] = acc / n;
}
