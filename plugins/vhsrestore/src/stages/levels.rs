//! Levels and saturation repair: straight-line maps of pixel values.

use super::*;

/// A straight-line map of pixel values, `v · gain + offset`, rounded and clamped to bytes:
/// levels and saturation repair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Linear {
    pub gain: f32,
    pub offset: f32,
}

impl Default for Linear {
    fn default() -> Self {
        Linear {
            gain: 1.0,
            offset: 0.0,
        }
    }
}

impl Linear {
    /// Luma `black`..`white` onto 16..235.
    pub fn levels(black: f64, white: f64) -> Self {
        let gain = 219.0 / (white - black).max(1.0);
        Linear {
            gain: gain as f32,
            offset: (16.0 - black * gain) as f32,
        }
    }

    /// Chroma scaled about 128 by `saturation`.
    pub fn saturation(saturation: f64) -> Self {
        Linear {
            gain: saturation as f32,
            offset: (128.0 * (1.0 - saturation)) as f32,
        }
    }

    pub(crate) fn is_identity(&self) -> bool {
        *self == Linear::default()
    }

    /// `values` mapped and rounded into `out`.
    #[inline(always)]
    pub(super) fn apply(&self, out: &mut [u8], values: &[f32], scratch: &mut [f32]) {
        if self.is_identity() {
            quantize(out, values);
        } else {
            let n = values.len();
            let scratch = &mut scratch[..n];
            for x in 0..n {
                scratch[x] = values[x] * self.gain + self.offset;
            }
            quantize(out, scratch);
        }
    }
}
