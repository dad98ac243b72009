//! Edge-preserving spatial and motion-aware temporal denoising (hqdn3d class).

use super::MotionField;

/// Rows per task of a restoring pass, about (see [`stripe_rows`]). The denoiser's vertical
/// step reads three rows either side, taken and spread again by each task that needs them
/// (6 of 64 rows more; the results do not depend on the stripes).
pub(super) const STRIPE: usize = 64;

/// Rows per task of a restoring pass over a plane `height` rows high: about [`STRIPE`], in a
/// number of tasks that is a multiple of the thread pool's threads, so that they share the
/// plane evenly, but no fewer than [`MIN_STRIPE`]. Nine stripes of 64 rows of an SD frame's
/// luma left one of two cores a stripe short (the denoiser ran 1.65 times as fast on two cores
/// as on one), and 16 cores with 9 stripes idle.
pub(super) fn stripe_rows(height: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    let tasks = height.div_ceil(STRIPE * threads).max(1) * threads;
    height
        .div_ceil(tasks)
        .clamp(MIN_STRIPE.min(height).max(1), STRIPE)
}

/// The fewest rows of a stripe (unless the plane has fewer): each stripe takes 6 rows again at
/// its borders, a third of 18. On 16 threads SD chroma's stripes are 18 rows and luma's 36, and
/// the CPU path ran 1.2 times as fast as with 64-row stripes (an H200's host); more threads
/// would cut stripes so thin that the rows taken again outweigh the threads.
pub(super) const MIN_STRIPE: usize = 16;

/// Scratch floats per pixel of a row, per task (plus [`SCRATCH_MARGIN`]): the rows spread
/// along themselves that the vertical step reads (`SPREAD_ROWS`), its weighted steps
/// (`STEP_ROWS` of each kind), the row with its margins and two rows of steps (or the mapped
/// row).
pub(super) const SCRATCH_PER_PIXEL: usize =
    super::pass::SPREAD_ROWS + 2 * super::pass::STEP_ROWS + 3;
pub(super) const SCRATCH_MARGIN: usize = 14;

/// How much a filtered value keeps against a new one: `(1 − |old − new| · fall)²`, floored at
/// 0 — 1 for equal values, a quarter at the strength (`fall = 1 / (2 · strength)`), nothing
/// past twice the strength. Arithmetic rather than a table so that whole rows vectorise.
#[inline(always)]
pub(super) fn low_pass(old: f32, new: f32, fall: f32) -> f32 {
    let keep = (1.0 - (old - new).abs() * fall).max(0.0);
    new + (old - new) * (keep * keep)
}

/// The spatial filter's strength against the temporal one's. Twice: on `make eval-vhs`'s tuning
/// set (noise σ 1.5 to 9, levels told) shares of 2/3, 1, 1.5 and 2 with temporal strengths of
/// 2.5σ, 2.5σ, 2σ and 1.5σ gave mean PSNR-Y 35.17, 35.48, 35.72 and 35.89 dB (see
/// vhsrestore's `DENOISE_PER_SIGMA`).
pub const SPATIAL: f64 = 2.0;

/// The spatial and temporal `fall` of a denoiser of `strength` whose spatial filter takes
/// `share` times it (see [`Denoise::new`]).
pub(crate) fn falls(strength: f64, share: f64) -> (f32, f32) {
    (fall(strength * share), fall(strength))
}

/// `1 / (2 · strength)`, or 0 for a strength of 0 (the filter off).
fn fall(strength: f64) -> f32 {
    if strength > 0.0 {
        (0.5 / strength.min(255.0)) as f32
    } else {
        0.0
    }
}

/// Edge-preserving spatial and motion-aware temporal denoising of one plane (hqdn3d class):
/// each pixel is pulled towards its two neighbours either side by weights that fall as they
/// differ from it, then towards the rows one and two above and below in the same way, then
/// moves from its filtered past towards that by a weight that falls as the difference grows;
/// flat and still areas are averaged while edges and motion pass. Every step is a straight pass
/// over a row, so each runs as vector code; values stay in `f32` between frames.
pub struct Denoise {
    /// The spatial filter's strength over the temporal one's ([`SPATIAL`] unless set).
    pub(super) share: f64,
    pub(super) spatial: f32,
    pub(super) temporal: f32,
    pub(super) state: Vec<f32>,
    /// The filtered past of the frame before, read along the motion while `state` takes the
    /// new frame (swapped with it when the picture moved).
    pub(super) past: Vec<f32>,
    /// The camera's motion since the frame before, in this plane's pixels: the content at
    /// (x, y) now was at (x + motion.x, y + motion.y) in the past (see [`Denoise::set_motion`]).
    pub(super) motion: [f32; 2],
    /// Where the motion differs across the picture: one vector per block of `block` pixels
    /// (`cols` to a row of blocks; 0: none), in place of `motion` (see
    /// [`Denoise::set_motion_field`]).
    pub(super) blocks: Vec<[f32; 2]>,
    pub(super) block: [usize; 2],
    pub(super) cols: usize,
    /// Per task: see [`SCRATCH_PER_PIXEL`].
    pub(super) scratch: Vec<f32>,
    /// Per task: a row outside its own, taken for the vertical step.
    pub(super) outside: Vec<u8>,
    /// Per task: its rows of the past read along the motion, all read before its first row
    /// is filtered (block by block, each block's set-up shared by its rows: 0.55 → 0.48 ms an
    /// SD luma plane along a zoom's blocks on one thread). As large as a plane of `state`.
    pub(super) along: Vec<f32>,
    pub(super) width: usize,
    pub(super) height: usize,
    /// Rows per task (see [`stripe_rows`]), chosen with the buffers.
    pub(super) stripe: usize,
    pub(super) primed: bool,
}

