//! The restoration stages on 8-bit planes, without GStreamer types, one module each. Each
//! works on one plane (rows `stride` bytes apart) and splits its rows over the thread pool;
//! none allocates.

use mediaai_common::pixels::{quantize, widest};
use rayon::prelude::*;

pub use mediaai_common::pixels::{Padded, Plane};

mod bars;
mod bleed;
mod deinterlace;
mod denoise;
mod dropouts;
mod global;
mod levels;
mod measure;
mod motion;
mod pass;

use denoise::{low_pass, SCRATCH_MARGIN, SCRATCH_PER_PIXEL, STRIPE};

pub use bars::{BarPatterns, BarsLock, BarsReading};
pub use bleed::Bleed;
pub use deinterlace::{deinterlace, Fields, PAD};
pub(crate) use denoise::falls;
pub use denoise::Denoise;
pub use denoise::SPATIAL;
pub use dropouts::Dropouts;
pub use global::GlobalMotion;
pub use levels::Linear;
pub use levels::{AutoLevels, Levels};
pub use measure::{
    chroma_delay, field_order_evidence, head_switch_lines, luma_extremes, noise_along_rows,
    noise_sigma,
};
pub use motion::{MotionField, MotionSearch, BLOCK as MOTION_BLOCK};
pub use pass::{restore, shift_row, Finish, Source, SHIFT_ONE};

#[cfg(test)]
mod tests {
    use super::*;

    /// Noise of about σ 6 levels from `seed`: a sum of four uniforms, near-gaussian.
    fn noise6(seed: &mut u32) -> f64 {
        (0..4)
            .map(|_| {
                *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (*seed >> 8) as f64 / (1u32 << 24) as f64 - 0.5
            })
            .sum::<f64>()
            * 10.4
    }

    /// The fields of a still picture: every frame is `p`, the top field kept.
    fn still(p: Plane) -> Fields<Plane> {
        Fields {
            cur: p,
            before: p,
            after: p,
            prev: p,
            next: p,
            keep: 0,
            shift: [0; 2],
        }
    }

    #[test]
    fn a_still_picture_deinterlaces_to_itself() {
        let (w, h) = (64, 48);
        let img: Vec<u8> = (0..w * h).map(|i| ((i % w) + (i / w) * 2) as u8).collect();
        let p = Plane::tight(&img, w, h);
        let mut out = vec![0u8; w * h];
        let fields = still(p);
        deinterlace(fields, &mut out, w);
        // The last row has no kept row below it; everything else is exact.
        assert_eq!(
            out[..w * (h - 1)],
            img[..w * (h - 1)],
            "static: temporal prediction"
        );
    }

    /// The 640x640 picture `map` at (`fx`, `fy`), bilinear.
    fn bilinear(map: &[u8], fx: f32, fy: f32) -> f32 {
        let (x0, y0) = (fx.floor(), fy.floor());
        let (ax, ay) = (fx - x0, fy - y0);
        let at = |u: f32, v: f32| map[v as usize * 640 + u as usize] as f32;
        at(x0, y0) * (1.0 - ax) * (1.0 - ay)
            + at(x0 + 1.0, y0) * ax * (1.0 - ay)
            + at(x0, y0 + 1.0) * (1.0 - ax) * ay
            + at(x0 + 1.0, y0 + 1.0) * ax * ay
    }

    /// Restores the `w`x`h` pictures `noisy` in turn through a denoiser of strength 9, told
    /// the motion before each by `motion(t, picture, denoiser)`, and returns the mean squared
    /// error of the last six against `clean(t, index)`, away from the 8 pixels at the edges
    /// (which a motion uncovers).
    fn denoised_error(
        noisy: &[&[u8]],
        clean: impl Fn(usize, usize) -> f64,
        (w, h): (usize, usize),
        mut motion: impl FnMut(usize, Plane, &mut Denoise),
    ) -> f64 {
        let mut dn = Denoise::new(9.0, w, h);
        let mut out = vec![0u8; w * h];
        let mut sum = 0.0;
        for (t, frame) in noisy.iter().enumerate() {
            let picture = Plane::tight(frame, w, h);
            motion(t, picture, &mut dn);
            restore(
                Source::Copy(picture),
                &mut out,
                w,
                &mut dn,
                Finish::default(),
            );
            if t + 6 >= noisy.len() {
                for y in 8..h - 8 {
                    for x in 8..w - 8 {
                        sum += (out[y * w + x] as f64 - clean(t, y * w + x)).powi(2);
                    }
                }
            }
        }
        sum / (6 * (w - 16) * (h - 16)) as f64
    }

