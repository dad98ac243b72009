/**
 * element-vhsrestore:
 *
 * Restores analog tape captures in one pass: motion-adaptive deinterlacing (yadif class with
 * edge-directed and cubic interpolation, and bwdif's blend of fields for fine detail), motion-aware temporal denoising (separate luma and
 * chroma strengths), horizontal chroma delay correction (given, or estimated from the
 * picture), black/white levels and saturation (given, read from colour bars at the head of
 * the tape, or estimated from the picture as it plays), and repair of the head-switching
 * lines at the bottom, tape dropouts filled. Planar 8-bit YUV (I420, Y42B, Y444) and packed RGB. One frame
 * of latency (reported): the deinterlacer looks at the frames before and after; one more where
 * upstream is not live (`pipelined`), where a frame is restored while the next is taken in. Rows are split
 * over the CPU cores, or the pass runs on the shared GPU device (`backend`; same results within
 * a level of rounding); no memory is allocated per frame (output buffers come from a pool made
 * at caps time).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=tape.mkv ! decodebin ! videoconvert ! vhsrestore rate=field ! videoconvert ! autovideosink
 * ]|
 */
use std::collections::VecDeque;
use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::prelude::*;

use super::{Backend, Deinterlace, FieldOrder, Pipelined, Rate};
use crate::gpu::{BlockMotion, GpuRestore, PlaneJob, Slots};
use crate::slots::FrameSlots;
use crate::stages::{
    self, AutoLevels, BarPatterns, BarsLock, BarsReading, Bleed, Denoise, Dropouts, Finish,
    GlobalMotion, Levels, Linear, MotionField, MotionSearch, Padded, Plane, Source, SHIFT_ONE,
};
use mediaai_common::frames;
use mediaai_common::gpumemory;
use mediaai_common::sampler::{PackedLayout, PixelSource, YuvMatrix};
use mediaai_common::scenecut::SceneCuts;
use rayon::prelude::*;

mod measure;
mod packed;
mod restore;
mod worker;

use packed::{pack, unpack, Packed};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vhsrestore",
        gst::DebugColorFlags::empty(),
        Some("Analog tape restoration"),
    )
});

/// Planar YUV is restored as it is; packed RGB through full-resolution Y'CbCr (BT.601,
/// studio range, so `black-level`/`white-level` mean the same for both) and back.
const FORMATS: [gst_video::VideoFormat; 13] = [
    gst_video::VideoFormat::I420,
    gst_video::VideoFormat::Y42b,
    gst_video::VideoFormat::Y444,
    gst_video::VideoFormat::Rgbx,
    gst_video::VideoFormat::Bgrx,
    gst_video::VideoFormat::Xrgb,
    gst_video::VideoFormat::Xbgr,
    gst_video::VideoFormat::Rgba,
    gst_video::VideoFormat::Bgra,
    gst_video::VideoFormat::Argb,
    gst_video::VideoFormat::Abgr,
    gst_video::VideoFormat::Rgb,
    gst_video::VideoFormat::Bgr,
];
/// Default of `chroma-bleed`: off. On `make eval-vhs` level 10 gives +0.5 dB over all planes
/// (+3 dB on chroma) for 15-30% of the frame rate, which would take the CPU path under twice
/// the speed of FFmpeg's `yadif,hqdn3d,eq`; archives that want it set it.
const DEFAULT_CHROMA_BLEED: f64 = 0.0;
/// `luma-denoise`/`chroma-denoise` that follow the noise measured in the picture.
const AUTO: f64 = -1.0;
/// Denoising strength per level of measured noise (standard deviation), chosen with the
/// spatial filter's share (`denoise::SPATIAL`) on the tuning set of `make eval-vhs` over its six
/// damage models (noise σ 1.5 to 9; mean PSNR-Y / SSIM-Y, levels told): temporal 3σ with
/// spatial 2σ 35.09 / 0.901, 2σ with 3σ 35.72 / 0.926, 1.5σ with 3σ 35.89 / 0.928, 1σ with 3σ
/// 35.99 / 0.929. The clips pan throughout, which favours the spatial filter; still scenes
/// gain from the temporal one, so it keeps 1.5σ rather than the clips' optimum.
const DENOISE_PER_SIGMA: f64 = 1.5;
/// Luma's strength per level of measured noise `sigma` whose deviation along the rows is
/// `along_rows` times that down the fields: [`DENOISE_PER_SIGMA`], rising to
/// [`STRONG_NOISE_PER_SIGMA`] where the noise is both strong (σ 5 → 7) and runs along the rows
/// (`along_rows` 0.8 → 0.5), as tape noise does: neighbours along a row share it, so the spatial
/// filter leaves it and the temporal one must take more. On `make eval-vhs`'s tuning set (levels
/// told; PSNR-Y / SSIM-Y at 1.5σ → 2σ) the camera models at noise 8 (correlated along the rows,
/// σ 7.2 measured) gained 0.1-0.2 dB and 0.017-0.020 in SSIM-Y except the zoom (−0.05 dB,
/// +0.017); heavy noise independent from pixel to pixel (σ 8.5) lost 0.44 dB, and a panning
/// photograph under independent noise ±16 lost 1.35 dB (the test
/// `denoising_follows_the_noise_measured_in_the_picture`); the models at noise 4 or less
/// (σ 1.6-4.5) lost 0.25-0.55 dB at 2σ (2.5σ was worse everywhere but in SSIM on two pans).
pub(crate) fn luma_denoise_per_sigma(sigma: f64, along_rows: f64) -> f64 {
    let strong = strength_of(sigma);
    DENOISE_PER_SIGMA
        + strong * runs_along(along_rows) * (STRONG_NOISE_PER_SIGMA - DENOISE_PER_SIGMA)
}

