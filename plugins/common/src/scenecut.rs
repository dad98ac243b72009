//! Shot changes: a frame that looks nothing like the one before it. Elements that carry
//! state from frame to frame (a face tracker's predictions, a running levels estimate) start
//! afresh there. Each frame is sampled at a grid of points (in any format the tensor sampler
//! reads), averaged into coarse cells so that detail moving within a shot averages out, and
//! compared with the last: a cut is when the mean difference is large. About 60 thousand
//! samples a frame, a fraction of a millisecond; allocates nothing after `new`.

use crate::sampler::{PixelSource, TensorSampler, YuvMatrix};

/// Cells compared per frame.
const GRID_W: usize = 48;
const GRID_H: usize = 27;
/// Points sampled per cell side.
const CELL: usize = 4;
/// Mean absolute difference (0–255, over R, G and B at every point) above which two frames
/// belong to different shots. Frames of one shot, even panning fast over detail, stay well
/// under it (a pan of 1% of the width a frame over a detailed photograph: 12); two
/// photographs differ by 40 or more (the test's: 76).
pub const CUT_DIFFERENCE: f32 = 30.0;

/// Finds cuts in a stream of frames of one size.
#[derive(Debug, Clone)]
pub struct SceneCuts {
    sampler: TensorSampler,
    /// The sampled points of the frame.
    points: Vec<f32>,
    /// Cell means of the last frame and of this one.
    last: Vec<f32>,
    now: Vec<f32>,
    primed: bool,
}

impl SceneCuts {
    /// For frames of `width`x`height` (YUV converted with `matrix`); sizes must be non-zero.
    pub fn new(width: u32, height: u32, matrix: YuvMatrix) -> Self {
        let (w, h) = ((GRID_W * CELL) as u32, (GRID_H * CELL) as u32);
        let sampler = TensorSampler::new(width, height, w, h, matrix);
        let len = 3 * GRID_W * GRID_H;
        SceneCuts {
            points: vec![0.0; sampler.tensor_len()],
            sampler,
            last: vec![0.0; len],
            now: vec![0.0; len],
            primed: false,
        }
    }

    /// The mean difference of `frame` from the frame before it (0–255), or `None` for the
    /// first frame (or after [`Self::reset`]) and for planes too small for the size.
    pub fn difference(&mut self, frame: &PixelSource) -> Option<f32> {
        if !self.sampler.fill(frame, &mut self.points) {
            return None;
        }
        std::mem::swap(&mut self.last, &mut self.now);
        self.last.fill(0.0);
        // Rows of sampled points, CELL of them to a row of cells (planes R, G, B in turn).
        let row = GRID_W * CELL;
        for (points, cells) in self
            .points
            .chunks_exact(row * CELL)
            .zip(self.last.chunks_exact_mut(GRID_W))
        {
            for points in points.chunks_exact(row) {
                for (cell, p) in cells.iter_mut().zip(points.chunks_exact(CELL)) {
                    *cell += p.iter().sum::<f32>();
                }
            }
        }
        let per_cell = (CELL * CELL) as f32;
        self.last.iter_mut().for_each(|v| *v /= per_cell);
        let was_primed = std::mem::replace(&mut self.primed, true);
        was_primed.then(|| {
            let sum: f32 = self
                .last
                .iter()
                .zip(&self.now)
                .map(|(a, b)| (a - b).abs())
                .sum();
            sum / self.last.len() as f32
        })
    }

    /// Whether `frame` starts a new shot (never the first frame).
    pub fn is_cut(&mut self, frame: &PixelSource) -> bool {
        self.difference(frame).is_some_and(|d| d > CUT_DIFFERENCE)
    }

    /// Forgets the last frame (after a flush: the next frame is no cut).
    pub fn reset(&mut self) {
        self.primed = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mediaai_testing::{load_frame, media};

    fn rgba(name: &str) -> (Vec<u8>, usize) {
        let sample = load_frame(&media(name), "RGBA", Some((320, 180)));
        let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
        let map = sample.buffer().unwrap().map_readable().unwrap();
        (map.to_vec(), info.stride()[0] as usize)
    }

    fn packed(data: &[u8], stride: usize) -> PixelSource<'_> {
        PixelSource::Packed {
            data,
            stride,
            pixel_stride: 4,
            offsets: [0, 1, 2],
        }
    }

    /// A photograph panning 3 px a frame (1% of the width) is one shot; another photograph
    /// after it is a cut; after a reset the next frame is none.
    #[test]
    fn a_new_photograph_is_a_cut_and_a_pan_is_not() {
        let (astronaut, stride) = rgba("astronaut.png");
        let (coffee, _) = rgba("coffee.png");
        // 300 of the 320 columns, starting 0, 3, 6, … pixels in.
        let mut cuts = SceneCuts::new(300, 180, YuvMatrix::new(0.299, 0.114, false));
        assert!(!cuts.is_cut(&packed(&astronaut, stride)), "the first frame");
        let mut pan = 0.0f32;
        for k in 1..6 {
            let d = cuts
                .difference(&packed(&astronaut[12 * k..], stride))
                .unwrap();
            pan = pan.max(d);
        }
        assert!(pan < CUT_DIFFERENCE / 2.0, "a pan differs by {pan}");
        let d = cuts.difference(&packed(&coffee, stride)).unwrap();
        assert!(d > CUT_DIFFERENCE * 1.3, "a new picture differs by {d}");
        cuts.reset();
        assert!(!cuts.is_cut(&packed(&astronaut, stride)));
    }
}