    /// A photograph panned 3.5 px right and 1.25 px down a frame under noise of σ 6: told
    /// the camera's motion (as `GlobalMotion` finds it), the temporal step averages along it
    /// and leaves much less noise than the same filter that only averages where the picture is
    /// still; a wrong motion is no worse than none (the step gives way where the past differs).
    #[test]
    fn denoising_along_the_motion_beats_denoising_where_the_picture_is_still() {
        use mediaai_testing::{load_frame, media};
        let sample = load_frame(&media("astronaut.png"), "GRAY8", Some((640, 640)));
        let map = sample.buffer().unwrap().map_readable().unwrap();
        let (w, h) = (320usize, 240usize);
        let frame = |t: usize| -> Vec<f32> {
            // Content moves right and down: at time t the window starts further left and up.
            let (ox, oy) = (200.0 - 3.5 * t as f32, 200.0 - 1.25 * t as f32);
            let mut out = vec![0.0; w * h];
            for y in 0..h {
                for x in 0..w {
                    out[y * w + x] = bilinear(&map, ox + x as f32, oy + y as f32);
                }
            }
            out
        };
        let mut seed = 5u32;
        let mut noise = || noise6(&mut seed) as f32;
        let clips: Vec<(Vec<f32>, Vec<u8>)> = (0..12)
            .map(|t| {
                let clean = frame(t);
                let noisy = clean
                    .iter()
                    .map(|&v| (v + noise()).round().clamp(0.0, 255.0) as u8)
                    .collect();
                (clean, noisy)
            })
            .collect();
        // Content at (x, y) now was at (x - 3.5, y - 1.25) a frame before.
        let error = |motion: Option<[f32; 2]>| {
            let noisy: Vec<&[u8]> = clips.iter().map(|c| &c.1[..]).collect();
            denoised_error(
                &noisy,
                |t, i| clips[t].0[i] as f64,
                (w, h),
                |_, _, dn| {
                    if let Some(m) = motion {
                        dn.set_motion(m);
                    }
                },
            )
        };
        let (still, along, wrong) = (
            error(None),
            error(Some([-3.5, -1.25])),
            error(Some([3.5, 1.25])),
        );
        eprintln!("mean squared error: still {still:.2}, along the motion {along:.2}, a wrong motion {wrong:.2}");
        assert!(along < 0.75 * still, "along {along:.2} vs still {still:.2}");
        assert!(wrong < 1.1 * still, "wrong {wrong:.2} vs still {still:.2}");
    }

