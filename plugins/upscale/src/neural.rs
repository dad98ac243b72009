//! The neural path: a 2x super-resolution network through ONNX Runtime (4x runs it twice),
//! over tiles of the frame. Each tile is read with a margin of the network's receptive
//! border (edges repeated at the frame's borders, as the network itself pads), so that the
//! tiles' centres put together equal the network run on the whole frame; tiles go through
//! in inferences of up to `per_inference` tiles, taken across the frames of a batch. Bounds
//! the network's memory at any frame size: one inference of tiles is in flight at a time.

use std::time::{Duration, Instant};

use rayon::prelude::*;

use mediaai_common::inference::BoundInput;
use mediaai_common::inference::SharedModel;

/// Input pixels per tile side (before the margin), by default.
pub const TILE: usize = 128;

/// Where a tile of an inference goes: its frame in the batch, and its origin and size there.
#[derive(Clone, Copy, Debug)]
struct Placed {
    frame: usize,
    x: usize,
    y: usize,
    w: usize,
    h: usize,
}

/// Frames upscaled 2x by `model`'s session (input `[N, 3, H, W]` RGB 0..1, output `[N, 3, 2H, 2W]`).
/// The tiles of a batch of frames go through the network together: an inference takes up to
/// `per_inference` tiles, from one frame or across frames.
pub struct Neural {
    /// The session, this element's own or its batch group's (taken for each inference).
    model: SharedModel,
    /// Pixels each tile reads beyond its sides: the network's receptive border.
    margin: usize,
    /// Input pixels per tile side.
    tile: usize,
    per_inference: usize,
    /// The inference's input tiles, `per_inference · 3 · (tile + 2 · margin)²` at most (tiles
    /// are clipped to the frame).
    tiles: Vec<f32>,
    placed: Vec<Placed>,
    /// 4x: each frame's 2x result between the two passes (3 planes).
    middle: Vec<Vec<f32>>,
    /// The session's bound input and outputs for each inference shape met so far (a full
    /// inference, the last one of a batch): made on first use, then no tensor is allocated.
    bound: Vec<BoundInput>,
    timing: Timing,
}

/// Where the last [`Neural::run`] spent its time (for the element's debug log).
#[derive(Clone, Copy, Debug, Default)]
pub struct Timing {
    /// Cutting the frames into tiles with their margins.
    pub gathered: Duration,
    /// ONNX Runtime's runs: the input's copy to the device, the network, the output's copy
    /// back (a device provider's own transfers are inside).
    pub network: Duration,
    /// Putting the tiles' centres into the output frames.
    pub placed: Duration,
    pub inferences: usize,
}

