// qcfingerprint: the delivery checks on the GPU, as the CPU path makes them (gamut.rs,
// flashes.rs). `gamut`: one workgroup per luma row counts the pixels outside the legal range
// from the table of luma bounds per (Cb, Cr) the CPU made. `cells`: one workgroup per cell of
// the 64x36 flash grid, one lane per point of its lattice (at most 4x4 chroma positions),
// adds each point's luminance and linear R, G, B (fixed point, 2^20 the unit) and the point
// count to the cell's five words.

// Per plane: byte offset in the frame, row stride in bytes, width, height.
@group(0) @binding(0) var<uniform> planes: array<vec4<u32>, 3>;
@group(0) @binding(1) var<storage, read> frame: array<u32>;
// For each cb << 8 | cr: the lowest legal luma in the low byte, the highest in the next.
@group(0) @binding(2) var<storage, read> bounds: array<u32>;
@group(0) @binding(3) var<storage, read_write> out_of_range: array<atomic<u32>, 4>;
// Luminance of each luma code; the chroma weights of R (Cr), G (Cb, Cr), B (Cb).
@group(0) @binding(4) var<storage, read> lut: array<f32, 256>;
@group(0) @binding(5) var<uniform> weights: vec4<f32>;
@group(0) @binding(6) var<storage, read_write> cells: array<atomic<u32>>;

const COLUMNS: u32 = 64u;
const ROWS: u32 = 36u;
const FIXED: f32 = 1048576.0;

fn byte_at(at: u32) -> u32 {
    return (frame[at >> 2u] >> ((at & 3u) * 8u)) & 0xffu;
}

// Luma pixels per chroma sample across and down (a whole factor, at least 1).
fn factors() -> vec2<u32> {
    let y = planes[0];
    let c = planes[1];
    return vec2<u32>(max((y.z + c.z - 1u) / max(c.z, 1u), 1u), max((y.w + c.w - 1u) / max(c.w, 1u), 1u));
}

var<workgroup> row_count: atomic<u32>;

@compute @workgroup_size(256)
fn gamut(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    if (lane == 0u) {
        atomicStore(&row_count, 0u);
    }
    workgroupBarrier();
    let y = planes[0];
    let cb = planes[1];
    let cr = planes[2];
    let row = group.y;
    if (row < y.w && cb.z > 0u && cb.w > 0u) {
        let f = factors();
        let c = min(row / f.y, cb.w - 1u);
        var n = 0u;
        for (var x = lane; x < y.z; x += 256u) {
            let l = byte_at(y.x + row * y.y + x);
            let cx = min(x / f.x, cb.z - 1u);
            let b = bounds[(byte_at(cb.x + c * cb.y + cx) << 8u) | byte_at(cr.x + c * cr.y + cx)];
            if (l < (b & 0xffu) || l > ((b >> 8u) & 0xffu)) {
                n += 1u;
            }
        }
        atomicAdd(&row_count, n);
    }
    workgroupBarrier();
    if (lane == 0u) {
        atomicAdd(&out_of_range[0], atomicLoad(&row_count));
    }
}

fn linear_of(code: f32) -> f32 {
    return lut[u32(clamp(code, 0.0, 255.0))];
}

@compute @workgroup_size(4, 4)
fn cells_main(@builtin(workgroup_id) cell: vec3<u32>, @builtin(local_invocation_id) lane: vec3<u32>) {
    let y = planes[0];
    let cb = planes[1];
    let cr = planes[2];
    if (cb.z == 0u || cb.w == 0u) {
        return;
    }
    let f = factors();
    let c0 = cell.y * cb.w / ROWS;
    let c1 = (cell.y + 1u) * cb.w / ROWS;
    let x0 = cell.x * cb.z / COLUMNS;
    let x1 = (cell.x + 1u) * cb.z / COLUMNS;
    let step_y = max((c1 - c0 + 3u) / 4u, 1u);
    let step_x = max((x1 - x0 + 3u) / 4u, 1u);
    let cy = c0 + lane.y * step_y;
    let cx = x0 + lane.x * step_x;
    if (cy >= max(c1, c0 + 1u) || cx >= max(x1, x0 + 1u)) {
        return;
    }
    let row = min(cy, cb.w - 1u);
    let col = min(cx, cb.z - 1u);
    let yv = f32(byte_at(y.x + min(row * f.y, y.w - 1u) * y.y + min(col * f.x, y.z - 1u)));
    let du = f32(byte_at(cb.x + row * cb.y + col)) - 128.0;
    let dv = f32(byte_at(cr.x + row * cr.y + col)) - 128.0;
    let l = lut[u32(yv)];
    let r = linear_of(yv + weights.x * dv + 0.5);
    let g = linear_of(yv + weights.y * du + weights.z * dv + 0.5);
    let b = linear_of(yv + weights.w * du + 0.5);
    let at = (cell.y * COLUMNS + cell.x) * 5u;
    atomicAdd(&cells[at], u32(l * FIXED + 0.5));
    atomicAdd(&cells[at + 1u], u32(r * FIXED + 0.5));
    atomicAdd(&cells[at + 2u], u32(g * FIXED + 0.5));
    atomicAdd(&cells[at + 3u], u32(b * FIXED + 0.5));
    atomicAdd(&cells[at + 4u], 1u);
}