/// How strong noise of deviation `sigma` is: 0 up to σ 5, 1 from σ 7.
fn strength_of(sigma: f64) -> f64 {
    ((sigma - 5.0) / 2.0).clamp(0.0, 1.0)
}

/// How far noise whose deviation along the rows is `along_rows` times that down the fields
/// runs along them: 0 at 0.8 or more (independent noise measures about 1), 1 at 0.5 or less.
fn runs_along(along_rows: f64) -> f64 {
    ((0.8 - along_rows) / 0.3).clamp(0.0, 1.0)
}

/// How much harder luma's temporal step is than its measured strength says where it follows
/// block motion (its past is then where the picture is): [`LUMA_TEMPORAL`] times, or
/// [`LUMA_TEMPORAL_INDEPENDENT`] for noise that is both strong and independent from pixel to
/// pixel (σ 5 → 7, `along_rows` 0.5 → 0.8), which the spatial filter takes best; its spatial
/// filter stays as it was (its share of the strength divided as much).
pub(crate) fn luma_temporal(sigma: f64, along_rows: f64) -> f64 {
    let independent_and_strong = strength_of(sigma) * (1.0 - runs_along(along_rows));
    LUMA_TEMPORAL - (LUMA_TEMPORAL - LUMA_TEMPORAL_INDEPENDENT) * independent_and_strong
}

/// See [`luma_temporal`]. Chosen three times on `make eval-vhs`'s tuning set (six models:
/// heavy, streaky, squeeze, 8 px pan and zoom at noise 8, shake at noise 4; levels told):
/// - First, with the camera's motion searched to 32 pixels a frame (the temporal step gave way
///   for most of the sweep models' frames; mean PSNR-Y / SSIM-Y): temporal times 1 with the
///   spatial share 2 34.54 / 0.9138; times 1.3 with the spatial filter as before **34.64 /
///   0.9169**; 1.6 with 1.25 34.57 / 0.9188; 1.3 with 1.75 34.41 / 0.9189.
/// - Then with the search reaching 64 pixels (mean lead over FFmpeg's best chain, PSNR-Y /
///   SSIM-Y; factors on the temporal step before and on the spatial filter): 1 and 1 +1.06 /
///   +0.0022; 1.3 and 1 +1.06 / +0.0038; 1 and 0.8 +1.33 / +0.0005; 1.3 and 0.8 +1.41 /
///   +0.0035; **1.6 and 0.8 +1.33 / +0.0044**; 1.6 and 0.9 +1.14 / +0.0045.
/// - Then with the spatial filter's vertical step symmetric (`stages::pass`'s `vertical`),
///   which made the spatial filter much stronger, on the same terms from 1.6 and 0.8: 1 and 1
///   +2.13 / +0.0148; 1 and 1.25 +2.07 / +0.0155; 1 and 0.8 +2.11 / +0.0116; 1.25 and 1 +1.76;
///   0.8 and 1 +2.29 / +0.0147; 0.65 and 1 +2.27 / +0.0130; **0.8 and 1.25 +2.28 / +0.0163**
///   (the least SSIM-Y lead of the six +0.0067, against +0.0032 at 0.8 and 1): the temporal
///   step 1.3 · 1.6 · 0.8 times its strength, the spatial filter as it was without block motion.
const LUMA_TEMPORAL: f64 = 1.664;
const LUMA_TEMPORAL_INDEPENDENT: f64 = 1.28;
/// See [`luma_denoise_per_sigma`].
const STRONG_NOISE_PER_SIGMA: f64 = 2.0;

#[derive(Debug, Clone, Copy)]
struct Settings {
    deinterlace: Deinterlace,
    rate: Rate,
    field_order: FieldOrder,
    /// Below 0: from the measured noise.
    luma_denoise: f64,
    chroma_denoise: f64,
    /// Chroma pixels; `None`: estimated.
    chroma_shift: Option<i32>,
    /// `None`: automatic (with `auto_levels`), else 16 and 235.
    black: Option<f64>,
    white: Option<f64>,
    /// `None`: from colour bars (with `lock_to_bars`), else 1.
    saturation: Option<f64>,
    /// -1: detected.
    head_switch_lines: i32,
    auto_levels: bool,
    lock_to_bars: bool,
    /// 8-bit levels; 0: off.
    dropout_threshold: u32,
    /// Luma contrast (8-bit levels) chroma follows; 0: bleed reduction off.
    chroma_bleed: f64,
    /// Temporal denoising along the camera's motion.
    motion: bool,
    /// Luma's temporal denoising along block motion, where it differs from the camera's.
    block_motion: bool,
    backend: Backend,
    /// Frames in flight: one on the worker, and with `on` one on the GPU's readback ring.
    pipelined: Pipelined,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            deinterlace: Deinterlace::Auto,
            rate: Rate::Frame,
            field_order: FieldOrder::Auto,
            luma_denoise: AUTO,
            chroma_denoise: AUTO,
            chroma_shift: None,
            black: None,
            white: None,
            saturation: None,
            head_switch_lines: -1,
            auto_levels: true,
            lock_to_bars: true,
            dropout_threshold: 40,
            chroma_bleed: DEFAULT_CHROMA_BLEED,
            motion: true,
            block_motion: true,
            backend: Backend::Auto,
            pipelined: Pipelined::Auto,
        }
    }
}