impl Neural {
    /// For `model`, whose network reads `margin` pixels around
    /// each output pixel's source; up to `per_inference` tiles per inference; batches of up to
    /// `frames` frames of `width`x`height` (the 2x intermediates of a 4x run are allocated here
    /// when `scale` is 4).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        model: SharedModel,
        margin: usize,
        tile: usize,
        per_inference: usize,
        frames: usize,
        width: usize,
        height: usize,
        scale: usize,
    ) -> Self {
        let (per_inference, tile) = (per_inference.max(1), tile.max(1));
        // Tiles are clipped to the frame (the 2x frame for a 4x run's second pass).
        let most = if scale == 4 { 2 } else { 1 };
        let sides = [width, height].map(|n| tile.min(most * n.max(1)) + 2 * margin);
        let middle = if scale == 4 {
            (0..frames.max(1))
                .map(|_| vec![0.0; 3 * 4 * width * height])
                .collect()
        } else {
            Vec::new()
        };
        Neural {
            model,
            margin,
            tile,
            per_inference,
            tiles: vec![0.0; per_inference * 3 * sides[0] * sides[1]],
            placed: Vec::with_capacity(per_inference),
            timing: Timing::default(),
            middle,
            bound: Vec::new(),
        }
    }

    /// Where the last [`Self::run`] spent its time.
    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// The session back, for the next caps.
    pub fn into_model(self) -> SharedModel {
        self.model
    }

    /// Each of `inputs` (3 planes of `width`x`height`, 0..1) upscaled by `scale` (2 or 4) into
    /// the output of the same index.
    pub fn run<I: AsRef<[f32]> + Sync, O: AsMut<[f32]>>(
        &mut self,
        inputs: &[I],
        width: usize,
        height: usize,
        scale: usize,
        outputs: &mut [O],
    ) -> Result<(), String> {
        self.timing = Timing::default();
        if scale == 4 {
            let n = inputs.len();
            if self.middle.len() < n {
                return Err(format!(
                    "a batch of {n} frames, the network was set up for {}",
                    self.middle.len()
                ));
            }
            let mut middle = std::mem::take(&mut self.middle);
            let done = self
                .pass(inputs, width, height, &mut middle[..n])
                .and_then(|()| self.pass(&middle[..n], 2 * width, 2 * height, outputs));
            self.middle = middle;
            done
        } else {
            self.pass(inputs, width, height, outputs)
        }
    }

    /// One 2x pass of the network over the tiles of `width`x`height` frames.
    fn pass<I: AsRef<[f32]> + Sync, O: AsMut<[f32]>>(
        &mut self,
        inputs: &[I],
        w: usize,
        h: usize,
        outputs: &mut [O],
    ) -> Result<(), String> {
        if outputs.len() < inputs.len()
            || inputs.iter().any(|i| i.as_ref().len() < 3 * w * h)
            || outputs.iter_mut().any(|o| o.as_mut().len() < 12 * w * h)
        {
            return Err("frame buffers smaller than the frame".into());
        }
        // Tiles no larger than the frame: a small frame is one tile of its own size.
        let (tw, th) = (self.tile.min(w), self.tile.min(h));
        let m = self.margin;
        let (sw, sh) = (tw + 2 * m, th + 2 * m);
        // The pass's tiles in runs of equal size, none over `per_inference`: every inference
        // but perhaps the last has one shape, and a device provider pads the last to it.
        let total = inputs.len() * w.div_ceil(tw) * h.div_ceil(th);
        let size = total.div_ceil(total.div_ceil(self.per_inference).max(1));
        self.placed.clear();
        let mut since = Instant::now();
        for frame in 0..inputs.len() {
            for ty in (0..h).step_by(th) {
                for tx in (0..w).step_by(tw) {
                    self.placed.push(Placed {
                        frame,
                        x: tx,
                        y: ty,
                        w: tw.min(w - tx),
                        h: th.min(h - ty),
                    });
                    if self.placed.len() == size {
                        self.gather(inputs, (w, h), (sw, sh));
                        self.timing.gathered += since.elapsed();
                        self.infer((sw, sh), size, w, h, outputs)?;
                        since = Instant::now();
                    }
                }
            }
        }
        if !self.placed.is_empty() {
            self.gather(inputs, (w, h), (sw, sh));
            self.timing.gathered += since.elapsed();
            self.infer((sw, sh), size, w, h, outputs)?;
        }
        Ok(())
    }

    /// Cuts the tiles placed so far out of their frames (`w`x`h`), each `sw`x`sh` with the
    /// margin (edges repeated at the frame's borders), one tile per task of the thread pool.
    fn gather<I: AsRef<[f32]> + Sync>(
        &mut self,
        inputs: &[I],
        (w, h): (usize, usize),
        (sw, sh): (usize, usize),
    ) {
        let m = self.margin;
        let tile_len = 3 * sw * sh;
        let tiles = &mut self.tiles[..self.placed.len() * tile_len];
        tiles
            .par_chunks_mut(tile_len)
            .zip(&self.placed)
            .for_each(|(tile, p)| {
                let input = inputs[p.frame].as_ref();
                // Columns x of the tile read the frame's column tx + x − m: those before
                // `first` and from `last` on lie past the frame's sides and repeat its edge.
                let first = m.saturating_sub(p.x);
                let last = (w + m - p.x).min(sw);
                for c in 0..3 {
                    let plane = &input[c * w * h..(c + 1) * w * h];
                    for y in 0..sh {
                        let sy = (p.y + y).saturating_sub(m).min(h - 1);
                        let row = &plane[sy * w..(sy + 1) * w];
                        let dst = &mut tile[(c * sh + y) * sw..][..sw];
                        dst[..first].fill(row[0]);
                        dst[first..last].copy_from_slice(&row[p.x + first - m..p.x + last - m]);
                        dst[last..].fill(row[w - 1]);
                    }
                }
            });
    }

    /// Runs the tiles placed so far and puts their centres into `outputs` (the 2x frames of
    /// `w`x`h` inputs). On a device provider the inference has `size` tiles however many are
    /// placed: the rest are left-overs whose results are not read. A shape that changes from
    /// one run to the next costs a device far more than the padding (CUDA on the H200: runs of
    /// 32 tiles alternating with 16 went at a quarter of the speed of one shape).
    fn infer<O: AsMut<[f32]>>(
        &mut self,
        (sw, sh): (usize, usize),
        size: usize,
        w: usize,
        h: usize,
        outputs: &mut [O],
    ) -> Result<(), String> {
        let m = self.margin;
        let tile_len = 3 * sw * sh;
        // A batch group's streams take turns on the session; the lock is held while the
        // output is read.
        let mut loaded = self.model.lock().expect("session lock is never poisoned");
        let placed = self.placed.len();
        let n = if loaded.on_cpu() {
            placed
        } else {
            size.max(placed)
        };
        let shape = [n, 3, sh, sw];
        let at = match self.bound.iter().position(|b| b.shape() == shape) {
            Some(at) => at,
            None => {
                self.bound.push(BoundInput::new(&loaded, &shape)?);
                self.bound.len() - 1
            }
        };
        let bound = &mut self.bound[at];
        bound
            .floats_mut()?
            .copy_from_slice(&self.tiles[..n * tile_len]);
        let started = Instant::now();
        let result = bound
            .run(&mut loaded.session)
            .map_err(|e| format!("inference failed: {e}"))?;
        let placing = Instant::now();
        self.timing.network += placing - started;
        self.timing.inferences += 1;
        let (shape, data) = result[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| format!("output is not a float tensor: {e}"))?;
        let (osw, osh, ow2, oh2) = (2 * sw, 2 * sh, 2 * w, 2 * h);
        if shape.len() != 4
            || shape[0] as usize != n
            || shape[1] != 3
            || shape[2] as usize != osh
            || shape[3] as usize != osw
        {
            return Err(format!(
                "output shape {shape:?}, expected [{n}, 3, {osh}, {osw}] (a 2x network)"
            ));
        }
        let out_len = 3 * osw * osh;
        // Each output row the tiles cover, over the thread pool: a row takes the part of every
        // tile of its frame that crosses it.
        let placed = &self.placed;
        // Tiles are placed frame by frame: the run's frames are one range.
        let frames = match (placed.first(), placed.last()) {
            (Some(a), Some(b)) => a.frame..b.frame + 1,
            _ => 0..0,
        };
        for f in frames {
            let of_frame = || placed.iter().enumerate().filter(move |(_, p)| p.frame == f);
            let top = of_frame().map(|(_, p)| 2 * p.y).min().unwrap_or(0);
            let bottom = of_frame().map(|(_, p)| 2 * (p.y + p.h)).max().unwrap_or(0);
            let out = outputs[f].as_mut();
            for c in 0..3 {
                let rows = &mut out[(c * oh2 + top) * ow2..(c * oh2 + bottom) * ow2];
                rows.par_chunks_mut(ow2).enumerate().for_each(|(r, row)| {
                    let oy = top + r;
                    for (i, p) in
                        of_frame().filter(|(_, p)| (2 * p.y..2 * (p.y + p.h)).contains(&oy))
                    {
                        let y = oy - 2 * p.y;
                        let src =
                            &data[i * out_len + (c * osh + 2 * m + y) * osw + 2 * m..][..2 * p.w];
                        for (d, s) in row[2 * p.x..][..2 * p.w].iter_mut().zip(src) {
                            *d = s.clamp(0.0, 1.0);
                        }
                    }
                });
            }
        }
        self.placed.clear();
        self.timing.placed += placing.elapsed();
        Ok(())
    }
}
