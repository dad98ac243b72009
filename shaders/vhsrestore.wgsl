// vhsrestore: the GPU path of the restoring pass (plugins/vhsrestore/src/stages.rs), the same
// arithmetic in the same order, one plane per z. Five passes per output frame:
//   source  — each pixel taken from its frame or rebuilt by the deinterlacer, dropouts filled;
//   spread_rows — each pixel spread along its row by the edge-preserving horizontal step;
//   remember — the filtered past copied aside, to be read along the camera's motion;
//   columns — one thread per pixel: the edge-preserving vertical step over the spread rows
//             three either side, the temporal step against the filtered past (along the
//             motion where the picture moved), levels and rounding;
//   pack    — the rounded bytes, shifted (chroma delay), four to a word for the readback.
// Integer stages give the CPU's bytes exactly; float stages may differ by one level where the
// driver fuses a multiply and an add.

struct Params {
    width: u32,
    height: u32,
    // Byte offsets of this plane in the frames buffer: the frame restored, the frames whose
    // missing rows lie half a field before and after, the frames one before and after.
    cur: u32,
    before: u32,
    after: u32,
    prev: u32,
    next: u32,
    // Row stride of the plane in the frames buffer, bytes.
    stride: u32,
    // Parity of the rows kept (0 top, 1 bottom); 2: progressive, rows taken as they are.
    keep: u32,
    // Dropouts: how far a pixel stands out, and the shortest streak (threshold 0: off).
    threshold: u32,
    min_run: u32,
    // Offset of the plane in the per-pixel buffers (source, state, result), elements.
    work: u32,
    // Denoise on, and the past holds a frame.
    denoise: u32,
    primed: u32,
    // `1 / (2 · strength)` of the spatial and temporal weights.
    spatial: f32,
    temporal: f32,
    // Levels or saturation: v · gain + offset, unless identity.
    gain: f32,
    offset: f32,
    identity: u32,
    // 256ths of a pixel the plane moves right (negative: left).
    shift: i32,
    // Where the plane's rows go in the packed output, in 32-bit words.
    out_word: u32,
    out_words: u32,
    // The camera's motion since the output before, in this plane's pixels: the content at
    // (x, y) was at (x + motion_x, y + motion_y) in the past.
    motion_x: f32,
    motion_y: f32,
    // Whole pixels the content moved left over half a frame and over a frame: the fields
    // before and after, and the frames before and after, are read there (stages::Fields).
    half_shift: i32,
    full_shift: i32,
    // Motion block by block (blocks != 0): vectors[y / block_h][x / block_w] (the last row
    // and column of blocks reaching to the edges), each times (scale_x, scale_y), in place of
    // (motion_x, motion_y).
    blocks: u32,
    block_w: u32,
    block_h: u32,
    cols: u32,
    rows: u32,
    scale_x: f32,
    scale_y: f32,
}

@group(0) @binding(0) var<storage, read> params: array<Params, 3>;
@group(0) @binding(1) var<storage, read> frames: array<u32>;
@group(0) @binding(2) var<storage, read_write> source_px: array<f32>;
@group(0) @binding(3) var<storage, read_write> state: array<f32>;
@group(0) @binding(4) var<storage, read_write> result: array<u32>;
@group(0) @binding(5) var<storage, read_write> packed: array<u32>;
@group(0) @binding(6) var<storage, read_write> past: array<f32>;
@group(0) @binding(7) var<storage, read> vectors: array<vec2<f32>>;
// The source rows spread along themselves (`across`), for the vertical step.
@group(0) @binding(8) var<storage, read_write> spread: array<f32>;

fn byte_at(at: u32) -> i32 {
    return i32((frames[at >> 2u] >> ((at & 3u) * 8u)) & 0xffu);
}

// Pixel x of row y of the plane at byte offset `base`.
fn px(p: Params, base: u32, x: i32, y: u32) -> i32 {
    let cx = u32(clamp(x, 0, i32(p.width) - 1));
    return byte_at(base + y * p.stride + cx);
}

