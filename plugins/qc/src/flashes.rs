//! Photosensitive epilepsy (PSE) flashes, as ITU-R BT.1702 and Ofcom's guidance define them:
//! a flash is a pair of opposing changes in luminance of 20 cd/m² or more where the darker
//! state is below 160 cd/m², over more than a quarter of the screen at once; more than three
//! flashes in any one second fail. Red flashes likewise: opposing changes of a saturated red
//! (red at least 80% of R + G + B, in linear light) of 20 cd/m² or more of (R − G − B) · 320.
//!
//! Luminance is relative to a 200 cd/m² white (so 20 cd/m² is 0.1 and 160 is 0.8), the picture
//! shown through BT.1886's display (studio-range code values, gamma 2.4). The screen is
//! watched as a grid of cells (64 x 36), each one's mean linear light from a lattice of its
//! pixels; a cell makes a transition when its light has moved 0.1 or more in one direction
//! since the direction last turned (so slow ramps count as well as cuts), and the screen makes
//! one when the cells that made one in the same direction in the same frame cover more than a
//! quarter of it. Nothing is allocated per frame.

use std::collections::VecDeque;

use crate::events::{Event, Kind, Ns};
use crate::stats::Plane;

/// The grid of cells the screen is watched in (the GPU path's shader has the same).
pub const COLUMNS: usize = 64;
pub const ROWS: usize = 36;
/// The GPU path's cell sums: five words a cell (luminance, R, G, B in fixed point with
/// [`FIXED`] the unit, and the samples), cell after cell, row by row.
pub const CELL_WORDS: usize = 5;
pub const FIXED: f32 = (1 << 20) as f32;
/// A transition: a change of at least this much relative luminance (20 cd/m² of 200).
const CHANGE: f32 = 0.1;
/// The darker state must be below this (160 cd/m² of 200) for a luminance transition.
const DARKER_BELOW: f32 = 0.8;
/// Changes smaller than this do not turn a cell's direction (noise).
const TURN: f32 = 0.005;
/// More than a quarter of the screen.
const AREA: f64 = 0.25;
/// Transitions within one second that fail: seven (more than three flashes).
const FAILING: usize = 7;
/// A red is saturated when red is at least this share of R + G + B (linear light).
const RED_SHARE: f32 = 0.8;
/// (R − G − B) · 320 cd/m², relative to 200 cd/m².
const RED_SCALE: f32 = 320.0 / 200.0;
const SECOND: Ns = 1_000_000_000;

/// A failing run of flashes: when, the most flashes in any one second of it, and the largest
/// share of the screen one of its transitions covered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Flashes {
    pub event: Event,
    pub rate: f64,
    pub area: f64,
}

/// One kind of transition (luminance or red) in every cell, and on the screen.
struct Track {
    kind: Kind,
    /// Per cell: the last value, the change since the direction last turned, the value where
    /// it turned, and whether this run's transition was counted.
    last: Vec<f32>,
    run: Vec<f32>,
    start: Vec<f32>,
    counted: Vec<bool>,
    /// The darker state must be below [`DARKER_BELOW`] (luminance; not red).
    darker: bool,
    /// The last screen transition's direction (+1 up, −1 down, 0 none yet).
    direction: i8,
    /// Times of the screen transitions within the last second.
    times: VecDeque<Ns>,
    /// The failing run: start, end, most transitions in one second, largest area.
    failing: Option<(Ns, Ns, usize, f64)>,
    /// The share of the screen the last frame's transitions covered (the larger direction).
    area: f64,
}

impl Track {
    fn new(kind: Kind, darker: bool) -> Self {
        let n = COLUMNS * ROWS;
        Track {
            kind,
            last: vec![0.0; n],
            run: vec![0.0; n],
            start: vec![0.0; n],
            counted: vec![true; n],
            darker,
            direction: 0,
            times: VecDeque::with_capacity(256),
            failing: None,
            area: 0.0,
        }
    }

    fn reset(&mut self) {
        self.direction = 0;
        self.times.clear();
    }