impl Denoise {
    /// `strength`: the temporal difference (0–255) still averaged at 25% (0: off); the spatial
    /// filter takes [`SPATIAL`] times it. `width`×`height` is the plane's size.
    pub fn new(strength: f64, width: usize, height: usize) -> Self {
        let (spatial, temporal) = falls(strength, SPATIAL);
        let mut d = Denoise {
            share: SPATIAL,
            spatial,
            temporal,
            state: Vec::new(),
            past: Vec::new(),
            motion: [0.0; 2],
            blocks: Vec::new(),
            block: [0; 2],
            cols: 0,
            scratch: Vec::new(),
            outside: Vec::new(),
            along: Vec::new(),
            width: usize::MAX,
            height: 0,
            stripe: STRIPE,
            primed: false,
        };
        d.fit(width, height);
        d
    }

    /// Refits the buffers to a `width`x`height` plane and the pool's threads, forgetting the
    /// past (nothing happens for the size and pool it was made for).
    pub(super) fn fit(&mut self, width: usize, height: usize) {
        let stripe = stripe_rows(height);
        if (self.width, self.height, self.stripe) != (width, height, stripe) {
            self.stripe = stripe;
            let tasks = height.div_ceil(stripe).max(1);
            self.state = vec![0.0; width * height];
            self.past = vec![0.0; width * height];
            self.scratch = vec![0.0; (SCRATCH_PER_PIXEL * width + SCRATCH_MARGIN) * tasks];
            self.outside = vec![0; width * tasks];
            self.along = vec![0.0; width * stripe * tasks];
            (self.width, self.height, self.primed) = (width, height, false);
        }
    }

    /// A new strength (see [`Denoise::new`]), keeping the past unless the filter is switched
    /// on or off.
    pub fn set_strength(&mut self, strength: f64) {
        let (spatial, temporal) = falls(strength, self.share);
        if (temporal > 0.0) != self.enabled() {
            self.primed = false;
        }
        (self.spatial, self.temporal) = (spatial, temporal);
    }

    /// The camera's motion before the next frame, in this plane's pixels (see
    /// [`GlobalMotion`](super::GlobalMotion)): the temporal step then averages each pixel with
    /// the past where its content was, not where it is. Zero: the past where it is.
    pub fn set_motion(&mut self, motion: [f32; 2]) {
        self.motion = motion;
    }

    /// The spatial filter's strength over the temporal one's from the next strength set on
    /// ([`SPATIAL`] at first).
    pub fn set_spatial_share(&mut self, share: f64) {
        self.share = share;
    }

    /// The motion before the next frame block by block (see [`Denoise::set_motion`]): `field`'s
    /// vectors times `scale`, each for a block of `block` pixels of this plane (the last
    /// column and row of blocks reaching to the plane's edges); nothing where no block moved
    /// ([`MotionField::moves`], as the GPU pass decides). Nothing is allocated once the
    /// number of blocks is known.
    pub fn set_motion_field(&mut self, field: &MotionField, block: [usize; 2], scale: [f32; 2]) {
        if !field.moves() {
            self.cols = 0;
            return;
        }
        self.blocks.clear();
        self.blocks.extend(
            field
                .vectors
                .iter()
                .map(|&[x, y]| [x * scale[0], y * scale[1]]),
        );
        (self.block, self.cols) = (block, field.cols);
    }

    /// Forgets the past (a scene that does not follow from the last one).
    pub fn reset(&mut self) {
        self.primed = false;
    }

    /// Whether the filter changes anything (strength above 0).
    pub fn enabled(&self) -> bool {
        self.temporal > 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripes_share_a_plane_evenly_among_the_threads() {
        // SD and HD planes (chroma and luma, frames and fields) on 2 and 16 threads: a whole
        // number of stripes per thread, none over STRIPE rows or under MIN_STRIPE. Fixed
        // stripes of 64 rows gave an SD luma plane 9 (one of 2 threads a stripe short, 7 of 16
        // idle).
        for threads in [2, 16] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for height in [144, 288, 540, 576, 1080] {
                let rows = pool.install(|| stripe_rows(height));
                let stripes = height.div_ceil(rows);
                // Where the threads' share is at least the thinnest stripe.
                if height >= MIN_STRIPE * threads {
                    assert_eq!(
                        stripes % threads,
                        0,
                        "{height} rows on {threads} threads: {stripes} stripes of {rows}"
                    );
                }
                assert!(
                    (MIN_STRIPE..=STRIPE).contains(&rows),
                    "{height} rows: stripes of {rows}"
                );
            }
        }
        // Many threads: stripes no thinner than MIN_STRIPE rows (a small plane: its height).
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(128)
            .build()
            .unwrap();
        for height in [1, 7, 288, 576, 1080] {
            let rows = pool.install(|| stripe_rows(height));
            assert_eq!(rows, MIN_STRIPE.min(height), "{height} rows on 128 threads");
        }
    }
}