// One rebuilt pixel: yadif-class motion adaptation with a cubic vertical interpolation where
// no edge direction fits better, bwdif's where the fields around are more alike than the rows
// (stages::rebuild).
fn rebuild(p: Params, x: i32, y: u32) -> i32 {
    let h = i32(p.height);
    let keep = i32(p.keep);
    let yi = i32(y);
    var last = h - 2;
    if ((h - 1) % 2 == keep) {
        last = h - 1;
    }
    let up_row = u32(clamp(yi - 1, keep, last));
    let down_row = u32(clamp(yi + 1, keep, last));
    let up3_row = u32(clamp(yi - 3, keep, last));
    let down3_row = u32(clamp(yi + 3, keep, last));
    var m_up = yi - 2;
    if (m_up < 0 || m_up >= h) {
        m_up = yi;
    }
    var m_down = yi + 2;
    if (m_down < 0 || m_down >= h) {
        m_down = yi;
    }
    var m_up4 = yi - 4;
    if (m_up4 < 0 || m_up4 >= h) {
        m_up4 = yi;
    }
    var m_down4 = yi + 4;
    if (m_down4 < 0 || m_down4 >= h) {
        m_down4 = yi;
    }
    let c = px(p, p.cur, x, up_row);
    let e = px(p, p.cur, x, down_row);
    let up3 = px(p, p.cur, x, up3_row);
    let down3 = px(p, p.cur, x, down3_row);
    let xp = x + p.full_shift;
    let xn = x - p.full_shift;
    let xb = x + p.half_shift;
    let xa = x - p.half_shift;
    let pu = px(p, p.prev, xp, up_row);
    let pd = px(p, p.prev, xp, down_row);
    let nu = px(p, p.next, xn, up_row);
    let nd = px(p, p.next, xn, down_row);
    let ab = px(p, p.before, xb, y);
    let aa = px(p, p.after, xa, y);
    let bu = px(p, p.before, xb, u32(m_up));
    let bd = px(p, p.before, xb, u32(m_down));
    let au = px(p, p.after, xa, u32(m_up));
    let ad = px(p, p.after, xa, u32(m_down));
    let bu4 = px(p, p.before, xb, u32(m_up4));
    let bd4 = px(p, p.before, xb, u32(m_down4));
    let au4 = px(p, p.after, xa, u32(m_up4));
    let ad4 = px(p, p.after, xa, u32(m_down4));
    var u: array<i32, 7>;
    var v: array<i32, 7>;
    for (var k = 0; k < 7; k++) {
        u[k] = px(p, p.cur, x + k - 3, up_row);
        v[k] = px(p, p.cur, x + k - 3, down_row);
    }
    let d = (ab + aa) >> 1u;
    let t0 = abs(ab - aa);
    let t1 = (abs(pu - c) + abs(pd - e)) >> 1u;
    let t2 = (abs(nu - c) + abs(nd - e)) >> 1u;
    var diff = max(max(t0 >> 1u, t1), t2);
    let cubic = (9 * (c + e) - (up3 + down3) + 8) >> 4u;
    var best = abs(u[2] - v[2]) + abs(u[3] - v[3]) + abs(u[4] - v[4]) - 1;
    var pred = clamp(cubic, min(c, e), max(c, e));
    var won = false;
    let dirs = array<i32, 4>(-1, -2, 1, 2);
    for (var i = 0; i < 4; i++) {
        let j = dirs[i];
        let s = abs(u[3 + j - 1] - v[3 - j - 1]) + abs(u[3 + j] - v[3 - j])
            + abs(u[3 + j + 1] - v[3 - j + 1]);
        let far = abs(j) == 2;
        let take = s < best && (!far || won);
        if (!far) {
            won = take;
        }
        if (take) {
            best = s;
            pred = (u[3 + j] + v[3 - j]) >> 1u;
        }
    }
    // bwdif's rule where the rows differ more than the missing row does in time.
    let hf = 22 * (ab + aa) - 15 * (bu + au + bd + ad) + 4 * (bu4 + au4 + bd4 + ad4);
    let lf = 3 * (c + e - up3 - down3);
    if (abs(c - e) > t0) {
        pred = (c + e + ((hf + lf + 64) >> 6u)) >> 1u;
    }
    let b = (bu + au) >> 1u;
    let f = (bd + ad) >> 1u;
    let hi = max(max(d - e, d - c), min(b - c, f - e));
    let lo = min(min(d - e, d - c), max(b - c, f - e));
    diff = max(max(diff, lo), -hi);
    return clamp(clamp(pred, d - diff, d + diff), 0, 255);
}