struct State {
    in_info: gst_video::VideoInfo,
    out_info: gst_video::VideoInfo,
    /// The layout of the held frames: `in_info`, or its planar 4:4:4 twin for packed RGB.
    work_info: gst_video::VideoInfo,
    packed: Option<Packed>,
    pool: gst::BufferPool,
    deinterlace: bool,
    /// Top field first; `None`: per buffer (mixed streams) or detected from the picture.
    tff: Option<bool>,
    /// Interlace mode `mixed`: only buffers flagged interlaced are deinterlaced.
    mixed: bool,
    /// Running field-order evidence (above 0: top first).
    order_votes: f64,
    /// What the automatic settings run on, measured on each frame in turn.
    measured: measure::Measured,
    field_rate: bool,
    /// Input frames not yet restored, oldest first; `prev` is the last one restored.
    pending: VecDeque<gst::Buffer>,
    prev: Option<gst::Buffer>,
    denoise: [Denoise; 3],
    /// The camera's motion from frame to frame, for denoising along it.
    global: GlobalMotion,
    /// Block motion around the camera's, for the temporal denoiser: the search and the
    /// vectors of the frame being restored.
    search: MotionSearch,
    blocks: MotionField,
    /// What was found for the next frame while this one was restored, and its vectors.
    ahead: Option<restore::Ahead>,
    ahead_blocks: MotionField,
    /// The CPU path's padded copies of the frames it deinterlaces (see `stages::PAD`), by slot,
    /// and which frame each slot holds.
    padded: [[Padded; 3]; 3],
    padded_slots: FrameSlots,
    /// The GPU path, when the backend chose it; the denoisers above then stay unused.
    gpu: Option<GpuRestore>,
    /// Chroma bleed reduction on the restored frame (either path), and its level.
    bleed: Bleed,
    bleed_level: f64,
    ready: VecDeque<gst::Buffer>,
    /// The output caps put frames on the GPU (`memory:WgpuBuffer`): `pool` holds GPU buffers.
    out_gpu: bool,
    /// On the GPU, a frame's results are read back once the next frame is submitted
    /// (`pipelined=on`): the one on its way, and spare vectors for the frames in flight.
    pipelined: bool,
    in_flight: VecDeque<restore::InFlight>,
    spare_blocks: Vec<MotionField>,
}

#[derive(Default)]
pub struct VhsRestore {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
    /// A frame in flight (`pipelined`).
    worker: worker::Worker,
}

