//! The neural path: a 2x super-resolution network through ONNX Runtime (4x runs it twice),
//! over tiles of the frame. Each tile is read with a margin of the network's receptive
//! border (edges repeated at the frame's borders, as the network itself pads), so that the
//! tiles' centres put together equal the network run on the whole frame; tiles go through
//! in inferences of up to `per_inference` tiles, taken across the frames of a batch. Bounds
//! the network's memory at any frame size: one inference of tiles is in flight at a time.

use std::time::{Duration, Instant};

use rayon::prelude::*;

use mediaai_common::inference::{BoundInput, InputKind, InputValues, LoadedModel, SharedModel};
use mediaai_common::sampler::{Affine, TensorValue, YuvMatrix};

/// The input of a network that takes whole 8-bit I420 frames and gives them back upscaled
/// (`waifu2x-photo-x2-fp16-i420.onnx`, models/fetch.py `I420_IO`): uint8 `[N, 3H/2, W]`, each
/// frame's Y rows then its U and V planes, beside the caps' matrix as `to_rgb` and `to_yuv`
/// (float `[3, 4]`, [`YuvMatrix::affine`]); its output `[N, 3H, 2W]`, the 2Hx2W frames laid
/// out the same way in uint8 (I420), or uint16 10-bit levels (I420_10LE, `-i420-10.onnx`).
/// The conversions, the margin and the chroma's averaging run where the network runs.
pub const FRAMES_INPUT: &str = "frames";

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
    placed: Vec<Placed>,
    /// 4x: each frame's 2x result between the two passes (3 planes).
    middle: Vec<Vec<f32>>,
    /// The session's bound input and outputs for each inference shape met so far (a full
    /// inference, the last one of a batch): made on first use, then no tensor is allocated.
    bound: Vec<BoundInput>,
    timing: Timing,
    /// What [`Self::prime`] ran last on this session: frames, width, height, scale, tile side
    /// and tiles per inference, and the batch's steady time.
    primed: Option<Primed>,
    /// The network takes whole I420 frames ([`FRAMES_INPUT`]) ([`Self::run_frames`]) and
    /// gives 8-bit or 10-bit levels (uint8 or uint16): the bits.
    frames_bits: Option<u32>,
    /// The batch's frames: such a network takes up to these per inference.
    frames: usize,
    /// The matrix `bound` was bound with (frames networks).
    bound_matrix: Option<(Affine, Affine)>,
}