// How far pixel x of row y stands out of the four rows around it (stages::excess).
fn excess(p: Params, x: i32, y: u32) -> i32 {
    let h = i32(p.height);
    let yi = i32(y);
    let v = px(p, p.cur, x, y);
    let a1 = px(p, p.cur, x, u32(clamp(yi - 1, 0, h - 1)));
    let b1 = px(p, p.cur, x, u32(clamp(yi + 1, 0, h - 1)));
    let a2 = px(p, p.cur, x, u32(clamp(yi - 2, 0, h - 1)));
    let b2 = px(p, p.cur, x, u32(clamp(yi + 2, 0, h - 1)));
    let top = v - max(max(a1, b1), max(a2, b2));
    let bottom = min(min(a1, b1), min(a2, b2)) - v;
    return max(top, bottom);
}

fn stands_out(p: Params, x: i32, y: u32) -> bool {
    return x >= 0 && x < i32(p.width) && excess(p, x, y) > i32(p.threshold);
}

// Whether pixel x lies in a streak of at least `min_run` pixels that stand out.
fn in_streak(p: Params, x: i32, y: u32) -> bool {
    if (!stands_out(p, x, y)) {
        return false;
    }
    let need = i32(p.min_run);
    var left = 0;
    while (left < need && stands_out(p, x - left - 1, y)) {
        left++;
    }
    var right = 0;
    while (left + right + 1 < need && stands_out(p, x + right + 1, y)) {
        right++;
    }
    return left + right + 1 >= need;
}

@compute @workgroup_size(16, 16)
fn source(@builtin(global_invocation_id) id: vec3<u32>) {
    let p = params[id.z];
    if (id.x >= p.width || id.y >= p.height) {
        return;
    }
    let x = i32(id.x);
    let y = id.y;
    var v: i32;
    if (p.keep == 2u || y % 2u == p.keep || p.height < 2u) {
        v = px(p, p.cur, x, y);
        // Dropouts in the kept rows of an interlaced frame: filled with the mean of the other
        // field's rows either side, one pixel beyond each end of the streak.
        let h = p.height;
        if (p.keep != 2u && p.threshold > 0u && h >= 3u) {
            if (in_streak(p, x - 1, y) || in_streak(p, x, y) || in_streak(p, x + 1, y)) {
                let a1 = px(p, p.cur, x, u32(max(i32(y) - 1, 0)));
                let b1 = px(p, p.cur, x, min(y + 1u, h - 1u));
                v = (a1 + b1 + 1) >> 1u;
            }
        }
    } else {
        v = rebuild(p, x, y);
    }
    source_px[p.work + y * p.width + id.x] = f32(v);
}

fn src(p: Params, x: i32, y: u32) -> f32 {
    return source_px[p.work + y * p.width + u32(clamp(x, 0, i32(p.width) - 1))];
}

// `n − c` weighted as `low_pass` weighs it, by the step `g` between the two pixels' guides
// (stages::pull).
fn pull(c: f32, n: f32, g: f32, fall: f32) -> f32 {
    let keep = max(1.0 - abs(g) * fall, 0.0);
    return (n - c) * (keep * keep);
}