#[glib::object_subclass]
impl ObjectSubclass for VhsRestore {
    const NAME: &'static str = "GstVhsRestore";
    type Type = super::VhsRestore;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for VhsRestore {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecEnum::builder_with_default("deinterlace", Deinterlace::Auto)
                    .nick("Deinterlace")
                    .blurb("auto: when the caps say interlaced; on: always (captures flagged progressive); off. Applies at the next caps. Default: auto")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("rate", Rate::Frame)
                    .nick("Rate")
                    .blurb("frame: one frame per frame; field: one per field, twice the rate. Applies at the next caps. Default: frame")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("field-order", FieldOrder::Auto)
                    .nick("Field order")
                    .blurb("auto: from the caps, from each buffer in mixed streams, detected from the motion between fields when the caps do not say; tff; bff. Default: auto")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("luma-denoise")
                    .nick("Luma denoise")
                    .blurb("Denoising of luma: the frame-to-frame difference (0-255) still averaged at 25%; the spatial filter takes twice it (0: off; -1: from the noise measured in the picture, as a standard deviation in flat areas of each field, smoothed over frames: 1.5 times it, rising to 2 times for noise of 5 to 7 levels and more that runs along the rows as tape noise does). Default: -1")
                    .minimum(AUTO)
                    .maximum(100.0)
                    .default_value(AUTO)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("chroma-denoise")
                    .nick("Chroma denoise")
                    .blurb("Denoising of chroma, as luma-denoise (-1: 1.5 times the noise measured in chroma). Default: -1")
                    .minimum(AUTO)
                    .maximum(100.0)
                    .default_value(AUTO)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecInt::builder("chroma-shift")
                    .nick("Chroma shift")
                    .blurb("Moves chroma right by this many chroma pixels (negative: left) to undo the tape's chroma delay; 1000: estimate it from the picture, to a fraction of a pixel, and undo it by interpolation. Default: 1000 (estimate)")
                    .minimum(-16)
                    .maximum(1000)
                    .default_value(1000)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("black-level")
                    .nick("Black level")
                    .blurb("Input luma that becomes black (16); when set, it wins over colour bars and auto-levels. Default: 16, or read from colour bars, or estimated with auto-levels")
                    .minimum(0.0)
                    .maximum(254.0)
                    .default_value(16.0)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("white-level")
                    .nick("White level")
                    .blurb("Input luma that becomes white (235); when set, it wins over colour bars and auto-levels. Default: 235, or read from colour bars, or estimated with auto-levels")
                    .minimum(1.0)
                    .maximum(255.0)
                    .default_value(235.0)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("saturation")
                    .nick("Saturation")
                    .blurb("Chroma gain about neutral (1: unchanged); when set, it wins over colour bars. Default: 1, or what colour bars show the tape lost")
                    .minimum(0.0)
                    .maximum(4.0)
                    .default_value(1.0)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecInt::builder("head-switch-lines")
                    .nick("Head-switching lines")
                    .blurb("Bottom lines where the tape heads switch and the picture tears, replaced by the last clean line (-1: detected from the picture, 0: none). Default: -1")
                    .minimum(-1)
                    .maximum(64)
                    .default_value(-1)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("auto-levels")
                    .nick("Automatic levels")
                    .blurb("Black and white levels the tape lost, estimated from the picture as it plays: the darkest and brightest 4x4 blocks (0.1% in) of frames of full contrast (a range of 120 levels or more) over the last 250 such frames once there are 50, blanking and head-switching lines left out. Only what pictures cannot explain is corrected (black more than 26 levels above 16, white more than 40 below 235), black by at most 48 levels, white 64; dark, bright and flat scenes change nothing; the levels follow slowly within a shot and change at cuts. Each change is posted as a vhsrestore-levels element message (black, white, timestamp, shot-change). Colour bars and a level set by hand win. Default: true")
                    .default_value(true)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("lock-to-bars")
                    .nick("Lock to colour bars")
                    .blurb("Black and white levels and saturation read from colour bars, as an operator lines a tape up: EBU 100/0/75/0, 75% or 100% bars, or SMPTE bars, across the full width (the rows from a tenth to six tenths of the height are read). Five frames of bars (every bar flat, luma on a straight line through the pattern's, chroma a scale of it) set them, the mean of the run; they hold after the bars, for the programme, until the next bars. They win over auto-levels; levels and saturation set by hand win over them. Posted as a vhsrestore-levels element message (source bars, pattern, saturation). Default: true")
                    .default_value(true)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("dropout-threshold")
                    .nick("Dropout threshold")
                    .blurb("Tape dropouts: horizontal streaks of a field line, 8 luma pixels or longer, standing this far (8-bit levels) above or below every row around them, filled from the other field (interlaced input; 0: off). Default: 40")
                    .maximum(255)
                    .default_value(40)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("chroma-bleed")
                    .nick("Chroma bleed")
                    .blurb("Chroma bleed reduction: chroma is refitted to the restored luma along each row (a guided filter), so colour transitions smeared by the tape's low chroma bandwidth snap back to the luma edges they belong to; chroma along luma flatter than this contrast (8-bit levels) is averaged; 10 suits VHS (+3 dB on chroma in make eval-vhs, 15-30% of the frame rate). 0: off. Default: 0")
                    .minimum(0.0)
                    .maximum(255.0)
                    .default_value(DEFAULT_CHROMA_BLEED)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("motion-compensation")
                    .nick("Motion compensation")
                    .blurb("Restoration along the motion: each frame's pan or shake (one translation, found to a fraction of a pixel from the picture's row and column profiles) is followed by the deinterlacer (the other fields and frames read where the content was, in whole pixels, horizontally) and by the temporal denoiser (the filtered past averaged in where the content was, not where it is); where parts of the picture move otherwise (a zoom, a turn of the camera), the luma denoiser follows block motion instead (see block-motion), so a moving picture is restored as a still one is. Motion found nowhere passes as before (the temporal steps give way where the past differs). Default: true")
                    .default_value(true)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("pipelined", Pipelined::Auto)
                    .nick("Pipelined")
                    .blurb("Keep a frame in flight, one more frame of latency (reported): a thread of the element's own restores each frame, on the CPU cores or the GPU, while the streaming thread takes in the next (a file read, a decode), and on the CPU the thread pool goes from frame to frame without its threads falling asleep. About a tenth more frames a second on 2 cores; on an H100 the GPU path ran half as fast again at 720x576. on: also a second frame on the GPU, whose results are read back once the next frame is submitted (a frame whose readback fails is restored on the CPU; no effect where frames stay on the GPU). auto: one frame unless upstream is live (a camera, a capture card, a network stream), where the frame of delay buys nothing at the source's pace; on; off. Read when the caps are set. Default: auto")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("block-motion")
                    .nick("Block motion")
                    .blurb("With motion-compensation: where parts of the picture move otherwise than the camera (a zoom, a turn), the luma denoiser follows the motion of each 32x32-pixel block of a field (searched from the camera's motion, to a fraction of a pixel) instead of the camera's: +0.4 dB PSNR-Y on average over make eval-vhs's held-out clips, for about a ninth of the CPU path's frame rate on a panning, zooming clip (2 cores: 1,234 against 1,390 fps). false: the camera's motion only. Default: true")
                    .default_value(true)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("backend", Backend::Auto)
                    .nick("Backend")
                    .blurb("Where the restoring pass runs: auto (a hardware GPU when there is one, else the CPU), gpu (any adapter, software ones included), cpu; the results are the same within a level of rounding. Applies at the next caps. Default: auto")
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self
            .settings
            .lock()
            .expect("settings lock is never poisoned");
        match pspec.name() {
            "deinterlace" => s.deinterlace = value.get().expect("type checked upstream"),
            "rate" => s.rate = value.get().expect("type checked upstream"),
            "field-order" => s.field_order = value.get().expect("type checked upstream"),
            "luma-denoise" => s.luma_denoise = value.get().expect("type checked upstream"),
            "chroma-denoise" => s.chroma_denoise = value.get().expect("type checked upstream"),
            "chroma-shift" => {
                let v: i32 = value.get().expect("type checked upstream");
                s.chroma_shift = (v <= 16).then_some(v);
            }
            "black-level" => s.black = Some(value.get().expect("type checked upstream")),
            "white-level" => s.white = Some(value.get().expect("type checked upstream")),
            "saturation" => s.saturation = Some(value.get().expect("type checked upstream")),
            "dropout-threshold" => {
                s.dropout_threshold = value.get().expect("type checked upstream")
            }
            "auto-levels" => s.auto_levels = value.get().expect("type checked upstream"),
            "lock-to-bars" => s.lock_to_bars = value.get().expect("type checked upstream"),
            "backend" => s.backend = value.get().expect("type checked upstream"),
            "pipelined" => s.pipelined = value.get().expect("type checked upstream"),
            "chroma-bleed" => s.chroma_bleed = value.get().expect("type checked upstream"),
            "motion-compensation" => s.motion = value.get().expect("type checked upstream"),
            "block-motion" => s.block_motion = value.get().expect("type checked upstream"),
            "head-switch-lines" => {
                s.head_switch_lines = value.get().expect("type checked upstream")
            }
            other => unreachable!("unknown property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self
            .settings
            .lock()
            .expect("settings lock is never poisoned");
        match pspec.name() {
            "deinterlace" => s.deinterlace.to_value(),
            "rate" => s.rate.to_value(),
            "field-order" => s.field_order.to_value(),
            "luma-denoise" => s.luma_denoise.to_value(),
            "chroma-denoise" => s.chroma_denoise.to_value(),
            "chroma-shift" => s.chroma_shift.unwrap_or(1000).to_value(),
            "black-level" => s.black.unwrap_or(16.0).to_value(),
            "white-level" => s.white.unwrap_or(235.0).to_value(),
            "saturation" => s.saturation.unwrap_or(1.0).to_value(),
            "head-switch-lines" => s.head_switch_lines.to_value(),
            "dropout-threshold" => s.dropout_threshold.to_value(),
            "auto-levels" => s.auto_levels.to_value(),
            "lock-to-bars" => s.lock_to_bars.to_value(),
            "backend" => s.backend.to_value(),
            "pipelined" => s.pipelined.to_value(),
            "motion-compensation" => s.motion.to_value(),
            "block-motion" => s.block_motion.to_value(),
            "chroma-bleed" => s.chroma_bleed.to_value(),
            other => unreachable!("unknown property {other}"),
        }
    }
}

impl GstObjectImpl for VhsRestore {}

impl ElementImpl for VhsRestore {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            mediaai_common::element_metadata(
                "VHS restoration",
                "Filter/Effect/Video/Deinterlace",
                "Deinterlaces, denoises and repairs chroma, levels and head-switching noise of analog tape captures in one pass",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let sink = gpumemory::gpu_and_system(
                &gst_video::VideoCapsBuilder::new()
                    .format_list(FORMATS)
                    .build(),
            );
            let src = gpumemory::gpu_and_system(
                &gst_video::VideoCapsBuilder::new()
                    .format_list(FORMATS)
                    .field("interlace-mode", "progressive")
                    .build(),
            );
            mediaai_common::templates::src_and_sink(&src, &sink)
        });
        TEMPLATES.as_ref()
    }
}

