//! The denoising chain without GStreamer: interleaved `f32` audio at any rate and channel count
//! in, the same out, `delay()` frames later.
//!
//! Per channel: stream rate → 48 kHz (FFT resampler, exact rational ratio) → the model (RNNoise,
//! or DeepFilterNet 3 through its runtime) in 480-sample frames → dry/wet mix and voice gate →
//! back to the stream rate. Work happens in blocks: the
//! fewest 480-sample model frames whose length at the stream rate is a whole number of samples
//! (one frame at 8, 16, 32, 44.1, 48, 96 kHz; two at 22.05 kHz; four at 11.025 kHz). Everything
//! is allocated in [`Chain::new`]; [`Chain::process`] allocates nothing.

use std::path::PathBuf;

use mediaai_common::deepfilter::{self, DeepFilter};
use nnnoiseless::DenoiseState;
use rubato::audioadapter_buffers::direct::SequentialSlice;
use rubato::{Fft, FixedSync, Resampler};

/// The rate the model runs at.
pub const MODEL_RATE: u32 = 48_000;
/// Samples per model frame at [`MODEL_RATE`].
pub const FRAME: usize = nnnoiseless::FRAME_SIZE;
/// Consecutive frames under the voice threshold before the gate closes (200 ms), so word
/// endings and short pauses are not cut.
const GATE_HOLD_FRAMES: u32 = 20;
/// RNNoise takes samples at 16-bit scale.
const RNNOISE_SCALE: f32 = 32768.0;

/// Which model denoises, and where its files are.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineSpec {
    RnNoise,
    DeepFilter { library: PathBuf, model: PathBuf },
}

/// One channel's model.
enum Model {
    RnNoise(Box<DenoiseState<'static>>),
    DeepFilter(DeepFilter),
}

impl Model {
    fn new(spec: &EngineSpec) -> Result<Self, String> {
        Ok(match spec {
            EngineSpec::RnNoise => Model::RnNoise(DenoiseState::new()),
            EngineSpec::DeepFilter { library, model } => {
                Model::DeepFilter(DeepFilter::new(library, model)?)
            }
        })
    }

    /// Frames between an input frame and its output.
    fn delay_frames(&self) -> usize {
        match self {
            // Its output frame is the input frame before it, denoised.
            Model::RnNoise(_) => 1,
            Model::DeepFilter(_) => deepfilter::DELAY_FRAMES,
        }
    }

    /// Denoises one frame (-1..1) of `input` into `output`; returns the voice probability.
    fn process(&mut self, input: &mut [f32], output: &mut [f32]) -> f32 {
        match self {
            Model::RnNoise(m) => {
                input.iter_mut().for_each(|v| *v *= RNNOISE_SCALE);
                let vad = m.process_frame(output, input);
                output.iter_mut().for_each(|v| *v /= RNNOISE_SCALE);
                vad
            }
            Model::DeepFilter(m) => {
                // Its local SNR estimate (about -15..35 dB) mapped onto 0..1.
                let lsnr = m.process_frame(input, output);
                ((lsnr + 15.0) / 50.0).clamp(0.0, 1.0)
            }
        }
    }
}

/// What the chain is told per call (read by the element from atomics, so they may change at
/// any buffer).
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Largest attenuation in dB: the dry signal is mixed back at `-limit` dB (100: none).
    pub attenuation_limit: f32,
    /// Voice probability under which frames are attenuated by the full limit (0: no gate).
    pub vad_threshold: f32,
}

/// Voice activity over the frames processed since the last [`Chain::take_vad`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VadSummary {
    pub frames: u32,
    pub mean: f32,
    pub max: f32,
}

/// A fixed-capacity FIFO of interleaved frames.
struct Fifo {
    data: Vec<f32>,
    channels: usize,
    head: usize,
    len: usize,
}

impl Fifo {
    fn new(channels: usize, frames: usize) -> Self {
        Fifo {
            data: vec![0.0; channels * frames],
            channels,
            head: 0,
            len: 0,
        }
    }

    fn capacity(&self) -> usize {
        self.data.len() / self.channels
    }

