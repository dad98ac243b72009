//! The neural path: a 2x super-resolution network through ONNX Runtime (4x runs it twice),
//! over tiles of the frame. Each tile is read with a margin of the network's receptive
//! border (edges repeated at the frame's borders, as the network itself pads), so that the
//! tiles' centres put together equal the network run on the whole frame; tiles go through
//! in batches of up to `batch` per inference. Bounds memory for any frame size: one batch of
//! tiles is in flight at a time.

use ort::session::Session;
use ort::value::TensorRef;

/// Input pixels per tile side (before the margin), by default.
pub const TILE: usize = 128;

/// Frames upscaled 2x by `session` (input `[N, 3, H, W]` RGB 0..1, output `[N, 3, 2H, 2W]`).
pub struct Neural {
    session: Session,
    /// Pixels each tile reads beyond its sides: the network's receptive border.
    margin: usize,
    /// Input pixels per tile side.
    tile: usize,
    batch: usize,
    /// The batch's input tiles, `batch · 3 · side²` with `side = TILE + 2 · margin`.
    tiles: Vec<f32>,
    /// Where each tile of the batch goes: frame tile origin and size.
    placed: Vec<(usize, usize, usize, usize)>,
    /// 4x: the 2x frame between the two passes (3 planes).
    middle: Vec<f32>,
}

impl Neural {
    /// For `session`, whose network reads `margin` pixels around each output pixel's source;
    /// `batch` tiles per inference; frames up to `width`x`height` (the 2x intermediate of a
    /// 4x run is allocated here when `scale` is 4).
    pub fn new(
        session: Session,
        margin: usize,
        tile: usize,
        batch: usize,
        width: usize,
        height: usize,
        scale: usize,
    ) -> Self {
        let (batch, tile) = (batch.max(1), tile.max(1));
        let side = tile + 2 * margin;
        Neural {
            session,
            margin,
            tile,
            batch,
            tiles: vec![0.0; batch * 3 * side * side],
            placed: Vec::with_capacity(batch),
            middle: if scale == 4 {
                vec![0.0; 3 * 4 * width * height]
            } else {
                Vec::new()
            },
        }
    }

    /// The session back, for the next caps.
    pub fn into_session(self) -> Session {
        self.session
    }

    /// `input` (3 planes of `width`x`height`, 0..1) upscaled by `scale` (2 or 4) into `out`.
    pub fn run(
        &mut self,
        input: &[f32],
        width: usize,
        height: usize,
        scale: usize,
        out: &mut [f32],
    ) -> Result<(), String> {
        if scale == 4 {
            let mut middle = std::mem::take(&mut self.middle);
            let done = self
                .pass(input, width, height, &mut middle)
                .and_then(|()| self.pass(&middle, 2 * width, 2 * height, out));
            self.middle = middle;
            done
        } else {
            self.pass(input, width, height, out)
        }
    }

    /// One 2x pass of the network over the tiles of a `width`x`height` frame.
    fn pass(&mut self, input: &[f32], w: usize, h: usize, out: &mut [f32]) -> Result<(), String> {
        if input.len() < 3 * w * h || out.len() < 12 * w * h {
            return Err("frame buffers smaller than the frame".into());
        }
        // Tiles no larger than the frame: a small frame is one tile of its own size.
        let (tw, th) = (self.tile.min(w), self.tile.min(h));
        let m = self.margin;
        let (sw, sh) = (tw + 2 * m, th + 2 * m);
        let tile_len = 3 * sw * sh;
        self.placed.clear();
        for ty in (0..h).step_by(th) {
            for tx in (0..w).step_by(tw) {
                let slot = self.placed.len();
                let tile = &mut self.tiles[slot * tile_len..(slot + 1) * tile_len];
                for c in 0..3 {
                    let plane = &input[c * w * h..(c + 1) * w * h];
                    for y in 0..sh {
                        let sy = (ty + y).saturating_sub(m).min(h - 1);
                        let row = &plane[sy * w..(sy + 1) * w];
                        let dst = &mut tile[(c * sh + y) * sw..][..sw];
                        for (x, d) in dst.iter_mut().enumerate() {
                            *d = row[(tx + x).saturating_sub(m).min(w - 1)];
                        }
                    }
                }
                self.placed.push((tx, ty, tw.min(w - tx), th.min(h - ty)));
                if self.placed.len() == self.batch {
                    self.infer((sw, sh), w, h, out)?;
                }
            }
        }
        if !self.placed.is_empty() {
            self.infer((sw, sh), w, h, out)?;
        }
        Ok(())
    }

    /// Runs the tiles of the batch filled so far and puts their centres into `out` (the 2x
    /// frame of a `w`x`h` input).
    fn infer(
        &mut self,
        (sw, sh): (usize, usize),
        w: usize,
        h: usize,
        out: &mut [f32],
    ) -> Result<(), String> {
        let n = self.placed.len();
        let m = self.margin;
        let tile_len = 3 * sw * sh;
        let input = TensorRef::from_array_view(([n, 3, sh, sw], &self.tiles[..n * tile_len]))
            .map_err(|e| format!("input tensor: {e}"))?;
        let outputs = self
            .session
            .run(ort::inputs![input])
            .map_err(|e| format!("inference failed: {e}"))?;
        let (shape, data) = outputs[0]
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
        for (i, &(tx, ty, tw, th)) in self.placed.iter().enumerate() {
            let tile = &data[i * out_len..(i + 1) * out_len];
            for c in 0..3 {
                for y in 0..2 * th {
                    let src = &tile[(c * osh + 2 * m + y) * osw + 2 * m..][..2 * tw];
                    let dst = &mut out[c * ow2 * oh2 + (2 * ty + y) * ow2 + 2 * tx..][..2 * tw];
                    for (d, s) in dst.iter_mut().zip(src) {
                        *d = s.clamp(0.0, 1.0);
                    }
                }
            }
        }
        self.placed.clear();
        Ok(())
    }
}