/// Doubles (`up`) or halves a structure's frame rate.
fn scale_rate(s: &mut gst::StructureRef, up: bool) {
    let Ok(value) = s.value("framerate").cloned() else {
        return;
    };
    let scale = |f: gst::Fraction| {
        if up {
            gst::Fraction::new(f.numer().saturating_mul(2), f.denom())
        } else {
            gst::Fraction::new(f.numer(), f.denom().saturating_mul(2))
        }
    };
    if let Ok(f) = value.get::<gst::Fraction>() {
        s.set("framerate", scale(f));
    } else if let Ok(r) = value.get::<gst::FractionRange>() {
        s.set(
            "framerate",
            gst::FractionRange::new(scale(r.min()), scale(r.max())),
        );
    }
}

impl BaseTransformImpl for VhsRestore {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::NeverInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        self.worker.stop();
        if let Some(s) = self.state.lock().expect("state lock").take() {
            let _ = s.pool.set_active(false);
        }
        Ok(())
    }

    fn transform_caps(
        &self,
        direction: gst::PadDirection,
        caps: &gst::Caps,
        filter: Option<&gst::Caps>,
    ) -> Option<gst::Caps> {
        let (field_rate, gpu_frames) = {
            let s = self.settings.lock().expect("settings lock");
            (
                s.rate == Rate::Field,
                mediaai_common::gpu::Backend::from(s.backend).gpu_frames_possible(),
            )
        };
        // Field rate doubles the rate of interlaced input only; progressive input keeps its
        // rate (and mixed streams double, their progressive frames shown twice).
        let mut out = gst::Caps::new_empty();
        for s in caps.iter() {
            let progressive = s
                .get::<&str>("interlace-mode")
                .is_ok_and(|m| m == "progressive")
                || !s.has_field("interlace-mode");
            let mut s = s.to_owned();
            if direction == gst::PadDirection::Sink {
                s.set("interlace-mode", "progressive");
                s.remove_field("field-order");
                if field_rate && !progressive {
                    scale_rate(&mut s, true);
                }
                out.make_mut().append_structure(s);
            } else {
                s.remove_field("interlace-mode");
                s.remove_field("field-order");
                if field_rate {
                    // Interlaced input at half the rate, or progressive input at this one.
                    let mut same = s.clone();
                    same.set("interlace-mode", "progressive");
                    scale_rate(&mut s, false);
                    let interlaced = gst::List::new(["interleaved", "mixed"]);
                    s.set("interlace-mode", interlaced);
                    out.make_mut().append_structure(s);
                    out.make_mut().append_structure(same);
                } else {
                    out.make_mut().append_structure(s);
                }
            }
        }
        // Frames may come in either memory (GPU frames are read on map) and leave on the GPU
        // when this element can restore them there.
        let out = if direction == gst::PadDirection::Src || gpu_frames {
            gpumemory::gpu_and_system(&out)
        } else {
            gpumemory::in_memory(&out, false)
        };
        Some(mediaai_common::templates::filtered(out, filter))
    }

    mediaai_common::fixate_gpu_first!();

    fn set_caps(&self, incaps: &gst::Caps, outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let in_info = gst_video::VideoInfo::from_caps(incaps)
            .map_err(|_| gst::loggable_error!(CAT, "invalid input caps {incaps}"))?;
        let out_info = gst_video::VideoInfo::from_caps(outcaps)
            .map_err(|_| gst::loggable_error!(CAT, "invalid output caps {outcaps}"))?;
        if in_info.width() == 0 || in_info.height() == 0 {
            gst::element_imp_error!(self, gst::StreamError::Format, ["zero-sized frames"]);
            return Err(gst::loggable_error!(CAT, "zero-sized frames"));
        }
        let s = *self.settings.lock().expect("settings lock");
        let interlaced = in_info.interlace_mode() != gst_video::VideoInterlaceMode::Progressive;
        let deinterlace = match s.deinterlace {
            Deinterlace::Auto => interlaced,
            Deinterlace::On => true,
            Deinterlace::Off => false,
        } && in_info.height() >= 2;
        let tff = match (s.field_order, in_info.field_order()) {
            (FieldOrder::Tff, _) => Some(true),
            (FieldOrder::Bff, _) => Some(false),
            (FieldOrder::Auto, gst_video::VideoFieldOrder::TopFieldFirst) => Some(true),
            (FieldOrder::Auto, gst_video::VideoFieldOrder::BottomFieldFirst) => Some(false),
            (FieldOrder::Auto, _) => None,
        };
        let mixed = in_info.interlace_mode() == gst_video::VideoInterlaceMode::Mixed;
        let out_gpu = gpumemory::caps_on_gpu(outcaps);
        let pool = buffer_pool(outcaps, out_info.size(), 4)?;
        let (work_info, packed) = match PackedLayout::of(in_info.format_info()) {
            None => (in_info.clone(), None),
            Some(layout) => {
                let planar = |from: &gst_video::VideoInfo| {
                    gst_video::VideoInfo::builder(
                        gst_video::VideoFormat::Y444,
                        from.width(),
                        from.height(),
                    )
                    .fps(from.fps())
                    .interlace_mode(from.interlace_mode())
                    .field_order(from.field_order())
                    .build()
                    .map_err(|_| gst::loggable_error!(CAT, "no planar twin for {incaps}"))
                };
                let (work_in, work_out) = (planar(&in_info)?, planar(&out_info)?);
                let caps = work_in
                    .to_caps()
                    .map_err(|_| gst::loggable_error!(CAT, "no caps for the planar frames"))?;
                // Held input frames (up to three), the output frame being made, and slack.
                let size = work_in.size().max(work_out.size());
                let packed = Packed {
                    layout,
                    matrix: YuvMatrix::new(0.299, 0.114, false),
                    pool: buffer_pool(&caps, size, 6)?,
                    out_info: work_out,
                };
                (work_in, Some(packed))
            }
        };
        let sizes: [(usize, usize); 3] = std::array::from_fn(|p| {
            (
                work_info.comp_width(p as u8) as usize,
                work_info.comp_height(p as u8) as usize,
            )
        });
        let gpu = mediaai_common::gpu::Backend::from(s.backend)
            .open(
                || GpuRestore::new(sizes, s.pipelined == Pipelined::On),
                |e| gst::warning!(CAT, imp = self, "no GPU ({e}): restoring on the CPU"),
            )
            .map_err(|e| {
                gst::element_imp_error!(self, gst::ResourceError::NotFound, ["{e}"]);
                gst::loggable_error!(CAT, "{e}")
            })?;
        // A frame in flight on the worker unless upstream is live (2 cores, CPU path, SD: 1,137
        // → 1,257 fps without a `queue`; an H100's GPU path, SD: 1,298-1,318 → 1,811-2,133,
        // 1080i: 352-367 → 589-625). The GPU's readback ring as well only when asked for: alone
        // it was slower on the H100 (SD 1,780-2,077 fps against 2,168-2,360 through a `queue`).
        let ring = s.pipelined == Pipelined::On && gpu.is_some();
        let pipelined = match s.pipelined {
            Pipelined::On => true,
            Pipelined::Off => false,
            Pipelined::Auto => !self.upstream_is_live(),
        };
        // Bars in the stream's matrix (studio range, as the levels are): packed RGB is held as
        // BT.601 Y'CbCr.
        let c = in_info.colorimetry();
        let bar_patterns = BarPatterns::new(match packed {
            Some(ref p) => p.matrix,
            None => YuvMatrix::from_colorimetry(&gst_video::VideoColorimetry::new(
                gst_video::VideoColorRange::Range16_235,
                c.matrix(),
                c.transfer(),
                c.primaries(),
            )),
        });
        let cuts = SceneCuts::new(
            work_info.width(),
            work_info.height(),
            YuvMatrix::new(0.299, 0.114, false),
        );
        let state = State {
            gpu,
            padded: Default::default(),
            padded_slots: FrameSlots::default(),
            bleed: bleed(&work_info, s.chroma_bleed),
            bleed_level: s.chroma_bleed,
            denoise: denoisers(&work_info),
            global: GlobalMotion::new(),
            search: MotionSearch::default(),
            blocks: MotionField::default(),
            ahead: None,
            ahead_blocks: MotionField::default(),
            in_info,
            out_info,
            work_info,
            packed,
            pool,
            deinterlace,
            tff,
            mixed,
            order_votes: 0.0,
            field_rate: interlaced && s.rate == Rate::Field,
            pending: VecDeque::with_capacity(3),
            out_gpu,
            prev: None,
            ready: VecDeque::with_capacity(4),
            pipelined: ring,
            in_flight: VecDeque::with_capacity(2),
            spare_blocks: Vec::with_capacity(2),
            measured: measure::Measured::new(bar_patterns, cuts),
        };
        gst::info!(
            CAT,
            imp = self,
            "deinterlace {deinterlace}, top field first {tff:?} (None: per buffer or detected)"
        );
        // Pipelined, frames are restored by the worker while the streaming thread takes in the
        // next one; it is done with the old state first.
        self.worker.settle(false);
        if let Some(old) = self.state.lock().expect("state lock").replace(state) {
            let _ = old.pool.set_active(false);
            if let Some(p) = old.packed {
                let _ = p.pool.set_active(false);
            }
        }
        self.worker.set_active(&self.obj(), pipelined);
        gst::info!(
            CAT,
            imp = self,
            "a frame in flight on the worker: {pipelined}; on the GPU's readback ring: {ring}"
        );
        Ok(())
    }

    fn submit_input_buffer(
        &self,
        _is_discont: bool,
        inbuf: gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        if self.worker.active() {
            return self.worker.submit(inbuf);
        }
        let s = *self.settings.lock().expect("settings lock");
        let mut guard = self.state.lock().expect("state lock");
        let Some(state) = guard.as_mut() else {
            gst::element_imp_error!(self, gst::CoreError::Negotiation, ["buffer before caps"]);
            return Err(gst::FlowError::NotNegotiated);
        };
        let restored = self.hold(state, inbuf, &s);
        let message = state.measured.message.take();
        drop(guard);
        self.post(message);
        restored.map(|_| gst::FlowSuccess::Ok)
    }

    fn generate_output(
        &self,
    ) -> Result<gst_base::subclass::base_transform::GenerateOutputSuccess, gst::FlowError> {
        use gst_base::subclass::base_transform::GenerateOutputSuccess as Out;
        // Pipelined, the worker holds the state while it restores: its frames wait apart.
        let next = if self.worker.active() {
            self.worker.output()
        } else {
            self.state
                .lock()
                .expect("state lock")
                .as_mut()
                .and_then(|s| s.ready.pop_front())
        };
        Ok(match next {
            Some(b) => Out::Buffer(b),
            None => Out::NoOutput,
        })
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        // Held frames go out before the stream ends or its format changes; a flush drops them.
        if let Err(e) =
            mediaai_common::held::on_sink_event(&event, || self.drain(), || self.flush())
        {
            gst::warning!(CAT, imp = self, "draining held frames failed: {e:?}");
        }
        self.parent_sink_event(event)
    }

    fn query(&self, direction: gst::PadDirection, query: &mut gst::QueryRef) -> bool {
        let parent = |q: &mut gst::QueryRef| BaseTransformImplExt::parent_query(self, direction, q);
        mediaai_common::held::query(direction, query, parent, || {
            let worker = self.worker.active();
            self.state
                .lock()
                .expect("state lock")
                .as_ref()
                .map_or(gst::ClockTime::ZERO, |s| {
                    // The frame the deinterlacer waits for, one restored by the worker, and one
                    // on its way back from the GPU.
                    let ring = s.pipelined && s.gpu.is_some();
                    let held = 1 + usize::from(worker) + usize::from(ring);
                    mediaai_common::held::frames_duration(&s.in_info, held as u64)
                })
        })
    }
}