// The row smoothed by [1, 2, 1] / 4 at x, the edges repeated (stages::guide_step takes the
// step between two of these straight from the pixels; pixels are whole levels, so both are exact).
fn guide(p: Params, x: i32, y: u32) -> f32 {
    return (src(p, x - 1, y) + 2.0 * src(p, x, y) + src(p, x + 1, y)) * 0.25;
}

// The guide's fall against the spatial one (stages::GUIDED).
const GUIDED: f32 = 1.25;

fn low_pass(old: f32, new_value: f32, fall: f32) -> f32 {
    let keep = max(1.0 - abs(old - new_value) * fall, 0.0);
    return new_value + (old - new_value) * (keep * keep);
}

// The pixel moved a quarter of the way along its weighted steps to the pixels one and two
// either side (stages::across).
fn across(p: Params, x: i32, y: u32) -> f32 {
    let s = p.spatial * GUIDED;
    let c = src(p, x, y);
    let g = guide(p, x, y);
    let gl = guide(p, x - 1, y);
    let gr = guide(p, x + 1, y);
    let gl2 = guide(p, x - 2, y);
    let gr2 = guide(p, x + 2, y);
    let near = pull(c, src(p, x + 1, y), gr - g, s) - pull(src(p, x - 1, y), c, g - gl, s);
    let far = pull(c, src(p, x + 2, y), gr2 - g, s) - pull(src(p, x - 2, y), c, g - gl2, s);
    return c + 0.25 * (near + far);
}

fn quantize(v: f32) -> u32 {
    return u32(clamp(v + 0.5, 0.0, 255.0));
}

fn mapped(p: Params, v: f32) -> u32 {
    if (p.identity != 0u) {
        return quantize(v);
    }
    return quantize(v * p.gain + p.offset);
}

@compute @workgroup_size(16, 16)
fn remember(@builtin(global_invocation_id) id: vec3<u32>) {
    let p = params[id.z];
    // Only a plane whose picture moved reads its past from here (columns' `along`).
    let still = p.motion_x == 0.0 && p.motion_y == 0.0 && p.blocks == 0u;
    if (id.x >= p.width || id.y >= p.height || p.denoise == 0u || still) {
        return;
    }
    let at = p.work + id.y * p.width + id.x;
    past[at] = state[at];
}

// The motion at pixel (x, y): its block's, or the plane's.
fn motion_at(p: Params, x: i32, y: u32) -> vec2<f32> {
    if (p.blocks == 0u) {
        return vec2<f32>(p.motion_x, p.motion_y);
    }
    let c = min(u32(x) / p.block_w, p.cols - 1u);
    let r = min(y / p.block_h, p.rows - 1u);
    let v = vectors[r * p.cols + c];
    return vec2<f32>(v.x * p.scale_x, v.y * p.scale_y);
}

// The past at (x, y) moved along the motion, bilinear between its four neighbours, the edges
// repeated (stages::pass's Past::row, the same arithmetic in the same order).
fn along(p: Params, x: i32, y: u32) -> f32 {
    let w = i32(p.width);
    let h = i32(p.height);
    let m = motion_at(p, x, y);
    let fy0 = floor(f32(y) + m.y);
    let fx0 = floor(m.x);
    let fy = f32(y) + m.y - fy0;
    let fx = m.x - fx0;
    let y0 = i32(fy0);
    let dx = i32(fx0);
    let r0 = p.work + u32(clamp(y0, 0, h - 1)) * p.width;
    let r1 = p.work + u32(clamp(y0 + 1, 0, h - 1)) * p.width;
    let i0 = u32(clamp(x + dx, 0, w - 1));
    let i1 = u32(clamp(x + dx + 1, 0, w - 1));
    let top = past[r0 + i0] * (1.0 - fx) + past[r0 + i1] * fx;
    let bottom = past[r1 + i0] * (1.0 - fx) + past[r1 + i1] * fx;
    return top * (1.0 - fy) + bottom * fy;
}