    /// A photograph zoomed into by 2.5% a frame under noise of σ 6: no one translation fits
    /// (the picture moves out from its centre, up to 4 px a frame at its edges), so the camera's
    /// motion leaves the temporal step little to average; block motion, found frame by frame
    /// from the camera's, follows each part of the picture and leaves much less noise.
    #[test]
    fn denoising_along_block_motion_follows_a_zoom() {
        use mediaai_testing::{load_frame, media};
        let sample = load_frame(&media("astronaut.png"), "GRAY8", Some((640, 640)));
        let map = sample.buffer().unwrap().map_readable().unwrap();
        let (w, h) = (320usize, 256usize);
        let frame = |t: usize| -> Vec<u8> {
            let zoom = 1.025f32.powi(t as i32);
            let mut out = vec![0u8; w * h];
            for y in 0..h {
                for x in 0..w {
                    let fx = 320.0 + (x as f32 - w as f32 / 2.0) / zoom;
                    let fy = 300.0 + (y as f32 - h as f32 / 2.0) / zoom;
                    out[y * w + x] = bilinear(&map, fx, fy).round() as u8;
                }
            }
            out
        };
        let mut seed = 7u32;
        let clips: Vec<(Vec<u8>, Vec<u8>)> = (0..12)
            .map(|t| {
                let clean = frame(t);
                let noisy = clean
                    .iter()
                    .map(|&v| (v as f64 + noise6(&mut seed)).round().clamp(0.0, 255.0) as u8)
                    .collect();
                (clean, noisy)
            })
            .collect();
        let error = |blocks: bool| {
            let (mut global, mut search) = (GlobalMotion::new(), MotionSearch::new(w, h));
            let mut field = MotionField::default();
            let noisy: Vec<&[u8]> = clips.iter().map(|c| &c.1[..]).collect();
            denoised_error(
                &noisy,
                |t, i| clips[t].0[i] as f64,
                (w, h),
                |_, picture, dn| {
                    let camera = global.next(picture, 0, 1).unwrap_or_default();
                    dn.set_motion(camera);
                    let centre = camera.map(|v| v.round() as i32);
                    if search.next(picture, centre, &mut field) && blocks {
                        dn.set_motion_field(&field, [MOTION_BLOCK, MOTION_BLOCK], [1.0, 1.0]);
                    }
                },
            )
        };
        let (camera, blocks) = (error(false), error(true));
        eprintln!("mean squared error: along the camera's motion {camera:.2}, along block motion {blocks:.2}");
        assert!(
            blocks < 0.8 * camera,
            "blocks {blocks:.2} vs camera {camera:.2}"
        );
    }

    #[test]
    fn denoise_averages_still_noise_and_passes_motion() {
        let (w, h) = (32, 32);
        let mut dn = Denoise::new(12.0, w, h);
        let mut var = 0.0;
        for t in 0..30u32 {
            let noisy: Vec<u8> = (0..w * h)
                .map(|i| (100 + ((i as u32 * 7919 + t * 104729) % 9) as i32 - 4) as u8)
                .collect();
            let mut out = vec![0u8; w * h];
            let source = Source::Copy(Plane::tight(&noisy, w, h));
            restore(source, &mut out, w, &mut dn, Finish::default());
            if t == 29 {
                var =
                    out.iter().map(|v| (*v as f64 - 100.0).powi(2)).sum::<f64>() / out.len() as f64;
            }
        }
        assert!(var < 2.0, "noise variance 6.7 in, {var} out");
        let mut jump = vec![0u8; w * h];
        let white = vec![200u8; w * h];
        let source = Source::Copy(Plane::tight(&white, w, h));
        restore(source, &mut jump, w, &mut dn, Finish::default());
        assert!(jump.iter().all(|&v| v > 190), "a big change passes");
    }

    /// The `w`x`h` picture through a fresh denoiser of strength 9: its spatial filter alone.
    fn denoised_once(picture: &[u8], w: usize, h: usize) -> Vec<u8> {
        let mut dn = Denoise::new(9.0, w, h);
        let mut out = vec![0u8; w * h];
        let source = Source::Copy(Plane::tight(picture, w, h));
        restore(source, &mut out, w, &mut dn, Finish::default());
        out
    }