/// One denoiser per plane (its strength is set per frame).
fn denoisers(info: &gst_video::VideoInfo) -> [Denoise; 3] {
    std::array::from_fn(|p| {
        Denoise::new(
            0.0,
            info.comp_width(p as u8) as usize,
            info.comp_height(p as u8) as usize,
        )
    })
}

/// Chroma bleed reduction for the chroma planes of `info`.
fn bleed(info: &gst_video::VideoInfo, level: f64) -> Bleed {
    let (w, h) = (info.comp_width(1) as usize, info.comp_height(1) as usize);
    let factor = (
        (info.width() as usize).div_ceil(w.max(1)),
        (info.height() as usize).div_ceil(h.max(1)),
    );
    Bleed::new(level, w, h, factor)
}

/// Plane `p` of a mapped frame (the formats are all planar, or converted to planar).
fn plane<'a>(f: &'a gst_video::VideoFrameRef<&gst::BufferRef>, p: u32) -> Plane<'a> {
    Plane::of(f, p).expect("planar formats only")
}

impl VhsRestore {
    /// Posts a message made under the state lock (posting runs bus handlers).
    fn post(&self, message: Option<gst::Message>) {
        if let Some(m) = message {
            let _ = self.obj().post_message(m);
        }
    }

    /// Drops every held frame (FLUSH_STOP).
    fn flush(&self) {
        self.worker.settle(true);
        let _ = self.worker.take(&mut VecDeque::new());
        if let Some(s) = self.state.lock().expect("state lock").as_mut() {
            s.pending.clear();
            s.prev = None;
            s.ready.clear();
            while let Some(f) = s.in_flight.pop_front() {
                f.abandon(s.gpu.as_ref(), &mut s.spare_blocks);
            }
            s.denoise.iter_mut().for_each(Denoise::reset);
            s.global.reset();
            s.search.reset();
            s.ahead = None;
            s.padded_slots.reset();
            if let Some(g) = &mut s.gpu {
                g.reset();
            }
        }
    }