@compute @workgroup_size(16, 16)
fn spread_rows(@builtin(global_invocation_id) id: vec3<u32>) {
    let p = params[id.z];
    if (id.x >= p.width || id.y >= p.height || p.denoise == 0u) {
        return;
    }
    spread[p.work + id.y * p.width + id.x] = across(p, i32(id.x), id.y);
}

// Row y of the spread rows at x, the plane's first and last rows repeated beyond it.
fn spread_at(p: Params, x: u32, y: i32) -> f32 {
    let r = u32(clamp(y, 0, i32(p.height) - 1));
    return spread[p.work + r * p.width + x];
}

// The step between the guides of a and b, the next pixel, from the pixels before and after
// them (stages::guide_step; the same arithmetic in the same order, the inputs not being whole).
fn guide_step(l: f32, a: f32, b: f32, r: f32) -> f32 {
    return (r + b - a - l) * 0.25;
}

// As guide_step, to b two pixels on (stages::guide_step_two).
fn guide_step_two(l: f32, a: f32, b: f32, r: f32) -> f32 {
    return (r + 2.0 * b - 2.0 * a - l) * 0.25;
}

// The spread pixel moved a quarter of the way along its weighted steps to the rows one and
// two above and below (stages::pass's vertical).
fn down_rows(p: Params, x: u32, y: u32) -> f32 {
    let s = p.spatial * GUIDED;
    let yi = i32(y);
    let u3 = spread_at(p, x, yi - 3);
    let u2 = spread_at(p, x, yi - 2);
    let u1 = spread_at(p, x, yi - 1);
    let c = spread_at(p, x, yi);
    let d1 = spread_at(p, x, yi + 1);
    let d2 = spread_at(p, x, yi + 2);
    let d3 = spread_at(p, x, yi + 3);
    let into = pull(u1, c, guide_step(u2, u1, c, d1), s);
    let out_of = pull(c, d1, guide_step(u1, c, d1, d2), s);
    let from_two = pull(u2, c, guide_step_two(u3, u2, c, d1), s);
    let to_two = pull(c, d2, guide_step_two(u1, c, d2, d3), s);
    return c + 0.25 * ((out_of - into) + (to_two - from_two));
}

@compute @workgroup_size(16, 16)
fn columns(@builtin(global_invocation_id) id: vec3<u32>) {
    let p = params[id.z];
    if (id.x >= p.width || id.y >= p.height) {
        return;
    }
    let x = i32(id.x);
    let y = id.y;
    let at = p.work + y * p.width + id.x;
    if (p.denoise == 0u) {
        result[at] = mapped(p, source_px[at]);
        return;
    }
    let line = down_rows(p, id.x, y);
    var st = line;
    if (p.primed != 0u) {
        var old = state[at];
        if (p.motion_x != 0.0 || p.motion_y != 0.0 || p.blocks != 0u) {
            old = along(p, x, y);
        }
        st = low_pass(old, line, p.temporal);
    }
    state[at] = st;
    result[at] = mapped(p, st);
}

@compute @workgroup_size(64)
fn pack(@builtin(global_invocation_id) id: vec3<u32>) {
    let p = params[id.z];
    if (id.x >= p.out_words || id.y >= p.height) {
        return;
    }
    let w = i32(p.width);
    let row = p.work + id.y * p.width;
    var word = 0u;
    for (var i = 0u; i < 4u; i++) {
        let x = i32(id.x * 4u + i);
        if (x < w) {
            // 256ths of a pixel: between two sources, as stages::shift_row does.
            let pos = x * 256 - p.shift;
            let f = u32(pos & 255);
            let a = result[row + u32(clamp(pos >> 8u, 0, w - 1))];
            let b = result[row + u32(clamp((pos >> 8u) + 1, 0, w - 1))];
            word |= ((a * (256u - f) + b * f + 128u) >> 8u) << (8u * i);
        }
    }
    packed[p.out_word + id.y * p.out_words + id.x] = word;
}