    /// One frame's cell values, the frame lasting `pts..end` (`first`: nothing to compare
    /// with). Returns a failing run that ended.
    fn frame(&mut self, pts: Ns, end: Ns, values: &[f32], first: bool) -> Option<Flashes> {
        let (mut up, mut down) = (0usize, 0usize);
        for (i, &now) in values.iter().enumerate() {
            if first {
                (self.last[i], self.start[i], self.run[i]) = (now, now, 0.0);
                self.counted[i] = true;
                continue;
            }
            let d = now - self.last[i];
            self.last[i] = now;
            let turned =
                d.abs() >= TURN && (self.run[i] == 0.0 || (d > 0.0) != (self.run[i] > 0.0));
            if turned {
                self.start[i] = now - d;
                self.run[i] = d;
                self.counted[i] = false;
            } else {
                self.run[i] += d;
            }
            if !self.counted[i]
                && self.run[i].abs() >= CHANGE
                && (!self.darker || self.start[i].min(now) < DARKER_BELOW)
            {
                self.counted[i] = true;
                if self.run[i] > 0.0 {
                    up += 1;
                } else {
                    down += 1;
                }
            }
        }
        let n = values.len().max(1) as f64;
        let (up, down) = (up as f64 / n, down as f64 / n);
        self.area = up.max(down);
        // A screen transition opposite to the last one (a pair of opposing changes makes a
        // flash); where both directions cover a quarter at once, the one that alternates.
        let direction: i8 = match (up > AREA, down > AREA) {
            (true, true) if self.direction == 0 => 1,
            (true, true) => -self.direction,
            (true, false) => 1,
            (false, true) => -1,
            (false, false) => 0,
        };
        if direction != 0 && direction != self.direction {
            self.direction = direction;
            while self.times.front().is_some_and(|&t| t + SECOND <= pts) {
                self.times.pop_front();
            }
            if self.times.len() == self.times.capacity() {
                self.times.pop_front();
            }
            self.times.push_back(pts);
            let count = self.times.len();
            if count >= FAILING {
                let first = *self.times.front().expect("just pushed");
                let f = self.failing.get_or_insert((first, end, count, self.area));
                f.1 = end;
                f.2 = f.2.max(count);
                f.3 = f.3.max(self.area);
            }
        }
        // A failing run ends a second after its last failing transition.
        if self
            .failing
            .is_some_and(|(_, last, _, _)| pts >= last + SECOND)
        {
            return self.close();
        }
        None
    }

    fn close(&mut self) -> Option<Flashes> {
        self.failing
            .take()
            .map(|(start, end, count, area)| Flashes {
                event: Event {
                    kind: self.kind,
                    start,
                    end,
                },
                rate: count as f64 / 2.0,
                area,
            })
    }
}

/// BT.1886 (gamma 2.4, black at code 16, white at 235), relative to white.
fn linear(code: f32) -> f32 {
    ((code - 16.0) / 219.0).clamp(0.0, 1.0).powf(2.4)
}

/// The PSE check of a stream: luminance and red flashes.
pub struct FlashDetector {
    /// Relative luminance of each luma code.
    lut: [f32; 256],
    /// Chroma offsets of R, G, B (studio code values per chroma level above 128).
    r_cr: f32,
    g_cb: f32,
    g_cr: f32,
    b_cb: f32,
    /// The frame's cell values, luminance and red.
    luminance: Vec<f32>,
    red: Vec<f32>,
    tracks: [Track; 2],
    first: bool,
}

impl FlashDetector {
    /// For the matrix with luma coefficients `kr`, `kb` (studio range).
    pub fn new(kr: f32, kb: f32) -> Self {
        let kg = 1.0 - kr - kb;
        let s = 219.0 / 224.0;
        FlashDetector {
            lut: std::array::from_fn(|v| linear(v as f32)),
            r_cr: s * 2.0 * (1.0 - kr),
            g_cb: -s * 2.0 * (1.0 - kb) * kb / kg,
            g_cr: -s * 2.0 * (1.0 - kr) * kr / kg,
            b_cb: s * 2.0 * (1.0 - kb),
            luminance: vec![0.0; COLUMNS * ROWS],
            red: vec![0.0; COLUMNS * ROWS],
            tracks: [
                Track::new(Kind::Flash, true),
                Track::new(Kind::RedFlash, false),
            ],
            first: true,
        }
    }

    /// After a flush or a gap: the next frame compares with nothing.
    pub fn reset(&mut self) {
        self.first = true;
        for t in &mut self.tracks {
            t.reset();
        }
    }

    /// The share of the screen the last frame's luminance and red transitions covered.
    pub fn areas(&self) -> [f64; 2] {
        [self.tracks[0].area, self.tracks[1].area]
    }

    /// The last frame's cells: mean relative luminance and red value, row by row.
    pub fn cell_values(&self) -> (&[f32], &[f32]) {
        (&self.luminance, &self.red)
    }