    /// Restores every held frame (EOS, new caps) and pushes the results.
    fn drain(&self) -> Result<(), gst::FlowError> {
        let s = *self.settings.lock().expect("settings lock");
        // What the worker restored first, in order.
        self.worker.settle(false);
        let mut out = VecDeque::new();
        let failed = self.worker.take(&mut out);
        let message = {
            let mut guard = self.state.lock().expect("state lock");
            let Some(state) = guard.as_mut() else {
                return Ok(());
            };
            if let Some(e) = failed {
                return Err(e);
            }
            while !state.pending.is_empty() {
                self.restore_oldest(state, &s)?;
            }
            while !state.in_flight.is_empty() {
                self.finish_in_flight(state)?;
            }
            state.prev = None;
            state.forget_released_frames();
            out.extend(state.ready.drain(..));
            state.measured.message.take()
        };
        self.post(message);
        mediaai_common::held::push_all(self.obj().src_pad(), out)?;
        Ok(())
    }

    /// Whether the GPU restored the frames; after a failure, says so and goes on on the CPU
    /// (the frames are still untouched on the host, the denoisers start afresh).
    fn gpu_ran(
        &self,
        gpu: &mut Option<GpuRestore>,
        denoise: &mut [Denoise; 3],
        ran: Result<(), String>,
    ) -> bool {
        let Err(e) = ran else {
            return true;
        };
        gst::element_imp_warning!(
            self,
            gst::ResourceError::Failed,
            ["GPU restoring failed ({e}); continuing on the CPU"]
        );
        *gpu = None;
        denoise.iter_mut().for_each(Denoise::reset);
        false
    }
}

