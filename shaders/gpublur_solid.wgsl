// Solid fill: every pixel inside a region's mask becomes `params.black` (RGB black, or YUV
// black for unpacked YUV frames), blended into `out`; the alpha (or padding) byte at
// `alpha_index` is kept.
// Bindings: 0 params (uniform), 1 regions, 3 frame (read), 5 out (read_write).
// Workgroup 16×16; global id z is the region index.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> regions: array<Region>;
@group(0) @binding(3) var<storage, read> frame: array<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<u32>;

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
    let i = u32(y) * params.stride + u32(x);
    var black = unpack_px(params.black);
    if (params.alpha_index < 4u) {
        black[params.alpha_index] = unpack_px(frame[i])[params.alpha_index];
    }
    out[i] = blend(frame[i], black, x, y);
}
