//! The privacy clip: real faces out of a photograph that enter, leave, appear from nowhere,
//! cross, move fast (10% of the frame width per frame) and shrink to 24 px (at scale 1), on a
//! flat background, with where each face wholly in the picture is in every frame; and the check
//! that none of them keeps more than 10% of its detail after anonymisation.

/// A real face out of a photograph (GRAY8, `rect` = x, y, w, h in it).
fn face_patch(photo: &str, rect: (usize, usize, usize, usize)) -> (Vec<u8>, usize, usize) {
    use mediaai_testing::{load_frame, media};
    let sample = load_frame(&media(photo), "GRAY8", None);
    let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
    let map = sample.buffer().unwrap().map_readable().unwrap();
    let stride = info.stride()[0] as usize;
    let (x, y, w, h) = rect;
    let mut out = Vec::with_capacity(w * h);
    for row in y..y + h {
        out.extend_from_slice(&map[row * stride + x..][..w]);
    }
    (out, w, h)
}

/// `patch` flipped left to right.
fn mirrored((p, w, h): (Vec<u8>, usize, usize)) -> (Vec<u8>, usize, usize) {
    let flipped = p
        .chunks_exact(w)
        .flat_map(|row| row.iter().rev().copied())
        .collect();
    (flipped, w, h)
}

/// One moving face of the clip: where it is (x, y, height) in each frame at scale 1, if shown.
struct Actor {
    patch: (Vec<u8>, usize, usize),
    at: fn(usize) -> Option<(i64, i64, usize)>,
}

/// Squared Laplacian summed over the luma of `frame` (W wide) inside `b` (x, y, w, h), the
/// frame's one-pixel border left out: the detail a viewer could recognise a face by.
fn detail(frame: &[u8], w: usize, b: (usize, usize, usize, usize)) -> f64 {
    let (x0, y0, bw, bh) = b;
    let p = |x: usize, y: usize| frame[y * w + x] as f64;
    let mut sum = 0.0;
    for y in y0.max(1)..(y0 + bh).min(frame.len() / w - 1) {
        for x in x0.max(1)..(x0 + bw).min(w - 1) {
            let l = 4.0 * p(x, y) - p(x - 1, y) - p(x + 1, y) - p(x, y - 1) - p(x, y + 1);
            sum += l * l;
        }
    }
    sum
}

/// Frames of the clip at scale 1.
pub const FRAMES: usize = 40;

/// The clip: I420 frames at 25 fps, and each frame's faces wholly in the picture.
pub struct PrivacyClip {
    pub width: usize,
    pub height: usize,
    pub frames: Vec<Vec<u8>>,
    /// Per frame, the boxes (x, y, w, h) whose detail is measured: each face's box less 15%
    /// at each side (the pasted patch's own edges against the background are no face detail).
    pub boxes: Vec<Vec<(usize, usize, usize, usize)>>,
}

impl PrivacyClip {
    /// The clip at 640x360 times `scale` (positions, sizes and speeds scaled alike).
    pub fn new(scale: usize) -> Self {
        let (width, height) = (640 * scale, 360 * scale);
        let actors = [
            // Enters from the left at 64 px per frame (10% of the width) and runs through.
            Actor {
                patch: face_patch("astronaut.png", (178, 64, 92, 112)),
                at: |k| {
                    (4..14)
                        .contains(&k)
                        .then(|| (-60 + 64 * (k as i64 - 4), 140, 110))
                },
            },
            // Stands, then walks away: shrinks from 100 to 24 px (the same face mirrored).
            Actor {
                patch: mirrored(face_patch("astronaut.png", (178, 64, 92, 112))),
                at: |k| {
                    let h = if k < 20 {
                        100
                    } else {
                        100 - (k - 20) * 76 / (FRAMES - 21)
                    };
                    Some((470, 150, h))
                },
            },
            // Appears from nowhere mid-picture, crosses in front of the other, leaves.
            Actor {
                patch: face_patch("astronaut.png", (178, 64, 92, 112)),
                at: |k| {
                    (18..32)
                        .contains(&k)
                        .then(|| (200 + 16 * (k as i64 - 18), 120, 90))
                },
            },
        ];
        let mut frames = Vec::new();
        let mut boxes = Vec::new();
        for k in 0..FRAMES {
            let mut y = vec![96u8; width * height];
            let mut shown = Vec::new();
            for actor in &actors {
                let Some((x0, y0, h)) = (actor.at)(k) else {
                    continue;
                };
                let (x0, y0, h) = (x0 * scale as i64, y0 * scale as i64, h * scale);
                let (patch, pw, ph) = &actor.patch;
                let w = h * pw / ph;
                for dy in 0..h {
                    for dx in 0..w {
                        let (x, yy) = (x0 + dx as i64, y0 + dy as i64);
                        if (0..width as i64).contains(&x) && (0..height as i64).contains(&yy) {
                            y[yy as usize * width + x as usize] =
                                patch[dy * ph / h * pw + dx * pw / w];
                        }
                    }
                }
                if x0 >= 0 && x0 as usize + w <= width {
                    let (ix, iy) = (w * 15 / 100, h * 15 / 100);
                    shown.push((x0 as usize + ix, y0 as usize + iy, w - 2 * ix, h - 2 * iy));
                }
            }
            let mut frame = y;
            frame.resize(width * height * 3 / 2, 128);
            frames.push(frame);
            boxes.push(shown);
        }
        PrivacyClip {
            width,
            height,
            frames,
            boxes,
        }
    }

    /// The clip's caps: I420 at 25 fps.
    pub fn caps(&self) -> gst::Caps {
        gst::Caps::builder("video/x-raw")
            .field("format", "I420")
            .field("width", self.width as i32)
            .field("height", self.height as i32)
            .field("framerate", gst::Fraction::new(25, 1))
            .build()
    }

    /// The faces `out` (the clip's frames after anonymisation, in order) still shows: each
    /// face wholly in the picture that keeps more than 10% of its detail, in words.
    pub fn exposed(&self, out: &[gst::Buffer]) -> Vec<String> {
        let mut exposed = Vec::new();
        for (k, (buffer, shown)) in out.iter().zip(&self.boxes).enumerate() {
            let map = buffer.map_readable().unwrap();
            for &b in shown {
                let before = detail(&self.frames[k], self.width, b);
                let after = detail(&map, self.width, b);
                if after > 0.1 * before {
                    exposed.push(format!(
                        "frame {k}: {b:?} keeps {:.0}%",
                        100.0 * after / before
                    ));
                }
            }
        }
        exposed
    }
}