impl VhsRestore {
    /// Whether upstream is live, as its answer to a latency query says; a pipeline that does
    /// not answer is taken as live (the least delay).
    fn upstream_is_live(&self) -> bool {
        let mut q = gst::query::Latency::new();
        !self.obj().sink_pad().peer_query(&mut q) || q.result().0
    }

    /// Holds `frame` (unpacked first, if packed) and restores the oldest held frame once the one
    /// after it is here.
    fn hold(
        &self,
        state: &mut State,
        frame: gst::Buffer,
        s: &Settings,
    ) -> Result<(), gst::FlowError> {
        let frame = match &state.packed {
            Some(p) => unpack(
                self.obj().upcast_ref(),
                p,
                &frame,
                &state.in_info,
                &state.work_info,
            )?,
            None => frame,
        };
        state.pending.push_back(frame);
        while state.pending.len() >= 2 {
            self.restore_oldest(state, s)?;
        }
        Ok(())
    }
}

impl State {
    /// Forgets the copies of frames no longer held (`prev` and `pending` are), on the GPU and
    /// padded on the CPU: a released buffer's address may come back as another frame's key.
    fn forget_released_frames(&mut self) {
        let mut held = [0usize; 4];
        let frames = self.prev.iter().chain(self.pending.iter());
        for (k, b) in held.iter_mut().zip(frames) {
            *k = b.as_ptr() as usize;
        }
        self.padded_slots.retain(&held);
        if let Some(gpu) = &mut self.gpu {
            gpu.retain(&held);
        }
    }
}

/// Head-switching noise: the torn bottom lines of a plane (`lines` of a frame `height` rows
/// tall, scaled to the plane) take the last clean line — a still edge instead of a
/// jittering tear; black bars would cut more picture.
fn repair_head_switching(data: &mut [u8], stride: usize, plane: Plane, lines: u32, height: u32) {
    let (w, h) = (plane.width, plane.height);
    let lines = (lines as usize * h)
        .div_ceil(height.max(1) as usize)
        .min(h.saturating_sub(1));
    if lines > 0 {
        let clean = (h - lines - 1) * stride;
        for y in h - lines..h {
            data.copy_within(clean..clean + w, y * stride);
        }
    }
}

/// A started pool of `min` or more buffers of `size` bytes for `caps` (GPU frames when the caps
/// say so).
fn buffer_pool(
    caps: &gst::Caps,
    size: usize,
    min: u32,
) -> Result<gst::BufferPool, gst::LoggableError> {
    gpumemory::started_pool(caps, size, min).map_err(|e| gst::loggable_error!(CAT, "{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_noise_is_denoised_harder_per_level_of_noise() {
        // Noise 4 or less keeps the old strength; noise 8 (σ 7.2 measured) running along the
        // rows gets twice σ, independent noise as strong does not.
        for sigma in [0.5, 1.6, 3.7, 5.0] {
            assert_eq!(luma_denoise_per_sigma(sigma, 0.3), DENOISE_PER_SIGMA);
        }
        assert_eq!(luma_denoise_per_sigma(6.0, 0.5), 1.75);
        for sigma in [7.0, 7.2, 8.5, 30.0] {
            assert_eq!(luma_denoise_per_sigma(sigma, 0.4), 2.0);
            assert_eq!(luma_denoise_per_sigma(sigma, 1.0), DENOISE_PER_SIGMA);
        }
        // Along block motion, harder in time, strong independent noise less so.
        for (sigma, along_rows) in [(3.7, 1.0), (3.7, 0.3), (8.5, 0.3), (8.5, 0.5)] {
            assert_eq!(luma_temporal(sigma, along_rows), LUMA_TEMPORAL);
        }
        for sigma in [7.0, 8.5, 30.0] {
            assert_eq!(luma_temporal(sigma, 1.0), LUMA_TEMPORAL_INDEPENDENT);
        }
        let halfway = (LUMA_TEMPORAL_INDEPENDENT + LUMA_TEMPORAL) / 2.0;
        assert!((luma_temporal(6.0, 1.0) - halfway).abs() < 1e-12);
    }
}
