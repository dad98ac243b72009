//! What the channels of audio say apart from loudness: DC offset (the mean of each channel)
//! and, for two or more channels, the phase correlation of the first two (left and right) in
//! blocks of 100 ms, each channel's mean taken out — near +1 for a centred mono source, near 0 for unrelated channels, below
//! zero when one channel is inverted (mono playback then cancels). No GStreamer types;
//! nothing allocated after `new`.

/// A block's correlation under which the pair is out of phase.
pub const OUT_OF_PHASE: f64 = -0.5;
/// A block quieter than this (variance of either channel, −60 dBFS) has no phase to speak of.
const QUIET: f64 = 1e-6;

#[derive(Debug, Clone)]
pub struct ChannelStats {
    channels: usize,
    /// Per channel, the sum of its samples since the last [`ChannelStats::take_dc`].
    sums: Vec<f64>,
    count: u64,
    /// Sample frames per block, and the block being summed: L, R, L·R, L², R².
    block: u64,
    in_block: u64,
    l: f64,
    r: f64,
    lr: f64,
    ll: f64,
    rr: f64,
    /// The lowest block correlation since the last [`ChannelStats::take_correlation`].
    lowest: Option<f64>,
}

impl ChannelStats {
    /// For `channels` channels at `rate` frames per second.
    pub fn new(channels: usize, rate: u64) -> Self {
        ChannelStats {
            channels,
            sums: vec![0.0; channels],
            count: 0,
            block: (rate / 10).max(1),
            in_block: 0,
            l: 0.0,
            r: 0.0,
            lr: 0.0,
            ll: 0.0,
            rr: 0.0,
            lowest: None,
        }
    }

    /// One frame (a sample per channel). At the end of a block with two channels and sound,
    /// its correlation (`Some(None)` for a quiet block); `None` inside a block.
    #[inline]
    pub fn push(&mut self, frame: &[f32]) -> Option<Option<f64>> {
        for (s, &v) in self.sums.iter_mut().zip(frame) {
            *s += v as f64;
        }
        self.count += 1;
        if self.channels < 2 {
            return None;
        }
        let (l, r) = (frame[0] as f64, frame[1] as f64);
        self.l += l;
        self.r += r;
        self.lr += l * r;
        self.ll += l * l;
        self.rr += r * r;
        self.in_block += 1;
        if self.in_block < self.block {
            return None;
        }
        // Each channel's own mean taken out (a DC offset is not phase).
        let n = self.in_block as f64;
        let (ml, mr) = (self.l / n, self.r / n);
        let (vl, vr) = (self.ll / n - ml * ml, self.rr / n - mr * mr);
        let quiet = vl < QUIET || vr < QUIET;
        let correlation = (!quiet).then(|| (self.lr / n - ml * mr) / (vl * vr).sqrt());
        (self.in_block, self.l, self.r) = (0, 0.0, 0.0);
        (self.lr, self.ll, self.rr) = (0.0, 0.0, 0.0);
        if let Some(c) = correlation {
            self.lowest = Some(self.lowest.map_or(c, |l| l.min(c)));
        }
        Some(correlation)
    }

    /// The largest DC offset of any channel (mean, full scale 1) since the last call.
    pub fn take_dc(&mut self) -> f64 {
        let n = self.count.max(1) as f64;
        let dc = self.sums.iter().fold(0.0f64, |m, s| m.max((s / n).abs()));
        self.sums.iter_mut().for_each(|s| *s = 0.0);
        self.count = 0;
        dc
    }

    /// The lowest block correlation since the last call (`None`: mono, or no block with sound).
    pub fn take_correlation(&mut self) -> Option<f64> {
        self.lowest.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dc_and_phase_of_two_channels() {
        let mut stats = ChannelStats::new(2, 1000);
        let mut blocks = Vec::new();
        for n in 0..1000 {
            let s = (n as f32 * 0.3).sin() * 0.5;
            // In phase, then the right channel inverted, then silence.
            let frame = match n {
                0..400 => [s + 0.1, s + 0.1],
                400..800 => [s, -s],
                _ => [0.0, 0.0],
            };
            if let Some(c) = stats.push(&frame) {
                blocks.push(c);
            }
        }
        assert_eq!(blocks.len(), 10);
        assert!(blocks[..4].iter().all(|c| c.unwrap() > 0.95));
        assert!(blocks[4..8].iter().all(|c| c.unwrap() < -0.99));
        assert!(blocks[8..].iter().all(Option::is_none));
        assert!((stats.take_dc() - 0.04).abs() < 0.005);
        assert!(stats.take_correlation().unwrap() < -0.99);
        assert_eq!((stats.take_dc(), stats.take_correlation()), (0.0, None));
    }
}