/// A batch shape primed on a session ([`Neural::prime`]) and its steady time.
pub type Primed = ([usize; 6], Duration);

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
        let frames_bits = frames_bits(&model.lock().expect("session lock is never poisoned"));
        let middle = if scale == 4 && frames_bits.is_none() {
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
            placed: Vec::with_capacity(per_inference),
            timing: Timing::default(),
            middle,
            bound: Vec::new(),
            primed: None,
            frames_bits,
            frames: frames.max(1),
            bound_matrix: None,
        }
    }

    /// Whether the network takes whole I420 frames ([`FRAMES_INPUT`]): then [`Self::run_frames`]
    /// upscales, not [`Self::run`].
    pub fn takes_frames(&self) -> bool {
        self.frames_bits.is_some()
    }

    /// The bits of the levels such a network gives (8: I420, 10: I420_10LE).
    pub fn frames_bits(&self) -> Option<u32> {
        self.frames_bits
    }

    /// With `primed`: what the session this was made from was primed for already.
    pub fn with_primed(mut self, primed: Option<Primed>) -> Self {
        self.primed = primed;
        self
    }

    /// What the session was primed for, to keep with it.
    pub fn primed(&self) -> Option<Primed> {
        self.primed
    }

    /// Runs a batch of `frames` blank `width`x`height` frames through the network before a
    /// frame has to wait for it — a device provider's set-up, algorithm search and first run
    /// at each shape the batches will meet (seconds on CUDA) — and returns the steady time of
    /// such a batch — the second run on a device, the only one on CPU cores (whose first run
    /// is their steady one) — and the first run's time (`None`: primed for it already). The frames are allocated here, at caps, not per frame. A shape
    /// the session was primed for already (going to PAUSED) is not run again.
    pub fn prime(
        &mut self,
        frames: usize,
        width: usize,
        height: usize,
        scale: usize,
        matrix: YuvMatrix,
    ) -> Result<(Duration, Option<Duration>), String> {
        let frames = frames.max(1);
        let key = [frames, width, height, scale, self.tile, self.per_inference];
        if let Some((_, steady)) = self.primed.filter(|(k, _)| *k == key) {
            return Ok((steady, None));
        }
        let (inputs, mut outputs) = if self.takes_frames() {
            (Vec::new(), Vec::new())
        } else {
            (
                vec![vec![0.0f32; 3 * width * height]; frames],
                vec![vec![0.0f32; 3 * width * height * scale * scale]; frames],
            )
        };
        let on_cpu = self
            .model
            .lock()
            .expect("session lock is never poisoned")
            .on_cpu();
        let mut runs = [Duration::ZERO; 2];
        for run in &mut runs[..if on_cpu { 1 } else { 2 }] {
            let started = Instant::now();
            if self.takes_frames() {
                let blank = |_: usize, frame: &mut [u8]| frame.fill(0);
                self.run_frames(frames, width, height, scale, matrix, blank, |_, _| {})?;
            } else {
                self.run(&inputs, width, height, scale, &mut outputs)?;
            }
            *run = started.elapsed();
        }
        let steady = if on_cpu { runs[0] } else { runs[1] };
        self.primed = Some((key, steady));
        Ok((steady, Some(runs[0])))
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

    /// A network that takes whole frames ([`FRAMES_INPUT`]): `n` 8-bit I420 frames of
    /// `w`x`h` (both even) upscaled 2x. `fill(k, planes)` writes frame `k`'s planes into
    /// `planes` (its Y rows, then U, then V, contiguous: 3wh/2 bytes), on the thread pool;
    /// `take(k, planes)` reads the upscaled frame laid out the same way (6wh samples: bytes, or
    /// little-endian words of 10-bit levels). Each inference takes [`frames_per_inference`]
    /// frames, a partial one padded (one shape on the device).
    #[allow(clippy::too_many_arguments)]
    pub fn run_frames(
        &mut self,
        n: usize,
        w: usize,
        h: usize,
        scale: usize,
        matrix: YuvMatrix,
        fill: impl Fn(usize, &mut [u8]) + Sync,
        mut take: impl FnMut(usize, &[u8]),
    ) -> Result<(), String> {
        self.timing = Timing::default();
        if scale != 2 || w % 2 == 1 || h % 2 == 1 || n > self.frames {
            return Err(format!(
                "the network takes whole I420 frames and upscales by 2 frames of even sides, up to {} at once: {n} frames of {w}x{h} by {scale} cannot go through it",
                self.frames
            ));
        }
        let bits = self.frames_bits.unwrap_or(8);
        // 10-bit levels are 8-bit ones four times finer.
        let affine = matrix.affine();
        let finer = (1u32 << (bits - 8)) as f32;
        let affine = (affine.0, affine.1.map(|row| row.map(|v| v * finer)));
        if self.bound_matrix != Some(affine) {
            self.bound.clear();
            self.bound_matrix = Some(affine);
        }
        let (to_rgb, to_yuv) = (affine.0.as_flattened(), affine.1.as_flattened());
        let constants: [(&str, &[usize], &[f32]); 2] =
            [("to_rgb", &[3, 4], to_rgb), ("to_yuv", &[3, 4], to_yuv)];
        let sample = if bits > 8 { 2 } else { 1 };
        let (in_len, out_len) = (3 * w * h / 2, 6 * w * h * sample);
        let per = frames_per_inference(self.frames, w, h, self.margin);
        let at = {
            let loaded = self.model.lock().expect("session lock is never poisoned");
            let shape = [per, 3 * h / 2, w];
            Self::bound_for(&mut self.bound, &loaded, &shape, &constants)?
        };
        for first in (0..n).step_by(per) {
            let frames = per.min(n - first);
            let cutting = Instant::now();
            let InputValues::U8(data) = self.bound[at].data_mut() else {
                return Err("the frames network's input is not uint8".into());
            };
            data[..frames * in_len]
                .par_chunks_mut(in_len)
                .enumerate()
                .for_each(|(k, planes)| fill(first + k, planes));
            self.timing.gathered += cutting.elapsed();
            let mut loaded = self.model.lock().expect("session lock is never poisoned");
            let started = Instant::now();
            let result = self.bound[at]
                .run(&mut loaded.session)
                .map_err(|e| format!("inference failed: {e}"))?;
            let placing = Instant::now();
            self.timing.network += placing - started;
            self.timing.inferences += 1;
            let (shape, out): (_, &[u8]) = match result[0].try_extract_tensor::<u8>() {
                Ok(got) => got,
                Err(_) => result[0]
                    .try_extract_tensor::<u16>()
                    .map(|(shape, words)| (shape, bytemuck::cast_slice(words)))
                    .map_err(|e| {
                        format!("the frames network's output is not uint8 or uint16: {e}")
                    })?,
            };
            if shape.len() != 3 || shape[1] as usize != 3 * h || shape[2] as usize != 2 * w {
                return Err(format!(
                    "output shape {shape:?}, expected [{per}, {}, {}] (2x I420 frames)",
                    3 * h,
                    2 * w
                ));
            }
            for (k, planes) in out.chunks_exact(out_len).take(frames).enumerate() {
                take(first + k, planes);
            }
            self.timing.placed += placing.elapsed();
        }
        Ok(())
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
                        self.infer(inputs, (sw, sh), size, w, h, outputs)?;
                    }
                }
            }
        }
        if !self.placed.is_empty() {
            self.infer(inputs, (sw, sh), size, w, h, outputs)?;
        }
        Ok(())
    }

    /// Which of `bound` has the input and outputs for inferences of `shape`, made on first use
    /// (under the session's lock, which `loaded` is).
    fn bound_for(
        bound: &mut Vec<BoundInput>,
        loaded: &LoadedModel,
        shape: &[usize],
        constants: &[(&str, &[usize], &[f32])],
    ) -> Result<usize, String> {
        if let Some(at) = bound.iter().position(|b| b.shape() == shape) {
            return Ok(at);
        }
        bound.push(BoundInput::with_constants(loaded, shape, constants)?);
        Ok(bound.len() - 1)
    }

    /// Cuts `placed` tiles out of their frames (`w`x`h`) into `tiles`, each `sw`x`sh` with the
    /// margin (edges repeated at the frame's borders), one tile per task of the thread pool.
    fn gather<I: AsRef<[f32]> + Sync, T: TensorValue>(
        tiles: &mut [T],
        placed: &[Placed],
        margin: usize,
        inputs: &[I],
        (w, h): (usize, usize),
        (sw, sh): (usize, usize),
    ) {
        let m = margin;
        // Row by row over the thread pool (a tile may be the whole frame): row r of the
        // tiles is row y of channel c of tile r / (3 · sh).
        tiles[..placed.len() * 3 * sw * sh]
            .par_chunks_mut(sw)
            .enumerate()
            .for_each(|(r, dst)| {
                let (p, c, y) = (&placed[r / (3 * sh)], (r / sh) % 3, r % sh);
                let input = inputs[p.frame].as_ref();
                // Columns x of the tile read the frame's column tx + x − m: those before
                // `first` and from `last` on lie past the frame's sides and repeat its edge.
                let first = m.saturating_sub(p.x);
                let last = (w + m - p.x).min(sw);
                let sy = (p.y + y).saturating_sub(m).min(h - 1);
                let row = &input[c * w * h + sy * w..][..w];
                let value = |v: f32| T::from_sample(v, 1.0);
                dst[..first].fill(value(row[0]));
                for (d, &v) in dst[first..last]
                    .iter_mut()
                    .zip(&row[p.x + first - m..p.x + last - m])
                {
                    *d = value(v);
                }
                dst[last..].fill(value(row[w - 1]));
            });
    }

    /// Cuts the tiles placed so far out of `inputs` straight into the session's bound input,
    /// runs them and puts their centres into `outputs` (the 2x frames of `w`x`h` inputs). On a
    /// device provider the inference has `size` tiles however many are placed: the rest are
    /// left-overs whose results are not read. A shape that changes from one run to the next
    /// costs a device far more than the padding (CUDA on the H200: runs of 32 tiles
    /// alternating with 16 went at a quarter of the speed of one shape).
    fn infer<I: AsRef<[f32]> + Sync, O: AsMut<[f32]>>(
        &mut self,
        inputs: &[I],
        (sw, sh): (usize, usize),
        size: usize,
        w: usize,
        h: usize,
        outputs: &mut [O],
    ) -> Result<(), String> {
        let m = self.margin;
        let cutting = Instant::now();
        let placed = self.placed.len();
        // The bound input for this shape (made under the session's lock the first time), cut
        // into while the session is free for a batch group's other streams.
        let at = {
            let loaded = self.model.lock().expect("session lock is never poisoned");
            let n = if loaded.on_cpu() {
                placed
            } else {
                size.max(placed)
            };
            Self::bound_for(&mut self.bound, &loaded, &[n, 3, sh, sw], &[])?
        };
        let n = self.bound[at].shape()[0];
        let (placed, size) = (&self.placed, (w, h));
        match self.bound[at].data_mut() {
            InputValues::F32(v) => Self::gather(v, placed, m, inputs, size, (sw, sh)),
            InputValues::F16(v) => Self::gather(v, placed, m, inputs, size, (sw, sh)),
            InputValues::U8(_) => {
                return Err("the model's input is uint8; upscale's networks take floats".into())
            }
        }
        self.timing.gathered += cutting.elapsed();
        // A batch group's streams take turns on the session; the lock is held while the
        // output is read.
        let mut loaded = self.model.lock().expect("session lock is never poisoned");
        let bound = &mut self.bound[at];
        let started = Instant::now();
        let result = bound
            .run(&mut loaded.session)
            .map_err(|e| format!("inference failed: {e}"))?;
        let placing = Instant::now();
        self.timing.network += placing - started;
        self.timing.inferences += 1;
        // Float32, or float16 from a half-precision model without casts at its ends.
        let (shape, data) = match result[0].try_extract_tensor::<f32>() {
            Ok((shape, data)) => (shape, Output::F32(data)),
            Err(_) => result[0]
                .try_extract_tensor::<half::f16>()
                .map(|(shape, data)| (shape, Output::F16(data)))
                .map_err(|e| format!("output is not a float tensor: {e}"))?,
        };
        let (osw, osh) = (2 * sw, 2 * sh);
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
        match data {
            Output::F32(d) => Self::place(&self.placed, m, d, (sw, sh), w, h, outputs, |v| v),
            Output::F16(d) => Self::place(
                &self.placed,
                m,
                d,
                (sw, sh),
                w,
                h,
                outputs,
                half::f16::to_f32,
            ),
        }
        self.placed.clear();
        self.timing.placed += placing.elapsed();
        Ok(())
    }

    /// Puts the centres of the `placed` tiles' outputs (`data`, `[n, 3, 2·sh, 2·sw]` with
    /// `margin` pixels around each input tile, read as floats by `float`) into `outputs`,
    /// clamped to 0..1.
    #[allow(clippy::too_many_arguments)]
    fn place<S: Copy + Sync, O: AsMut<[f32]>>(
        placed: &[Placed],
        margin: usize,
        data: &[S],
        (sw, sh): (usize, usize),
        w: usize,
        h: usize,
        outputs: &mut [O],
        float: impl Fn(S) -> f32 + Sync,
    ) {
        let m = margin;
        let (osw, osh, ow2, oh2) = (2 * sw, 2 * sh, 2 * w, 2 * h);
        let out_len = 3 * osw * osh;
        // Each output row the tiles cover, over the thread pool: a row takes the part of every
        // tile of its frame that crosses it.
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
                        for (d, &s) in row[2 * p.x..][..2 * p.w].iter_mut().zip(src) {
                            *d = float(s).clamp(0.0, 1.0);
                        }
                    }
                });
            }
        }
    }
}