    /// The spatial filter weighs steps by the guide (`pass::GUIDED`): on one noisy frame
    /// (σ 6), flat parts are left with σ 1.44 of noise where steps weighed by themselves left
    /// 1.99, and a faint edge (14 levels, about 2σ) keeps 12.6 levels of contrast (12.8); with
    /// the vertical step symmetric (see `a_faint_line_spreads_alike_up_and_down`), 1.47 and 12.5.
    #[test]
    fn the_guided_spatial_filter_smooths_noise_and_keeps_a_faint_edge() {
        let (w, h) = (128, 64);
        let mut seed = 5u32;
        let clean = |x: usize| if x < w / 2 { 100.0 } else { 114.0 };
        let noisy: Vec<u8> = (0..w * h)
            .map(|i| (clean(i % w) + noise6(&mut seed)).round().clamp(0.0, 255.0) as u8)
            .collect();
        let out = denoised_once(&noisy, w, h);
        let column_mean = |x: usize| (0..h).map(|y| out[y * w + x] as f64).sum::<f64>() / h as f64;
        // Noise left in the flat parts, away from the edge and the picture's sides.
        let flat: Vec<f64> = (0..h)
            .flat_map(|y| (8..w / 2 - 8).chain(w / 2 + 8..w - 8).map(move |x| (y, x)))
            .map(|(y, x)| out[y * w + x] as f64 - clean(x))
            .collect();
        let sigma = (flat.iter().map(|d| d * d).sum::<f64>() / flat.len() as f64).sqrt();
        let edge = column_mean(w / 2 + 1) - column_mean(w / 2 - 2);
        assert!(sigma < 1.6, "noise σ {sigma:.2} left");
        assert!(edge > 12.0, "edge {edge:.1} of 14 kept");
    }

    /// The spatial filter is symmetric down the columns as along the rows: a line (16 levels
    /// over a flat picture, a row high) spreads as much into the rows above as into those below
    /// (lifted 2, 3, 6, 3, 2 from two rows above to two below; the recursive smoothing down the
    /// rows it replaced carried it only downwards: 0, 0, 11, 5, 4).
    #[test]
    fn a_faint_line_spreads_alike_up_and_down() {
        let (w, h) = (64, 64);
        let picture: Vec<u8> = (0..w * h)
            .map(|i| if i / w == 32 { 116 } else { 100 })
            .collect();
        let out = denoised_once(&picture, w, h);
        let lift = |y: usize| out[y * w + w / 2] as i32 - 100;
        assert_eq!(lift(31), lift(33), "one row above and below");
        assert_eq!(lift(30), lift(34), "two rows above and below");
        assert!(lift(31) > 0 && lift(32) >= 4, "the line spread and kept");
    }

    /// Chroma of a real photograph delayed by fractions of a pixel, blurred and noisy as tape
    /// leaves it: the estimate finds the delay within a quarter of a chroma pixel.
    #[test]
    fn a_fractional_chroma_delay_is_found_in_noisy_chroma() {
        use mediaai_testing::{load_frame, media};
        let sample = load_frame(&media("astronaut.png"), "I420", Some((720, 576)));
        let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
        let map = sample.buffer().unwrap().map_readable().unwrap();
        let (w, h) = (720usize, 576usize);
        let (cw, ch) = (w / 2, h / 2);
        let luma = &map[..w * h];
        let u = &map[info.offset()[1]..][..cw * ch];
        // Chroma with luma's own edges, sited on the even luma pixels (MPEG-2's siting): its
        // delay is known absolutely. The photograph's own U plane, converted by GStreamer,
        // sits a fraction of a pixel off luma's edges (measured -0.4): there the delay added is
        // what is known.
        let cosited: Vec<u8> = (0..cw * ch)
            .map(|i| luma[(i / cw) * 2 * w + (i % cw) * 2])
            .collect();
        let mut seed = 7u32;
        let mut noise = || noise6(&mut seed);
        let mut late = |chroma: &[u8], delay: f64| {
            let mut tape = vec![0u8; cw * ch];
            for y in 0..ch {
                let row = &chroma[y * cw..][..cw];
                let at = |x: f64| {
                    let x = x.clamp(0.0, (cw - 1) as f64);
                    let (i, f) = (x.floor() as usize, x - x.floor());
                    row[i] as f64 * (1.0 - f) + row[(i + 1).min(cw - 1)] as f64 * f
                };
                for x in 0..cw {
                    // Late by `delay`, low-passed over five pixels, noisy.
                    let v = (-2..=2)
                        .map(|k| at(x as f64 - delay + k as f64))
                        .sum::<f64>()
                        / 5.0;
                    tape[y * cw + x] = (v + noise()).round().clamp(0.0, 255.0) as u8;
                }
            }
            chroma_delay(Plane::tight(luma, w, h), Plane::tight(&tape, cw, ch), 2)
                .expect("a photograph has edges")
        };
        for delay in [0.0, 0.5, 1.3, 2.0] {
            let found = late(&cosited, delay);
            assert!(
                (found - delay).abs() < 0.25,
                "chroma {delay} px late: estimated {found:.2}"
            );
        }
        let base = late(u, 0.0);
        for delay in [0.5, 1.3, 2.0] {
            let found = late(u, delay) - base;
            assert!(
                (found - delay).abs() < 0.25,
                "the photograph's chroma {delay} px later: estimated {found:.2} later"
            );
        }
    }