    /// What the GPU path's shader needs to sample as [`Self::measure`] does: the luminance of
    /// each luma code, and the chroma weights of R (Cr), G (Cb, Cr) and B (Cb).
    pub fn gpu_constants(&self) -> ([f32; 256], [f32; 4]) {
        (self.lut, [self.r_cr, self.g_cb, self.g_cr, self.b_cb])
    }

    /// One frame measured on the GPU (`sums`: [`CELL_WORDS`] a cell), lasting `pts..end`:
    /// failing runs that ended, as [`Self::frame`] gives them.
    pub fn frame_from_sums(&mut self, pts: Ns, end: Ns, sums: &[u32]) -> [Option<Flashes>; 2] {
        if sums.len() < COLUMNS * ROWS * CELL_WORDS {
            return [None, None];
        }
        for (i, cell) in sums
            .chunks_exact(CELL_WORDS)
            .take(COLUMNS * ROWS)
            .enumerate()
        {
            let n = cell[4].max(1) as f32 * FIXED;
            let [l, r, g, b] = std::array::from_fn(|k| cell[k] as f32 / n);
            self.set_cell(i, l, r, g, b);
        }
        self.track(pts, end)
    }

    /// Cell `i`'s mean luminance and linear R, G, B: its luminance and red values.
    fn set_cell(&mut self, i: usize, l: f32, r: f32, g: f32, b: f32) {
        self.luminance[i] = l;
        let saturated = r >= RED_SHARE * (r + g + b) && r > 0.0;
        self.red[i] = if saturated {
            (r - g - b).max(0.0) * RED_SCALE
        } else {
            0.0
        };
    }

    fn track(&mut self, pts: Ns, end: Ns) -> [Option<Flashes>; 2] {
        let first = std::mem::replace(&mut self.first, false);
        [
            self.tracks[0].frame(pts, end, &self.luminance, first),
            self.tracks[1].frame(pts, end, &self.red, first),
        ]
    }

    /// One frame (`planes`: Y, Cb, Cr, chroma subsampled by a whole factor) lasting
    /// `pts..end`: failing runs of luminance and red flashes that ended.
    pub fn frame(&mut self, pts: Ns, end: Ns, planes: [Plane; 3]) -> [Option<Flashes>; 2] {
        let [y, cb, cr] = planes;
        if y.width < COLUMNS || y.height < ROWS || cb.width == 0 || cb.height == 0 {
            return [None, None];
        }
        self.measure(y, cb, cr);
        self.track(pts, end)
    }

    /// The stream ended: failing runs still open.
    pub fn finish(&mut self) -> [Option<Flashes>; 2] {
        [self.tracks[0].close(), self.tracks[1].close()]
    }