/// A network's output values.
enum Output<'a> {
    F32(&'a [f32]),
    F16(&'a [half::f16]),
}

/// The channels of the default network's widest activation, at its input's size.
const WIDEST_CHANNELS: usize = 256;

/// Frames of `w`x`h` one inference of a whole-frame network takes, up to the batch's
/// `frames`: its widest activation (256 channels at the frame's size with the margin and the
/// network's own padding of 7) stays under 2^31 elements, cuDNN's limit (4 frames of 1080p
/// went past it on an H200: CUDNN_STATUS_NOT_SUPPORTED; 3 fit), shared out evenly over the
/// inferences the batch needs. Every inference runs the bound shape whole, so a batch of 4 in
/// threes ran 6 frames' work: 37.8 fps at 1080p on an H100 against 53.3 one frame at a time
/// and 55.7 two at a time; in twos it runs 4.
fn frames_per_inference(frames: usize, w: usize, h: usize, margin: usize) -> usize {
    let side = |s: usize| s + 2 * margin + 14;
    let per_frame = WIDEST_CHANNELS * side(w) * side(h);
    let frames = frames.max(1);
    let most = (((1usize << 31) - 1) / per_frame.max(1)).clamp(1, frames);
    frames.div_ceil(frames.div_ceil(most))
}

/// Whether `loaded`'s network takes whole I420 frames ([`FRAMES_INPUT`]), and then the bits
/// of the levels it gives (its output uint8: 8, uint16: 10).
fn frames_bits(loaded: &LoadedModel) -> Option<u32> {
    use ort::value::TensorElementType as T;
    let session = &loaded.session;
    let takes = session.inputs().iter().any(|i| {
        i.name() == FRAMES_INPUT && InputKind::of(i.dtype().tensor_type()) == Ok(InputKind::U8)
    });
    match session.outputs().first().map(|o| o.dtype().tensor_type()) {
        Some(Some(T::Uint8)) if takes => Some(8),
        Some(Some(T::Uint16)) if takes => Some(10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_frame_inferences_stay_under_cudnn_limit() {
        // 1080p: 3 frames fit, the 4th went past 2^31 elements on the H200; a batch of 4
        // runs as two of 2, not 3 and a padded 1, 5 as two of 3.
        assert_eq!(frames_per_inference(3, 1920, 1080, 8), 3);
        assert_eq!(frames_per_inference(4, 1920, 1080, 8), 2);
        assert_eq!(frames_per_inference(5, 1920, 1080, 8), 3);
        assert_eq!(frames_per_inference(2, 1920, 1080, 8), 2);
        assert_eq!(frames_per_inference(0, 1920, 1080, 8), 1);
        assert_eq!(frames_per_inference(16, 720, 576, 8), 16);
        // Past the limit alone: one at a time (the provider says what it refuses).
        assert_eq!(frames_per_inference(4, 8192, 4320, 8), 1);
    }
}