    #[test]
    fn shift_and_luts() {
        let mut row = vec![1u8, 2, 3, 4, 5];
        shift_row(&mut row, 2 * SHIFT_ONE);
        assert_eq!(row, [1, 1, 1, 2, 3]);
        shift_row(&mut row, -SHIFT_ONE);
        assert_eq!(row, [1, 1, 2, 3, 3]);
        shift_row(&mut row, -9 * SHIFT_ONE);
        assert_eq!(row, [3; 5]);
        // Fractions of a pixel interpolate, either way.
        let mut row = vec![0u8, 100, 200, 200];
        shift_row(&mut row, SHIFT_ONE / 4);
        assert_eq!(row, [0, 75, 175, 200]);
        let mut row = vec![0u8, 100, 200, 200];
        shift_row(&mut row, -SHIFT_ONE / 2);
        assert_eq!(row, [50, 150, 200, 200]);
        let mut out = [0u8; 3];
        let mut scratch = [0f32; 3];
        Linear::levels(Levels {
            black: 30.0,
            white: 200.0,
        })
        .apply(&mut out, &[30.0, 200.0, 250.0], &mut scratch);
        assert_eq!(out, [16, 235, 255]);
        Linear::saturation(0.0).apply(&mut out, &[200.0, 0.0, 128.0], &mut scratch);
        assert_eq!(out, [128; 3]);
    }

    #[test]
    fn dropouts_are_filled_and_picture_lines_kept() {
        let (w, h) = (96, 24);
        let mut img: Vec<u8> = (0..w * h).map(|i| (60 + (i % w) / 2) as u8).collect();
        // A dropout: 30 white pixels on row 10 (top field); a short one (5 px) on row 14;
        // a bright picture line two rows high (both fields) on rows 17-18.
        img[10 * w + 20..10 * w + 50].fill(250);
        img[14 * w + 40..14 * w + 45].fill(250);
        img[17 * w + 10..17 * w + 80].fill(240);
        img[18 * w + 10..18 * w + 80].fill(240);
        let p = Plane::tight(&img, w, h);
        let fields = still(p);
        let finish = Finish {
            dropouts: Some(Dropouts {
                threshold: 40,
                min_run: 8,
            }),
            ..Finish::default()
        };
        let mut out = vec![0u8; w * h];
        let mut off = Denoise::new(0.0, w, h);
        restore(Source::Fields(fields), &mut out, w, &mut off, finish);
        let row = |y: usize| &out[y * w..(y + 1) * w];
        assert!(
            row(10)[20..50].iter().all(|&v| v < 100),
            "filled: {:?}",
            row(10)
        );
        assert_eq!(row(14)[40..45], [250; 5], "shorter than min_run: kept");
        assert!(
            row(17)[10..80].iter().all(|&v| v == 240),
            "a picture line is kept"
        );
    }