    /// Each cell's mean linear luminance and red value, from a lattice of at most 4 x 4
    /// chroma positions per cell (every luma pixel of a chroma position's block would add
    /// time, not accuracy: cells are means).
    fn measure(&mut self, y: Plane, cb: Plane, cr: Plane) {
        let (fx, fy) = (
            y.width.div_ceil(cb.width).max(1),
            y.height.div_ceil(cb.height).max(1),
        );
        for row in 0..ROWS {
            let (c0, c1) = (row * cb.height / ROWS, (row + 1) * cb.height / ROWS);
            let step_y = (c1 - c0).div_ceil(4).max(1);
            for col in 0..COLUMNS {
                let (x0, x1) = (col * cb.width / COLUMNS, (col + 1) * cb.width / COLUMNS);
                let step_x = (x1 - x0).div_ceil(4).max(1);
                let (mut l, mut r, mut g, mut b, mut n) = (0.0f32, 0.0f32, 0.0f32, 0.0f32, 0u32);
                for cy in (c0..c1.max(c0 + 1)).step_by(step_y) {
                    let cy = cy.min(cb.height - 1);
                    let luma = y.row((cy * fy).min(y.height - 1));
                    let (u, v) = (cb.row(cy), cr.row(cy));
                    for cx in (x0..x1.max(x0 + 1)).step_by(step_x) {
                        let cx = cx.min(cb.width - 1);
                        let yv = luma[(cx * fx).min(y.width - 1)] as f32;
                        let (du, dv) = (u[cx] as f32 - 128.0, v[cx] as f32 - 128.0);
                        let lut = |code: f32| self.lut[code.clamp(0.0, 255.0) as usize];
                        l += self.lut[yv as usize];
                        r += lut(yv + self.r_cr * dv + 0.5);
                        g += lut(yv + self.g_cb * du + self.g_cr * dv + 0.5);
                        b += lut(yv + self.b_cb * du + 0.5);
                        n += 1;
                    }
                }
                let n = n.max(1) as f32;
                self.set_cell(row * COLUMNS + col, l / n, r / n, g / n, b / n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: usize = 320;
    const H: usize = 180;
    const FPS: f64 = 25.0;

    /// `seconds` of frames at 25 frames/s: a rectangle covering `area` of the screen (the
    /// rest mid-gray) alternates between `dark` and `bright` Y'CbCr `hz` times a second.
    fn flashing(
        hz: f64,
        area: f64,
        dark: [u8; 3],
        bright: [u8; 3],
        seconds: f64,
    ) -> Vec<Option<Flashes>> {
        let mut d = FlashDetector::new(0.299, 0.114);
        let (rw, rh) = (
            (W as f64 * area.sqrt()) as usize,
            (H as f64 * area.sqrt()) as usize,
        );
        let mut planes = [
            vec![0u8; W * H],
            vec![128u8; W * H / 4],
            vec![128u8; W * H / 4],
        ];
        let mut out = Vec::new();
        let frames = (seconds * FPS) as usize;
        for k in 0..frames {
            let t = k as f64 / FPS;
            let on = ((t * hz * 2.0 + 1e-9).floor() as u64).is_multiple_of(2);
            let c = if on { bright } else { dark };
            for (p, plane) in planes.iter_mut().enumerate() {
                let (w, h, f) = if p == 0 { (W, H, 1) } else { (W / 2, H / 2, 2) };
                for yy in 0..h {
                    for xx in 0..w {
                        let inside = xx * f < rw && yy * f < rh;
                        plane[yy * w + xx] = if inside {
                            c[p]
                        } else if p == 0 {
                            110
                        } else {
                            128
                        };
                    }
                }
            }
            let ns = |t: f64| (t * 1e9).round() as Ns;
            let [luma, red] = d.frame(
                ns(t),
                ns(t + 1.0 / FPS),
                [
                    Plane::tight(&planes[0], W, H),
                    Plane::tight(&planes[1], W / 2, H / 2),
                    Plane::tight(&planes[2], W / 2, H / 2),
                ],
            );
            out.extend([luma, red].into_iter().flatten().map(Some));
        }
        out.extend(d.finish().into_iter().flatten().map(Some));
        out
    }

    #[test]
    fn more_than_three_flashes_a_second_over_a_quarter_of_the_screen_fail() {
        let (black, white) = ([16, 128, 128], [235, 128, 128]);
        for (hz, area, fails) in [
            (2.0, 0.3, false),
            (3.0, 0.3, false),
            (4.0, 0.3, true),
            (10.0, 0.3, true),
            (4.0, 0.2, false),
            (10.0, 0.2, false),
        ] {
            let runs = flashing(hz, area, black, white, 4.0);
            assert_eq!(!runs.is_empty(), fails, "{hz} Hz over {area}: {runs:?}");
            for f in runs.into_iter().flatten() {
                assert_eq!(f.event.kind, Kind::Flash);
                assert!(
                    f.rate > 3.0 && f.rate <= hz + 0.5,
                    "{hz} Hz: rate {}",
                    f.rate
                );
                assert!((f.area - area).abs() < 0.04, "{hz} Hz: area {}", f.area);
            }
        }
    }

    #[test]
    fn small_and_bright_changes_are_no_flashes() {
        // 10 Hz over 30%, but between luminances 0.84 and 1.0 (both above 160 cd/m²), and
        // between two grays 0.05 apart.
        assert!(flashing(10.0, 0.3, [220, 128, 128], [235, 128, 128], 3.0).is_empty());
        assert!(flashing(10.0, 0.3, [100, 128, 128], [110, 128, 128], 3.0).is_empty());
    }

    #[test]
    fn saturated_red_flashing_fails_as_red() {
        // Full red (BT.601) against black, 5 Hz over 30%.
        let red = [81, 90, 240];
        let runs = flashing(5.0, 0.3, [16, 128, 128], red, 3.0);
        let kinds: Vec<Kind> = runs.iter().flatten().map(|f| f.event.kind).collect();
        assert!(kinds.contains(&Kind::RedFlash), "{runs:?}");
    }
}