    /// Appends frame `i` of the planar block `planar` (`frames` long per channel).
    fn push_planar(&mut self, planar: &[f32], frames: usize, range: std::ops::Range<usize>) {
        let cap = self.capacity();
        for i in range {
            let at = (self.head + self.len) % cap * self.channels;
            for c in 0..self.channels {
                self.data[at + c] = planar[c * frames + i];
            }
            self.len += 1;
        }
        debug_assert!(self.len <= cap);
    }

    /// Moves up to `out.len() / channels` frames into `out`; returns how many.
    fn pop_into(&mut self, out: &mut [f32]) -> usize {
        let cap = self.capacity();
        let n = self.len.min(out.len() / self.channels);
        for frame in out.chunks_exact_mut(self.channels).take(n) {
            let at = self.head * self.channels;
            frame.copy_from_slice(&self.data[at..at + self.channels]);
            self.head = (self.head + 1) % cap;
        }
        self.len -= n;
        n
    }

    fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

/// One stream's denoiser.
pub struct Chain {
    channels: usize,
    /// Frames per block at the stream rate and at the model rate.
    n_in: usize,
    n_model: usize,
    up: Option<Fft<f32>>,
    down: Option<Fft<f32>>,
    models: Vec<Model>,
    /// Planar blocks: input at the stream rate (filling), at the model rate, the mixed output
    /// at the model rate and back at the stream rate.
    block_in: Vec<f32>,
    filled: usize,
    block_model: Vec<f32>,
    wet_model: Vec<f32>,
    block_out: Vec<f32>,
    /// Per channel, the model-rate input of the last `model_delay` samples: its first frame is
    /// the dry signal aligned with the model's output.
    dry_hist: Vec<f32>,
    model_delay: usize,
    frame_in: Vec<f32>,
    frame_out: Vec<f32>,
    /// Per channel, model frames since the voice probability was last above the threshold.
    quiet_frames: Vec<u32>,
    out: Fifo,
    /// Output frames still to drop: the chain's delay, so output frame k is input frame k.
    to_trim: usize,
    delay: usize,
    vad_sum: f32,
    vad_max: f32,
    vad_frames: u32,
}

/// One planar block (`channels` rows) from `input` into `output` through `resampler`, or
/// copied when the rates match. Sizes were checked in [`Chain::new`]; a failure leaves silence
/// rather than stop the audio.
fn resample(resampler: &mut Option<Fft<f32>>, input: &[f32], output: &mut [f32], channels: usize) {
    let Some(r) = resampler else {
        output.copy_from_slice(input);
        return;
    };
    let (n_in, n_out) = (input.len() / channels, output.len() / channels);
    let ok = match (
        SequentialSlice::new(input, channels, n_in),
        SequentialSlice::new_mut(&mut *output, channels, n_out),
    ) {
        (Ok(i), Ok(mut o)) => r.process_into_buffer(&i, &mut o, None).is_ok(),
        _ => false,
    };
    if !ok {
        output.fill(0.0);
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Chain {
    /// A chain for `channels` channels at `rate` Hz (8–192 kHz) through `engine`.
    pub fn new(rate: u32, channels: usize, engine: &EngineSpec) -> Result<Self, String> {
        if !(8_000..=192_000).contains(&rate) {
            return Err(format!("sample rate {rate} Hz is outside 8000–192000 Hz"));
        }
        if channels == 0 || channels > 64 {
            return Err(format!("{channels} channels: 1 to 64 are supported"));
        }
        // Fewest model frames k with k·480·rate/48000 = k·rate/100 whole samples.
        let k = 100 / gcd(rate as u64, 100) as usize;
        let n_model = k * FRAME;
        let n_in = k * rate as usize / 100;
        let resampler = |from: u32, to: u32, chunk: usize| {
            Fft::<f32>::new(from as usize, to as usize, chunk, channels, FixedSync::Both)
                .map_err(|e| format!("resampler {from}→{to} Hz: {e}"))
        };
        let (up, down) = if rate == MODEL_RATE {
            (None, None)
        } else {
            let up = resampler(rate, MODEL_RATE, n_in)?;
            let down = resampler(MODEL_RATE, rate, n_model)?;
            for (r, i, o) in [(&up, n_in, n_model), (&down, n_model, n_in)] {
                if r.input_frames_next() != i || r.output_frames_next() != o {
                    return Err(format!(
                        "resampler blocks {}→{} frames, wanted {i}→{o}",
                        r.input_frames_next(),
                        r.output_frames_next()
                    ));
                }
            }
            (Some(up), Some(down))
        };
        let models = (0..channels)
            .map(|_| Model::new(engine))
            .collect::<Result<Vec<_>, _>>()?;
        let model_delay = models[0].delay_frames() * FRAME;
        // Delay at the stream rate: resampler in (model-rate frames), model, resampler out.
        let up_delay = up.as_ref().map_or(0, |r| r.output_delay());
        let down_delay = down.as_ref().map_or(0, |r| r.output_delay());
        let model_side = (up_delay + model_delay) as f64 * rate as f64 / MODEL_RATE as f64;
        let delay = (model_side + down_delay as f64).round() as usize;
        Ok(Chain {
            channels,
            n_in,
            n_model,
            up,
            down,
            models,
            block_in: vec![0.0; channels * n_in],
            filled: 0,
            block_model: vec![0.0; channels * n_model],
            wet_model: vec![0.0; channels * n_model],
            block_out: vec![0.0; channels * n_in],
            dry_hist: vec![0.0; channels * model_delay],
            model_delay,
            frame_in: vec![0.0; FRAME],
            frame_out: vec![0.0; FRAME],
            quiet_frames: vec![GATE_HOLD_FRAMES; channels],
            // Output waits here until the caller's buffer has room: at most the delay plus
            // two blocks (one spare for margin).
            out: Fifo::new(channels, delay + 3 * n_in),
            to_trim: delay,
            delay,
            vad_sum: 0.0,
            vad_max: 0.0,
            vad_frames: 0,
        })
    }

    /// Frames between an input frame and the same frame out, at the stream rate.
    pub fn delay(&self) -> usize {
        self.delay
    }

    /// Frames a block holds at the stream rate: input waits up to this long for its block.
    pub fn block(&self) -> usize {
        self.n_in
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Denoises the interleaved frames of `data` in place: reads them all and writes as many
    /// output frames as are ready (never more than have been read) from the start of `data`;
    /// returns how many it wrote. The rest wait for the next call or [`Self::drain`].
    pub fn process(&mut self, data: &mut [f32], params: &Params) -> usize {
        let ch = self.channels;
        let frames = data.len() / ch;
        let (mut read, mut written) = (0, 0);
        while read < frames {
            let take = (frames - read).min(self.n_in - self.filled);
            for i in 0..take {
                for c in 0..ch {
                    // NaN or infinity from a broken upstream would poison the FFTs and the
                    // network state: they go in as silence.
                    let v = data[(read + i) * ch + c];
                    self.block_in[c * self.n_in + self.filled + i] =
                        if v.is_finite() { v } else { 0.0 };
                }
            }
            read += take;
            self.filled += take;
            if self.filled == self.n_in {
                self.run_block(params);
            }
            written += self.out.pop_into(&mut data[written * ch..read * ch]);
        }
        written
    }

    /// Flushes the frames still inside (silence pushed behind them) into `out`, at most
    /// `pending` of them (the input frames not yet given back); returns how many it wrote.
    pub fn drain(&mut self, out: &mut [f32], pending: usize, params: &Params) -> usize {
        let ch = self.channels;
        let want = pending.min(out.len() / ch);
        let mut written = self.out.pop_into(&mut out[..want * ch]);
        while written < want {
            for c in 0..ch {
                self.block_in[c * self.n_in + self.filled..(c + 1) * self.n_in].fill(0.0);
            }
            self.filled = self.n_in;
            self.run_block(params);
            written += self.out.pop_into(&mut out[written * ch..want * ch]);
        }
        self.reset();
        written
    }

    /// Forgets all audio inside (flush, discontinuity); the models keep what they learnt of the
    /// noise.
    pub fn reset(&mut self) {
        self.filled = 0;
        self.out.clear();
        self.to_trim = self.delay;
        self.dry_hist.fill(0.0);
        if let Some(r) = &mut self.up {
            r.reset();
        }
        if let Some(r) = &mut self.down {
            r.reset();
        }
    }

    /// Voice activity since the last call.
    pub fn take_vad(&mut self) -> VadSummary {
        let s = VadSummary {
            frames: self.vad_frames,
            mean: if self.vad_frames > 0 {
                self.vad_sum / self.vad_frames as f32
            } else {
                0.0
            },
            max: self.vad_max,
        };
        self.vad_sum = 0.0;
        self.vad_max = 0.0;
        self.vad_frames = 0;
        s
    }

    /// One full input block through the chain into the output FIFO.
    fn run_block(&mut self, params: &Params) {
        let (ch, n_in, n_model) = (self.channels, self.n_in, self.n_model);
        resample(&mut self.up, &self.block_in, &mut self.block_model, ch);
        // 100 dB means no limit: nothing of the original.
        let dry_gain = if params.attenuation_limit >= 100.0 {
            0.0
        } else {
            10f32.powf(-params.attenuation_limit.max(0.0) / 20.0)
        };
        for c in 0..ch {
            for f in 0..n_model / FRAME {
                let at = c * n_model + f * FRAME;
                self.frame_in
                    .copy_from_slice(&self.block_model[at..at + FRAME]);
                let vad = self.models[c].process(&mut self.frame_in, &mut self.frame_out);
                self.vad_sum += vad;
                self.vad_max = self.vad_max.max(vad);
                self.vad_frames += 1;
                if vad >= params.vad_threshold {
                    self.quiet_frames[c] = 0;
                } else {
                    self.quiet_frames[c] = self.quiet_frames[c].saturating_add(1);
                }
                // Gate closed: only the dry floor passes.
                let wet_gain =
                    if params.vad_threshold > 0.0 && self.quiet_frames[c] > GATE_HOLD_FRAMES {
                        0.0
                    } else {
                        1.0
                    };
                let d = self.model_delay;
                let hist = &mut self.dry_hist[c * d..(c + 1) * d];
                let wet = &mut self.wet_model[at..at + FRAME];
                for ((w, o), dry) in wet.iter_mut().zip(&self.frame_out).zip(hist.iter()) {
                    *w = o * wet_gain * (1.0 - dry_gain) + dry * dry_gain;
                }
                // The history moves on by one frame.
                hist.copy_within(FRAME.., 0);
                hist[d - FRAME..].copy_from_slice(&self.block_model[at..at + FRAME]);
            }
        }
        resample(&mut self.down, &self.wet_model, &mut self.block_out, ch);
        self.filled = 0;
        let skip = self.to_trim.min(n_in);
        self.to_trim -= skip;
        self.out.push_planar(&self.block_out, n_in, skip..n_in);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_sizes_are_whole_at_common_rates() {
        for (rate, n_in) in [
            (8_000, 80),
            (11_025, 441),
            (16_000, 160),
            (22_050, 441),
            (32_000, 320),
            (44_100, 441),
            (48_000, 480),
            (96_000, 960),
        ] {
            let c = Chain::new(rate, 2, &EngineSpec::RnNoise).unwrap();
            assert_eq!(c.block(), n_in, "{rate}");
        }
        assert!(Chain::new(4_000, 1, &EngineSpec::RnNoise).is_err());
        assert!(Chain::new(48_000, 0, &EngineSpec::RnNoise).is_err());
    }

    #[test]
    fn output_length_equals_input_length_after_drain() {
        for rate in [16_000, 44_100, 48_000] {
            let mut c = Chain::new(rate, 2, &EngineSpec::RnNoise).unwrap();
            let p = Params {
                attenuation_limit: 100.0,
                vad_threshold: 0.0,
            };
            let mut total_in = 0;
            let mut total_out = 0;
            for n in [100usize, 7, 1000, 333, 4096] {
                let mut buf = vec![0.1f32; n * 2];
                total_out += c.process(&mut buf, &p);
                total_in += n;
            }
            let mut tail = vec![0.0; (total_in - total_out) * 2];
            total_out += c.drain(&mut tail, total_in - total_out, &p);
            assert_eq!(total_out, total_in, "{rate}");
        }
    }
}