    /// A 160x120 gradient with mild noise; `rows` bottom rows replaced by strong noise.
    fn picture_with_noisy_bottom(rows: usize) -> Vec<u8> {
        let (w, h) = (160, 120);
        let mut seed = 99u32;
        (0..w * h)
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let (x, y) = (i % w, i / w);
                let amp = if y >= h - rows { 60 } else { 4 };
                (40 + x + y / 2) as i32 + (seed >> 24) as i32 % amp - amp / 2
            })
            .map(|v| v.clamp(0, 255) as u8)
            .collect()
    }

    #[test]
    fn head_switching_lines_are_found_and_texture_is_not_taken_for_them() {
        for (rows, want) in [(0, 0), (8, 8), (5, 5), (40, 0)] {
            let img = picture_with_noisy_bottom(rows);
            assert_eq!(
                head_switch_lines(Plane::tight(&img, 160, 120)),
                want,
                "{rows} noisy rows"
            );
        }
    }

    #[test]
    fn chroma_bleed_snaps_smeared_chroma_to_the_luma_edge_and_averages_flat_noise() {
        // Luma: a sharp step at chroma column 40 (luma column 80). Chroma: the step smeared
        // over 9 pixels (tape bandwidth) plus noise.
        let (cw, ch) = (96, 8);
        let (lw, lh) = (2 * cw, 2 * ch);
        let luma: Vec<u8> = (0..lw * lh)
            .map(|i| if i % lw < 80 { 60 } else { 180 })
            .collect();
        let truth = |x: usize| if x < 40 { 90.0 } else { 170.0 };
        let mut seed = 5u32;
        let mut smeared = |x: usize| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let t = ((x as f64 - 35.5) / 9.0).clamp(0.0, 1.0);
            (90.0 + 80.0 * t + (seed >> 29) as f64 - 3.5).round() as u8
        };
        let mut u: Vec<u8> = (0..cw * ch).map(|i| smeared(i % cw)).collect();
        let mut v = u.clone();
        let error = |c: &[u8]| {
            (0..cw * ch)
                .map(|i| (c[i] as f64 - truth(i % cw)).powi(2))
                .sum::<f64>()
                / (cw * ch) as f64
        };
        let before = error(&u);
        let step = |c: &[u8]| c[40] as i32 - c[39] as i32;
        let smeared_step = step(&u);
        let mut bleed = Bleed::new(10.0, cw, ch, (2, 2));
        bleed.apply(Plane::tight(&luma, lw, lh), &mut u, &mut v, cw);
        let after = error(&u);
        assert_eq!(u, v, "both planes filtered alike");
        assert!(
            step(&u) > 2 * smeared_step,
            "the transition steps at the luma edge: {smeared_step} -> {}",
            step(&u)
        );
        assert!(
            after * 1.6 < before,
            "squared error {before:.1} -> {after:.1}"
        );
        // Off: untouched.
        let mut off = u.clone();
        Bleed::new(0.0, cw, ch, (2, 2)).apply(Plane::tight(&luma, lw, lh), &mut off, &mut v, cw);
        assert_eq!(off, u);
    }

    #[test]
    fn luma_extremes_are_the_pictures_and_not_its_border() {
        // A ramp 30..219 across, in a black border (captures' blanking) and torn bottom rows.
        let (w, h) = (360, 288);
        let mut img: Vec<u8> = (0..w * h)
            .map(|i| (30 + (i % w) * 189 / (w - 1)) as u8)
            .collect();
        for (i, v) in img.iter_mut().enumerate() {
            let (x, y) = (i % w, i / w);
            if x < 6 || x >= w - 6 || y < 4 {
                *v = 0;
            } else if y >= h - 8 {
                *v = 255;
            }
        }
        let (black, white) = luma_extremes(Plane::tight(&img, w, h), 8).unwrap();
        // The ramp at the inner edges of the border left out (1/36 of the width: 10 px).
        let at = |x: f32| 30.0 + x * 189.0 / (w - 1) as f32;
        assert!((black - at(10.0)).abs() < 2.0, "{black}");
        assert!((white - at((w - 11) as f32)).abs() < 2.0, "{white}");
    }

    /// The chunked shift gives the bytes of the plain definition (each pixel from its two
    /// clamped sources in the original row) for every width and shift, whole and fractional.
    #[test]
    fn shifting_a_row_in_place_matches_the_definition() {
        for w in [1usize, 2, 3, 63, 64, 65, 130, 360] {
            let row: Vec<u8> = (0..w).map(|i| (i * 37 % 251) as u8).collect();
            for shift in (-20 * SHIFT_ONE..=20 * SHIFT_ONE).step_by(37) {
                let (d, f) = ((-shift) >> 8, ((-shift) & 255) as u32);
                let want: Vec<u8> = (0..w as i32)
                    .map(|x| {
                        let at = |i: i32| row[i.clamp(0, w as i32 - 1) as usize] as u32;
                        ((at(x + d) * (256 - f) + at(x + d + 1) * f + 128) >> 8) as u8
                    })
                    .collect();
                let mut got = row.clone();
                shift_row(&mut got, shift);
                assert_eq!(got, want, "width {w}, shift {shift}");
            }
        }
    }

    #[test]
    fn noise_is_measured_in_flat_parts_of_a_field() {
        // A picture with edges (bars) and smooth ramps, noise of deviation 2, 5 and 9 on it,
        // every field row moved (interlaced motion); the estimate within 10%.
        let (w, h) = (320, 240);
        let mut seed = 7u64;
        let mut gauss = || {
            // Sum of 12 uniforms: deviation 1.
            (0..12)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (seed >> 11) as f64 / (1u64 << 53) as f64
                })
                .sum::<f64>()
                - 6.0
        };
        for sigma in [2.0, 5.0, 9.0] {
            let img: Vec<u8> = (0..w * h)
                .map(|i| {
                    let (x, y) = (i % w, i / w);
                    let shift = if y % 2 == 0 { 0 } else { 7 };
                    let base = if (x + shift) / 40 % 2 == 0 {
                        60.0
                    } else {
                        180.0
                    };
                    let v = base + (y as f64) * 0.1 + sigma * gauss();
                    v.round().clamp(0.0, 255.0) as u8
                })
                .collect();
            let got = noise_sigma(Plane::tight(&img, w, h)).unwrap() as f64;
            assert!(
                (got / sigma - 1.0).abs() < 0.1,
                "sigma {sigma}: measured {got:.2}"
            );
        }
    }

    #[test]
    fn noise_that_runs_along_the_rows_is_told_from_independent_noise() {
        // Deviation 6 on a flat grey: independent from pixel to pixel, then the same smeared
        // along each row (a running mean of 4, scaled back to deviation 6), as a tape head's
        // bandwidth smears it.
        let (w, h) = (320, 240);
        let mut seed = 11u64;
        let mut uniform = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        // Uniform on ±0.5 has deviation 1/√12.
        let white: Vec<f64> = (0..w * h).map(|_| uniform() * 12f64.sqrt() * 6.0).collect();
        let smeared: Vec<f64> = (0..w * h)
            .map(|i| (0..4).map(|k| white[i - (i % w).min(k)]).sum::<f64>() / 2.0)
            .collect();
        let plane = |noise: &[f64]| -> Vec<u8> {
            noise.iter().map(|n| (128.0 + n).round() as u8).collect()
        };
        let (independent, along) = (plane(&white), plane(&smeared));
        let ratio = |img: &[u8]| {
            let plane = Plane::tight(img, w, h);
            noise_along_rows(plane, noise_sigma(plane).unwrap()).unwrap()
        };
        let (r_independent, r_along) = (ratio(&independent), ratio(&along));
        assert!(
            (0.85..1.15).contains(&r_independent),
            "independent: {r_independent:.2}"
        );
        assert!(r_along < 0.5, "along the rows: {r_along:.2}");
    }

    #[test]
    fn a_denoiser_made_for_another_size_still_gets_every_row_written() {
        let (w, h) = (40, 70);
        let img: Vec<u8> = (0..w * h).map(|i| (i % 251) as u8).collect();
        let mut out = vec![0u8; w * h];
        let mut dn = Denoise::new(0.0, 16, 8);
        restore(
            Source::Copy(Plane::tight(&img, w, h)),
            &mut out,
            w,
            &mut dn,
            Finish::default(),
        );
        assert_eq!(out, img);
    }
}
