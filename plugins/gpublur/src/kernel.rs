//! Gaussian weights, computed once per strength on the CPU and shared by both paths.

/// Largest sigma the element accepts; the kernel reaches three sigmas each side.
pub const MAX_SIGMA: f64 = 100.0;
/// Taps on each side at [`MAX_SIGMA`].
pub const MAX_RADIUS: u32 = (MAX_SIGMA * 3.0) as u32;

/// Above this sigma the gaussian runs through the pyramid (`BlurOp::Pyramid`).
pub const PYRAMID_FROM_SIGMA: f32 = 3.0;
/// The pyramid shrinks by powers of two while sigma stays at least this many blocks: a
/// smaller grid sigma is faster but drifts from the direct blur.
const PYRAMID_BLOCK_SIGMA: f32 = 2.0;

/// Block factor and block-grid sigma that give a gaussian of `sigma` pixels through the
/// pyramid, or `None` when the direct blur is cheap enough. Averaging blocks of side f and
/// sampling back bilinearly blur by themselves (variances (f²-1)/12 and f²/6); the grid blur
/// supplies the rest.
pub fn pyramid_for(sigma: f32) -> Option<(u32, f32)> {
    if sigma <= PYRAMID_FROM_SIGMA {
        return None;
    }
    let mut f = 2u32;
    while sigma / (2 * f) as f32 >= PYRAMID_BLOCK_SIGMA {
        f *= 2;
    }
    let ff = (f * f) as f32;
    let rest = (sigma * sigma - (ff - 1.0) / 12.0 - ff / 6.0).max(ff / 4.0);
    Some((f, rest.sqrt() / f as f32))
}

/// Largest bokeh disc, in blocks, before the pyramid halves the grid again: at most 81 samples.
const BOKEH_MAX_DISC: f32 = 4.0;

/// Block factor (at least 2, so the grids fit the scratch every frame size has) and disc radius
/// in blocks for a bokeh of `radius` pixels.
pub fn bokeh_for(radius: f32) -> (u32, f32) {
    let mut f = 2u32;
    while radius / f as f32 > BOKEH_MAX_DISC {
        f *= 2;
    }
    (f, radius / f as f32)
}

/// Half of a normalised gaussian: `weights[0]` is the centre tap, `weights[i]` the tap `i`
/// pixels away on either side.
#[derive(Debug, Clone)]
pub struct GaussianKernel {
    sigma: f32,
    weights: Vec<f32>,
}

impl Default for GaussianKernel {
    fn default() -> Self {
        let mut k = GaussianKernel {
            sigma: -1.0,
            weights: Vec::with_capacity(MAX_RADIUS as usize + 1),
        };
        k.set_sigma(0.0);
        k
    }
}

impl GaussianKernel {
    /// Recomputes the weights in place for `sigma` (clamped to `0..=MAX_SIGMA`); returns whether
    /// they changed.
    pub fn set_sigma(&mut self, sigma: f32) -> bool {
        let sigma = sigma.clamp(0.0, MAX_SIGMA as f32);
        if sigma == self.sigma {
            return false;
        }
        self.sigma = sigma;
        self.weights.clear();
        if sigma < 0.01 {
            self.weights.push(1.0);
            return true;
        }
        let radius = ((3.0 * sigma).ceil() as u32).min(MAX_RADIUS);
        let two_s2 = 2.0 * sigma * sigma;
        self.weights
            .extend((0..=radius).map(|i| (-((i * i) as f32) / two_s2).exp()));
        let total = self.weights[0] + 2.0 * self.weights[1..].iter().sum::<f32>();
        for w in &mut self.weights {
            *w /= total;
        }
        true
    }

    pub fn radius(&self) -> u32 {
        self.weights.len() as u32 - 1
    }

    pub fn weights(&self) -> &[f32] {
        &self.weights
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyramid_keeps_the_grid_sigma_small() {
        assert_eq!(pyramid_for(2.5), None);
        let (f, s) = pyramid_for(24.0).unwrap();
        assert_eq!(f, 8);
        assert!((2.0..4.0).contains(&s), "{s}");
        let (f, s) = pyramid_for(100.0).unwrap();
        assert_eq!(f, 32);
        assert!((2.0..4.0).contains(&s), "{s}");
    }

    #[test]
    fn bokeh_discs_stay_small_on_the_grid() {
        assert_eq!(bokeh_for(3.0), (2, 1.5));
        assert_eq!(bokeh_for(24.0), (8, 3.0));
        assert!(bokeh_for(100.0).1 <= BOKEH_MAX_DISC);
    }

    #[test]
    fn weights_sum_to_one_and_fall_off() {
        let mut k = GaussianKernel::default();
        assert_eq!(k.radius(), 0);
        assert!(k.set_sigma(4.0));
        assert!(!k.set_sigma(4.0));
        assert_eq!(k.radius(), 12);
        let w = k.weights();
        let total = w[0] + 2.0 * w[1..].iter().sum::<f32>();
        assert!((total - 1.0).abs() < 1e-5);
        assert!(w.windows(2).all(|p| p[0] > p[1]));
        k.set_sigma(1e9);
        assert_eq!(k.radius(), MAX_RADIUS);
    }
}
