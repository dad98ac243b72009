/**
 * element-upscale:
 *
 * Super-resolution by 2 or 4 (`scale`). Frames are gathered in batches of `batch-size` and
 * upscaled by the source pad's task while the streaming thread converts the next batch's
 * frames as they arrive; the task pushes each batch's frames downstream in order, with their
 * timestamps, durations, flags and metas. The neural path runs a 2x network through ONNX
 * Runtime (waifu2x's photo model by default; 4x runs it twice) over tiles of the frames, each
 * read with a margin so that the tiles join without seams; the tiles of a batch go through the
 * network together, `tiles-per-inference` at a time. The spatial path (`method=spatial`, and
 * `auto` when no model can be loaded) interpolates edge-adaptively (EASU) and sharpens with
 * contrast-adaptive sharpening, on the GPU (one submission per batch) or the CPU (`backend`).
 * Packed 8-bit RGB and I420 in and out (I420 through RGB: all three planes go through the
 * network); I420 in may leave as 10-bit I420_10LE or P010_10LE when downstream asks for it
 * (the network's output keeps finer levels than 8 bits; written on the CPU). On CUDA (and
 * TensorRT), I420 frames up to 1920 a side leaving as I420 or I420_10LE go through the default
 * network whole, in a copy of it that takes and gives I420 frames
 * (`waifu2x-photo-x2-fp16-i420.onnx`, `-i420-10.onnx`): the conversions, the margin and the
 * chroma's averaging run on the GPU, and the CPU only copies planes in and out (a 1080p frame
 * moves 3 MB up and 12 MB down: 1080p to UHD at 55 fps on an H200). Tensors, frame
 * buffers and output buffers are made once per caps. Latency: a
 * frame leaves at most `2 · batch-size − 1` frame durations after it came in while the
 * element keeps up with the stream (reported in the latency query); EOS, new caps and every
 * other serialized event send a partial batch out first, a flush drops it.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=sd.mp4 ! decodebin ! videoconvert ! upscale scale=2 ! videoconvert ! autovideosink
 * ]|
 */
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::prelude::*;

use super::{Backend, ExecutionProvider, Method, Scale};
use crate::gpu::GpuSpatial;
use crate::neural::Neural;
use crate::spatial::Spatial;
use mediaai_common::frames;
use mediaai_common::live::{self, Shedder};
use mediaai_common::sampler::{self, write_rgb_planes, PixelSource, TensorSampler, YuvMatrix};
use mediaai_common::{gpumemory, held, inference, templates};

mod worker;

use worker::{Batch, Network, Shared, Work, Worker};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "upscale",
        gst::DebugColorFlags::empty(),
        Some("Super-resolution"),
    )
});

const FORMATS: [gst_video::VideoFormat; 11] = [
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
    gst_video::VideoFormat::I420,
];
/// What I420 in may also leave as, when downstream asks (UHD channels are 10-bit): the
/// network's output has finer levels than 8 bits keep. Written on the CPU, in system memory.
const TEN_BIT: [gst_video::VideoFormat; 2] = [
    gst_video::VideoFormat::I42010le,
    gst_video::VideoFormat::P01010le,
];

/// The formats a caps structure allows (`None`: any).
fn formats_of(s: &gst::StructureRef) -> Option<Vec<String>> {
    match s.value("format").ok()? {
        v if v.type_() == String::static_type() => v.get::<String>().ok().map(|f| vec![f]),
        v => v
            .get::<gst::List>()
            .ok()
            .map(|l| l.iter().filter_map(|f| f.get::<String>().ok()).collect()),
    }
}

/// The default network: waifu2x's upconv_7 photo model, 2x (see models/models.toml).
const DEFAULT_MODEL: &str = "waifu2x-photo-x2.onnx";
/// Its half-precision copy that takes and gives whole I420 frames (see `Upscale::load`).
const FRAMES_MODEL: &str = "waifu2x-photo-x2-fp16-i420.onnx";
/// The same giving 10-bit I420_10LE.
const FRAMES_MODEL_10: &str = "waifu2x-photo-x2-fp16-i420-10.onnx";
/// Input pixels the default network reads around each pixel it makes (its unpadded
/// convolutions lose 7 at each side); tiles read this much beyond their sides.
const MODEL_MARGIN: usize = 8;

/// One frame at a time: on the H200 the network ran 73 fps so on CUDA against 56-57 in batches
/// of 8 to 32 (the frames' tiles are cut and placed on the CPU, which then works on more
/// memory than its caches hold), and batches made no difference on WebGPU or on CPU cores;
/// a larger batch only adds latency there.
const DEFAULT_BATCH: u32 = 1;
/// Tiles per inference when `tiles-per-inference` is 0: one on the CPU, whose cores share one
/// tile's convolutions already (8 tiles per inference measured 5-10% slower: they only spill
/// the cache), 16 on a GPU. Measured on the H200 through the WebGPU provider (720x576 to
/// 1440x1152, steady fps): half precision 13.6 with 16 tiles, 10.6 with 64; float32 8.4-8.7
/// with 16, 7.9 with 32, 7.6 with 64. The batch of frames (8, 16, 32) made no difference
/// there; the tiles of an inference did.
const TILES_PER_INFERENCE_CPU: usize = 1;
const TILES_PER_INFERENCE_GPU: usize = 16;
/// Tile side when `tile-size` is 0 on CUDA (and TensorRT): the frame whole up to 1920 pixels
/// a side, one inference per 1080p frame, one tile per inference. Measured on an H100 (half
/// precision, cuDNN's NHWC layout): 1080p's network 24.5 ms in one inference against 40 ms in
/// 9 inferences of 16 tiles of 128; 720x576 upscaled at 131 fps against 58. Elsewhere tiles of
/// 128 (`neural::TILE`): the CPU's caches, and the WebGPU provider's buffer limits.
const TILE_CUDA: usize = 1920;

/// The tile side and tiles per inference for `s` on `provider`: what the user set, else the
/// measured defaults; with tiles larger than the default a GPU provider's default inference
/// holds fewer of them, about as many pixels as 16 tiles of 128 (at least one).
fn tiling(s: &Settings, provider: inference::ExecutionProvider) -> (usize, usize) {
    use inference::ExecutionProvider as Ep;
    let tile = match s.tile_size {
        0 if matches!(provider, Ep::Cuda | Ep::TensorRt) => TILE_CUDA,
        0 => crate::neural::TILE,
        n => n as usize,
    };
    let per_inference = match s.tiles_per_inference {
        0 if provider == Ep::Cpu => TILES_PER_INFERENCE_CPU,
        0 => (TILES_PER_INFERENCE_GPU * crate::neural::TILE.pow(2) / tile.pow(2))
            .clamp(1, TILES_PER_INFERENCE_GPU),
        n => n as usize,
    };
    (tile, per_inference)
}
const DEFAULT_SHARPNESS: f64 = 0.2;

#[derive(Debug, Clone)]
struct Settings {
    scale: Scale,
    method: Method,
    batch_size: u32,
    tiles_per_inference: u32,
    tile_size: u32,
    model_location: Option<String>,
    execution_provider: ExecutionProvider,
    sharpness: f64,
    backend: Backend,
    batch_group: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            scale: Scale::X2,
            method: Method::Auto,
            batch_size: DEFAULT_BATCH,
            tiles_per_inference: 0,
            tile_size: 0,
            model_location: None,
            execution_provider: ExecutionProvider::Auto,
            sharpness: DEFAULT_SHARPNESS,
            backend: Backend::Auto,
            batch_group: None,
        }
    }
}

/// What upscales the frames: the network, or the spatial path on the CPU or the GPU.
enum Upscaler {
    Neural(Box<Neural>),
    Spatial(Spatial),
    Gpu(GpuSpatial),
}

/// A loaded network kept between caps and state changes: the model file, provider and batch
/// group it was made for, whether it ended up on the CPU, and the session (loading one takes
/// longer than many frames).
struct Loaded {
    path: std::path::PathBuf,
    provider: ExecutionProvider,
    group: Option<String>,
    on_cpu: bool,
    model: inference::SharedModel,
    /// The batch shape the session was primed for, and its steady time.
    primed: Option<crate::neural::Primed>,
}

/// A network's session for [`Upscale::load`]: kept from the caps before (with what it was
/// primed for) or new.
struct Session {
    model: inference::SharedModel,
    on_cpu: bool,
    primed: Option<crate::neural::Primed>,
    kept: bool,
}

struct State {
    in_info: gst_video::VideoInfo,
    sampler: TensorSampler,
    /// Whether frames are converted to planar RGB as they come (the CPU engines); the GPU
    /// takes them as they are.
    convert: bool,
    batch: usize,
    /// The batch being filled, and the other one when the worker is not holding it.
    filling: Option<Batch>,
    spare: Option<Batch>,
    worker: Worker,
    /// The minimum latency of a live upstream (`None`: not live: nothing is shed).
    live_upstream: Option<gst::ClockTime>,
    /// Late batches go through the spatial path instead of the network (neural engine only).
    shedder: Option<Shedder>,
}

/// What the upscaler does less of while it sheds work, for `mediaai-overload` messages.
const SHEDDING: &str = "late frames take the spatial path instead of the network";

#[derive(Default)]
pub struct Upscale {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
    loaded: Mutex<Option<Loaded>>,
    shared: Arc<Shared>,
    /// Between READY→PAUSED and PAUSED→READY: caps may start a worker task. Held by
    /// `set_caps` throughout, so a state change never misses a task being started.
    running: Mutex<bool>,
    /// The latency of the current caps, apart from the state: a latency query must not wait
    /// for the streaming thread, which may be waiting for the worker, which may be waiting
    /// in a prerolling sink for the state change that sent the query.
    latency: Mutex<gst::ClockTime>,
}

#[glib::object_subclass]
impl ObjectSubclass for Upscale {
    const NAME: &'static str = "GstUpscale";
    type Type = super::Upscale;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for Upscale {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecEnum::builder_with_default("scale", Scale::X2)
                    .nick("Scale")
                    .blurb("Output width and height over input: 2 or 4. Default: 2")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("method", Method::Auto)
                    .nick("Method")
                    .blurb("auto: the network when its model loads, else spatial (with a warning); neural: the network (an error without it); spatial: edge-adaptive interpolation and contrast-adaptive sharpening (FSR 1.0's EASU and RCAS). Default: auto")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("batch-size")
                    .nick("Batch size")
                    .blurb("Frames the network upscales together on the source pad's task (their tiles go through it together); the spatial path takes frames one by one. Latency: up to 2 x batch-size - 1 frames. Memory: batch-size output frames as floats. Default: 1, the least latency (with tiles the fastest measured too; whole I420 frames on CUDA gain from a few: 1080p on an H100 60.8 fps with 4 against 46.1)")
                    .minimum(1)
                    .maximum(64)
                    .default_value(DEFAULT_BATCH)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("tiles-per-inference")
                    .nick("Tiles per inference")
                    .blurb("Tiles (tile-size) the network takes in one inference, across the frames of a batch; 0: 1 on the CPU; on a GPU provider 16 tiles of 128x128, or about as many pixels in larger tiles (one per inference from 512x512 on). Default: 0")
                    .maximum(1024)
                    .default_value(0)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("tile-size")
                    .nick("Tile size")
                    .blurb("Input pixels per side of the network's tiles (each read with the network's margin of 8 pixels beyond it); larger tiles waste less on margins and take more memory (tiles-per-inference x 3 x (size + 16)^2 floats in, four times that out). 0: 128 on the CPU and the WebGPU provider; on CUDA and TensorRT the frame whole up to 1920 pixels a side (a 1080p frame in one inference: on an H100 its network took 24.5 ms, against 40 ms in tiles of 128). Default: 0")
                    .maximum(4096)
                    .default_value(0)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("batch-group")
                    .nick("Batch group")
                    .blurb("Name shared by upscalers of this process that run one network session: it is loaded once and the streams take turns on it. Upscalers that name it with another model or provider get their own. Empty: a session of its own on the CPU; on a GPU the ungrouped upscalers of a process share 8 sessions (MEDIAAI_GPU_SESSIONS sets how many, 0 one each)")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("model-location")
                    .nick("Model location")
                    .blurb("A 2x super-resolution ONNX model (input [N, 3, H, W] RGB 0-1, output [N, 3, 2H, 2W]; or one taking whole I420 frames as waifu2x-photo-x2-fp16-i420.onnx does, for I420 at scale=2); unset: waifu2x-photo-x2.onnx from `make models` (on CUDA, its whole-frame copy for I420 up to 1920 a side)")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("execution-provider", ExecutionProvider::Auto)
                    .nick("Execution provider")
                    .blurb("Where ONNX Runtime runs the network: auto takes CUDA where the ONNX Runtime in use has it (make gpu-runtime) and it starts, else the WebGPU execution provider on a hardware GPU, else the CPU; an unavailable provider asked for (webgpu, cuda, ...) falls back to the CPU with a warning. What ran is in the mediaai-inference element message. Default: auto")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("sharpness")
                    .nick("Sharpness")
                    .blurb("Contrast-adaptive sharpening of the spatial path, 0 (off) to 1 (strongest). Default: 0.2")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_SHARPNESS)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("backend", Backend::Auto)
                    .nick("Backend")
                    .blurb("Where the spatial path runs: auto (a hardware GPU when there is one, else the CPU), gpu (any adapter, software ones included), cpu; the results are the same within rounding. Default: auto")
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings.lock().expect("settings lock");
        match pspec.name() {
            "scale" => s.scale = value.get().expect("type checked upstream"),
            "method" => s.method = value.get().expect("type checked upstream"),
            "batch-size" => s.batch_size = value.get().expect("type checked upstream"),
            "tiles-per-inference" => {
                s.tiles_per_inference = value.get().expect("type checked upstream")
            }
            "tile-size" => s.tile_size = value.get().expect("type checked upstream"),
            "backend" => s.backend = value.get().expect("type checked upstream"),
            "model-location" => s.model_location = value.get().expect("type checked upstream"),
            "execution-provider" => {
                s.execution_provider = value.get().expect("type checked upstream")
            }
            "sharpness" => s.sharpness = value.get().expect("type checked upstream"),
            "batch-group" => s.batch_group = value.get().expect("type checked upstream"),
            other => unreachable!("unknown property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings.lock().expect("settings lock");
        match pspec.name() {
            "scale" => s.scale.to_value(),
            "method" => s.method.to_value(),
            "batch-size" => s.batch_size.to_value(),
            "tiles-per-inference" => s.tiles_per_inference.to_value(),
            "tile-size" => s.tile_size.to_value(),
            "backend" => s.backend.to_value(),
            "model-location" => s.model_location.to_value(),
            "execution-provider" => s.execution_provider.to_value(),
            "sharpness" => s.sharpness.to_value(),
            "batch-group" => s.batch_group.to_value(),
            other => unreachable!("unknown property {other}"),
        }
    }
}

impl GstObjectImpl for Upscale {}

impl ElementImpl for Upscale {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            mediaai_common::element_metadata(
                "Super-resolution",
                "Filter/Effect/Video/Scaler",
                "Upscales video by 2 or 4 with a neural network (ONNX Runtime) or a spatial upscaler",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        // The same formats in and out, on the GPU or in system memory, and 10-bit 4:2:0 out of
        // I420 in system memory; the sizes are scaled by transform_caps.
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let sink = gpumemory::gpu_and_system(&templates::video(&FORMATS));
            let mut src = sink.clone();
            src.merge(templates::video(&TEN_BIT));
            templates::src_and_sink(&src, &sink)
        });
        TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        match transition {
            gst::StateChange::ReadyToPaused => {
                self.prime_for_upstream();
                *self.running.lock().expect("running lock") = true;
            }
            gst::StateChange::PausedToReady => {
                // The source pad is deactivated first, and that waits for its stream lock,
                // which the worker task holds while it waits for a batch: the task is stopped
                // before, and no caps may start another (`set_caps` holds this lock
                // throughout). Until `stop` the streaming thread gets FLUSHING.
                let mut running = self.running.lock().expect("running lock");
                *running = false;
                self.shared.flushing.store(true, Ordering::SeqCst);
                let state = self.state.lock().expect("state lock").take();
                if let Some(state) = state {
                    self.retire(state);
                }
            }
            _ => {}
        }
        self.parent_change_state(transition)
    }
}

/// `v` scaled up (`up`) or down by `scale`, for a width or height field that is a number or
/// a range; `None` when down-scaling a number that does not divide.
fn scale_dimension(v: &glib::SendValue, scale: i32, up: bool) -> Option<glib::SendValue> {
    let map = |x: i32| -> Option<i32> {
        if up {
            x.checked_mul(scale)
        } else {
            (x % scale == 0).then_some(x / scale)
        }
    };
    if let Ok(x) = v.get::<i32>() {
        return map(x).map(|x| x.to_send_value());
    }
    if let Ok(r) = v.get::<gst::IntRange<i32>>() {
        // Sizes whose scaled value does not fit are left out; a range that narrows to one
        // size becomes that size (a range must have two ends).
        let (lo, hi) = if up {
            (r.min().checked_mul(scale)?, r.max().saturating_mul(scale))
        } else {
            let ceil = (r.min().max(1) as i64 + scale as i64 - 1) / scale as i64;
            (ceil as i32, r.max() / scale)
        };
        let lo = lo.max(1);
        return match lo.cmp(&hi) {
            std::cmp::Ordering::Less => Some(gst::IntRange::new(lo, hi).to_send_value()),
            std::cmp::Ordering::Equal => Some(lo.to_send_value()),
            std::cmp::Ordering::Greater => None,
        };
    }
    None
}

impl BaseTransformImpl for Upscale {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::NeverInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        // The worker was stopped and its state retired before the pads were deactivated
        // (`change_state`); what is left is to be ready for the next start.
        self.shared.flushing.store(false, Ordering::SeqCst);
        self.shared.flow.lock().expect("flow lock").take();
        Ok(())
    }

    fn transform_caps(
        &self,
        direction: gst::PadDirection,
        caps: &gst::Caps,
        filter: Option<&gst::Caps>,
    ) -> Option<gst::Caps> {
        let (scale, gpu_frames) = {
            let s = self.settings.lock().expect("settings lock");
            // Frames leave on the GPU only from the spatial path's GPU side (the network writes
            // its frames on the CPU).
            (
                s.scale as i32,
                s.method == Method::Spatial
                    && mediaai_common::gpu::Backend::from(s.backend).gpu_frames_possible(),
            )
        };
        let up = direction == gst::PadDirection::Sink;
        let mut out = gst::Caps::new_empty();
        let mut extra = gst::Caps::new_empty();
        for s in caps.iter() {
            let mut s = s.to_owned();
            let mut ok = true;
            for field in ["width", "height"] {
                match s.value(field).ok().map(|v| scale_dimension(v, scale, up)) {
                    Some(Some(v)) => s.set_value(field, v),
                    Some(None) => ok = false,
                    None => {}
                }
            }
            if !ok {
                continue;
            }
            // I420 in may leave as 10-bit (after the same formats, so only when downstream
            // asks); 10-bit out comes from I420 in.
            let i420 = gst_video::VideoFormat::I420.to_str();
            let ten: Vec<&str> = TEN_BIT.iter().map(|f| f.to_str().as_str()).collect();
            let formats = formats_of(&s);
            let other = match formats.as_deref() {
                Some(f) if up && f.iter().any(|f| f == i420.as_str()) => Some(ten.clone()),
                Some(f) if !up && f.iter().any(|f| ten.contains(&f.as_str())) => {
                    Some(vec![i420.as_str()])
                }
                _ => None,
            };
            if let Some(formats) = formats.filter(|_| !up) {
                // Only the formats that go through unchanged.
                let same: Vec<&str> = formats
                    .iter()
                    .map(String::as_str)
                    .filter(|f| !ten.contains(f))
                    .collect();
                if !same.is_empty() {
                    let mut s8 = s.clone();
                    s8.set("format", gst::List::new(same));
                    out.make_mut().append_structure(s8);
                }
            } else {
                out.make_mut().append_structure(s.clone());
            }
            if let Some(formats) = other {
                let mut st = s;
                st.set("format", gst::List::new(formats));
                extra.make_mut().append_structure(st);
            }
        }
        // Frames come in from either memory (GPU frames are copied on the GPU, or read on
        // map by the CPU paths).
        let mut out = if !up || gpu_frames {
            gpumemory::gpu_and_system(&out)
        } else {
            gpumemory::in_memory(&out, false)
        };
        out.merge(gpumemory::in_memory(&extra, false));
        Some(mediaai_common::templates::filtered(out, filter))
    }

    mediaai_common::fixate_gpu_first!();

    fn unit_size(&self, caps: &gst::Caps) -> Option<usize> {
        gst_video::VideoInfo::from_caps(caps).ok().map(|i| i.size())
    }

    fn set_caps(&self, incaps: &gst::Caps, outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let in_info = gst_video::VideoInfo::from_caps(incaps)
            .map_err(|_| gst::loggable_error!(CAT, "invalid input caps {incaps}"))?;
        let out_info = gst_video::VideoInfo::from_caps(outcaps)
            .map_err(|_| gst::loggable_error!(CAT, "invalid output caps {outcaps}"))?;
        let (w, h) = (in_info.width() as usize, in_info.height() as usize);
        if w == 0 || h == 0 {
            gst::element_imp_error!(self, gst::StreamError::Format, ["zero-sized frames"]);
            return Err(gst::loggable_error!(CAT, "zero-sized frames"));
        }
        let s = self.settings.lock().expect("settings lock").clone();
        let live_upstream = live::upstream_live_latency(self.obj().sink_pad());
        let running = self.running.lock().expect("running lock");
        // The frames of the caps before went out before this caps event (sink_event); the
        // network is kept for these if it is the same.
        if let Some(old) = self.state.lock().expect("state lock").take() {
            self.retire(old);
        }
        if !*running {
            // Going down to READY: buffers get FLUSHING, and no task is started.
            return Ok(());
        }
        let scale = s.scale as usize;
        let ten_bit = sampler::ten_bit_420(out_info.format())
            && in_info.format() == gst_video::VideoFormat::I420;
        if (out_info.width() as usize, out_info.height() as usize) != (w * scale, h * scale)
            || (out_info.format() != in_info.format() && !ten_bit)
        {
            return Err(gst::loggable_error!(
                CAT,
                "output caps {outcaps} are not {scale}x {incaps}"
            ));
        }
        let batch = s.batch_size.max(1) as usize;
        let matrix = YuvMatrix::from_colorimetry(&in_info.colorimetry());
        // The GPU's spatial path writes 8-bit frames; 10-bit ones are written on the CPU.
        let (mut engine, network) = self
            .engine(&s, &in_info, batch, out_info.format())
            .map_err(|e| {
                gst::element_imp_error!(self, gst::ResourceError::OpenRead, ["{e}"]);
                gst::loggable_error!(CAT, "{e}")
            })?;
        // A network that takes whole frames copies their planes itself (the worker).
        let frames_bits = match &engine {
            Upscaler::Neural(n) => n.frames_bits(),
            _ => None,
        };
        let frames_net = frames_bits.is_some();
        let out_bits = if ten_bit { 10 } else { 8 };
        if frames_net
            && (in_info.format() != gst_video::VideoFormat::I420
                || out_info.format() == gst_video::VideoFormat::P01010le
                || frames_bits != Some(out_bits)
                || scale != 2
                || w % 2 == 1
                || h % 2 == 1)
        {
            let e = format!(
                "the model takes whole I420 frames and upscales them by 2 (even width and height) into {}: it cannot take {incaps} to {outcaps}; use it so, or unset model-location",
                if frames_bits == Some(10) { "I420_10LE" } else { "I420" }
            );
            gst::element_imp_error!(self, gst::StreamError::Format, ["{e}"]);
            return Err(gst::loggable_error!(CAT, "{e}"));
        }
        // The network's first runs, before a frame waits for them; and its steady time per
        // batch, which the latency answered covers.
        let mut warmed = None;
        let steady = match &mut engine {
            Upscaler::Neural(n) => {
                let (steady, first) = n.prime(batch, w, h, scale, matrix).map_err(|e| {
                    gst::element_imp_error!(self, gst::LibraryError::Failed, ["{e}"]);
                    gst::loggable_error!(CAT, "{e}")
                })?;
                gst::info!(
                    CAT,
                    imp = self,
                    "network ready for {w}x{h}: first run {first:?} (none: primed going to PAUSED), a batch of {batch} takes {steady:?}"
                );
                let shape = format!("{batch}x3x{h}x{w}");
                warmed = first.map(|first| (shape, first, steady));
                steady
            }
            _ => std::time::Duration::ZERO,
        };
        let sampler = TensorSampler::new(w as u32, h as u32, w as u32, h as u32, matrix)
            .with_gain(1.0 / 255.0);
        let convert = !matches!(engine, Upscaler::Gpu(_)) && !frames_net;
        // In a live pipeline a network that falls behind sheds late frames to the spatial
        // path on the CPU (EASU + CAS from the same planar RGB: made now, not when late).
        let neural = matches!(engine, Upscaler::Neural(_));
        let fallback = neural.then(|| Spatial::new(w, h, s.scale as usize, s.sharpness as f32));
        let in_len = 3 * w * h;
        let out_len = in_len * scale * scale;
        // The spatial path takes frames one by one whatever batch-size says: on the CPU
        // batches buy nothing but latency, and on the GPU (an H100) batches of 8 and 16 frames
        // per submission measured 5-50% slower than single frames, whose upload, work and
        // readback overlap the streaming thread's next frame.
        let batch = if matches!(engine, Upscaler::Spatial(_) | Upscaler::Gpu(_)) {
            1
        } else {
            batch
        };
        // Made for the batch the engine takes, not the one asked for.
        let out_gpu = gpumemory::caps_on_gpu(outcaps);
        // At least enough for two batches; GPU frames when the output caps say so.
        let pool =
            gpumemory::started_pool(outcaps, out_info.size(), 2 * batch as u32).map_err(|e| {
                gst::element_imp_error!(self, gst::ResourceError::NoSpaceLeft, ["{e}"]);
                gst::loggable_error!(CAT, "{e}")
            })?;
        let frame = held::frames_duration(&in_info, 1);
        let work = Work {
            engine,
            network,
            in_info: in_info.clone(),
            out_info,
            scale,
            sharpness: s.sharpness as f32,
            matrix,
            sampler: sampler.clone(),
            scratch: Vec::new(),
            // The GPU hands over frame bytes, the CPU engines planar RGB (a whole-frame
            // network frames, and planar RGB only for a batch shed to the spatial path).
            outputs: (0..match (convert, frames_net) {
                (true, _) => batch,
                (false, true) => 1,
                (false, false) => 0,
            })
                .map(|_| vec![0.0; out_len])
                .collect(),
            ready: Vec::with_capacity(batch),
            pool,
            out_gpu,
            fallback,
            slack: (neural && live_upstream.is_some()).then_some(frame),
            slow_said: false,
        };
        let new_batch = || Batch {
            buffers: Vec::with_capacity(batch),
            inputs: (0..if convert { batch } else { 0 })
                .map(|_| vec![0.0; in_len])
                .collect(),
            converted: std::time::Duration::ZERO,
            shed: false,
            due: None,
        };
        // A frame waits for the rest of its batch, then for its batch's work: the batch's
        // duration while the element keeps up, and at most a frame and the network's steady
        // run in a live pipeline: the worker sheds a batch whose last frame is more than a
        // frame late when it takes it (a network slower than the stream: the batch before it
        // ran long), and the streaming thread one whose frame comes later than the latency
        // less a run. Shed batches take the spatial path.
        let filling = held::frames_duration(&in_info, batch as u64 - 1);
        let steady = gst::ClockTime::from_nseconds(steady.as_nanos() as u64);
        let latency = filling + held::frames_duration(&in_info, batch as u64).max(frame + steady);
        let shedder = neural.then(|| {
            Shedder::new(std::time::Duration::from_nanos(
                latency.saturating_sub(steady).max(frame).nseconds(),
            ))
        });
        let worker = self.spawn(work).map_err(|e| {
            gst::element_imp_error!(self, gst::CoreError::Thread, ["{e}"]);
            gst::loggable_error!(CAT, "{e}")
        })?;
        let state = State {
            sampler,
            convert,
            in_info,
            batch,
            filling: Some(new_batch()),
            spare: Some(new_batch()),
            worker,
            live_upstream,
            shedder,
        };
        let changed =
            std::mem::replace(&mut *self.latency.lock().expect("latency lock"), latency) != latency;
        *self.state.lock().expect("state lock") = Some(state);
        drop(running);
        if let Some((shape, first, steady)) = warmed {
            let obj = self.obj();
            let message = live::warm_up_message(obj.upcast_ref(), &shape, first, steady, "caps");
            let _ = obj.post_message(message);
        }
        if changed {
            // The pipeline asks again (the network measured, or new caps).
            let obj = self.obj();
            let _ = obj.post_message(gst::message::Latency::builder().src(&*obj).build());
        }
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        match event.view() {
            gst::EventView::FlushStart(_) => {
                self.shared.flushing.store(true, Ordering::SeqCst);
            }
            gst::EventView::FlushStop(_) => self.flush(),
            // Every other serialized event (EOS, caps, segment, gap, tags ...) goes downstream
            // after the frames that came before it.
            _ if event.is_serialized() => {
                if let Err(e) = self.drain() {
                    gst::debug!(CAT, imp = self, "draining before {event:?}: {e:?}");
                }
            }
            _ => {}
        }
        self.parent_sink_event(event)
    }

    fn query(&self, direction: gst::PadDirection, query: &mut gst::QueryRef) -> bool {
        let parent = |q: &mut gst::QueryRef| BaseTransformImplExt::parent_query(self, direction, q);
        held::query(direction, query, parent, || self.latency())
    }

    fn submit_input_buffer(
        &self,
        _is_discont: bool,
        inbuf: gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        if self.shared.flushing.load(Ordering::SeqCst) {
            return Err(gst::FlowError::Flushing);
        }
        if let Some(e) = *self.shared.flow.lock().expect("flow lock") {
            return Err(e);
        }
        let mut guard = self.state.lock().expect("state lock");
        let state = guard.as_mut().ok_or_else(|| {
            gst::element_imp_error!(self, gst::CoreError::Negotiation, ["buffer before caps"]);
            gst::FlowError::NotNegotiated
        })?;
        let batch = state.filling.as_mut().ok_or(gst::FlowError::Flushing)?;
        let slot = batch.buffers.len();
        if state.convert {
            let too_small = || frames::too_small(self.obj().upcast_ref());
            let frame =
                gst_video::VideoFrameRef::from_buffer_ref_readable(inbuf.as_ref(), &state.in_info)
                    .map_err(|_| too_small())?;
            let source = PixelSource::from_frame(&frame).ok_or_else(too_small)?;
            let started = std::time::Instant::now();
            if !state.sampler.fill(&source, &mut batch.inputs[slot]) {
                return Err(too_small());
            }
            batch.converted += started.elapsed();
        }
        let message = self.judge_lateness(state, &inbuf);
        let due = state
            .live_upstream
            .and_then(|upstream| live::due(&self.obj().segment(), inbuf.pts(), upstream));
        let batch = state.filling.as_mut().ok_or(gst::FlowError::Flushing)?;
        batch.due = due;
        batch.buffers.push(inbuf);
        let full = batch.buffers.len() == state.batch;
        if full {
            self.send(state)?;
        }
        drop(guard);
        if let Some(m) = message {
            let _ = self.obj().post_message(m);
        }
        Ok(gst::FlowSuccess::Ok)
    }

    fn generate_output(
        &self,
    ) -> Result<gst_base::subclass::base_transform::GenerateOutputSuccess, gst::FlowError> {
        // The worker pushes every frame.
        Ok(gst_base::subclass::base_transform::GenerateOutputSuccess::NoOutput)
    }
}

impl Upscale {
    /// The engine the settings ask for, with the network's identity when it is one.
    fn engine(
        &self,
        s: &Settings,
        info: &gst_video::VideoInfo,
        batch: usize,
        out_format: gst_video::VideoFormat,
    ) -> Result<(Upscaler, Option<Network>), String> {
        let eight_bit_out = !sampler::ten_bit_420(out_format);
        let (w, h) = (info.width() as usize, info.height() as usize);
        let scale = s.scale as usize;
        let spatial = || -> Result<Upscaler, String> {
            let backend = match eight_bit_out {
                true => s.backend.into(),
                false => mediaai_common::gpu::Backend::Cpu,
            };
            let gpu = backend.open(
                || {
                    let matrix = YuvMatrix::from_colorimetry(&info.colorimetry());
                    GpuSpatial::new(w, h, scale, s.sharpness as f32, 1, info.format(), matrix)
                },
                |e| gst::warning!(CAT, imp = self, "no GPU ({e}): upscaling on the CPU"),
            )?;
            Ok(match gpu {
                Some(g) => Upscaler::Gpu(g),
                None => Upscaler::Spatial(Spatial::new(w, h, scale, s.sharpness as f32)),
            })
        };
        if s.method == Method::Spatial {
            return Ok((spatial()?, None));
        }
        match self.load(s, info, batch, out_format) {
            Ok((n, network)) => Ok((Upscaler::Neural(Box::new(n)), Some(network))),
            Err(e) if s.method == Method::Neural => Err(e),
            Err(e) => {
                gst::element_imp_warning!(
                    self,
                    gst::ResourceError::OpenRead,
                    ["no network ({e}); upscaling with the spatial method"]
                );
                Ok((spatial()?, None))
            }
        }
    }

    /// The network for `info`'s frames: on CUDA (and TensorRT), I420 frames leaving as I420 or
    /// I420_10LE (`out_format`) that fit one tile go through the default network's copy that
    /// takes whole frames (`FRAMES_MODEL`, `FRAMES_MODEL_10`: the conversions, margin and
    /// chroma on the device, the frame's planes copied in and out); else the network over
    /// tiles of planar RGB.
    fn load(
        &self,
        s: &Settings,
        info: &gst_video::VideoInfo,
        batch: usize,
        out_format: gst_video::VideoFormat,
    ) -> Result<(Neural, Network), String> {
        use inference::ExecutionProvider as Ep;
        let (w, h) = (info.width() as usize, info.height() as usize);
        let base = inference::locate_model(s.model_location.as_deref(), DEFAULT_MODEL)?;
        let frames_model = match out_format {
            gst_video::VideoFormat::I420 => Some(FRAMES_MODEL),
            gst_video::VideoFormat::I42010le => Some(FRAMES_MODEL_10),
            _ => None,
        };
        let frames_path = frames_model
            .filter(|_| {
                s.model_location.is_none()
                    && s.scale == Scale::X2
                    && info.format() == gst_video::VideoFormat::I420
                    && w % 2 == 0
                    && h % 2 == 0
                    && tiling(s, Ep::Cuda).0 >= w.max(h)
                    && inference::nvidia_provider_offered(s.execution_provider.into())
            })
            .map(|name| base.with_file_name(name))
            .filter(|p| p.is_file());
        // A session on another provider (CUDA offered but unusable here) is dropped for the
        // tiled network, which runs anywhere.
        let on_nvidia = |m: &inference::SharedModel| {
            let provider = m.lock().expect("session lock is never poisoned").provider;
            matches!(provider, Ep::Cuda | Ep::TensorRt)
        };
        let frames = match frames_path {
            Some(path) => match self.session(s, &path, false) {
                Ok(got) if on_nvidia(&got.model) => Some((path, got)),
                Ok(_) => None,
                Err(e) => {
                    gst::debug!(CAT, imp = self, "whole-frame network not loaded: {e}");
                    None
                }
            },
            None => None,
        };
        let (path, got) = match frames {
            Some(chosen) => chosen,
            // The default network runs in half precision on a GPU (7.5 -> 11 fps on the H200
            // at 720x576, within a level); a model the user names runs as it is.
            None => {
                let half = s.model_location.is_none();
                let got = self.session(s, &base, half)?;
                (base, got)
            }
        };
        let Session {
            model,
            on_cpu,
            primed,
            kept,
        } = got;
        // A session kept for a path not taken is let go.
        self.loaded.lock().expect("loaded lock").take();
        // A kept session was announced when it was loaded.
        if !kept {
            let loaded = model.lock().expect("session lock is never poisoned");
            if let Some(warning) = &loaded.fallback_warning {
                gst::element_imp_warning!(self, gst::LibraryError::Init, ["{warning}"]);
            }
            let requested = s.execution_provider.into();
            loaded.announce(self.obj().upcast_ref(), *CAT, requested);
        }
        let provider = model
            .lock()
            .expect("session lock is never poisoned")
            .provider;
        let (tile, per_inference) = tiling(s, provider);
        let neural = Neural::new(
            model,
            MODEL_MARGIN,
            tile,
            per_inference,
            batch,
            w,
            h,
            s.scale as usize,
        )
        .with_primed(primed);
        let group = s.batch_group.clone();
        Ok((neural, (path, s.execution_provider, group, on_cpu)))
    }

    /// The session of the network at `path`: the one kept from the caps before when it is the
    /// same (with what it was primed for; another kept one is left in place), else a new one
    /// (`half_on_gpu`: its half-precision copy on a GPU), shared as `load_shared` shares them.
    fn session(
        &self,
        s: &Settings,
        path: &std::path::Path,
        half_on_gpu: bool,
    ) -> Result<Session, String> {
        // Taken only when it is this one: another stays for the next path `load` tries.
        let kept = {
            let mut loaded = self.loaded.lock().expect("loaded lock");
            let same = |l: &Loaded| {
                l.path == path && l.provider == s.execution_provider && l.group == s.batch_group
            };
            loaded.take_if(|l| same(l))
        };
        if let Some(l) = kept {
            return Ok(Session {
                model: l.model,
                on_cpu: l.on_cpu,
                primed: l.primed,
                kept: true,
            });
        }
        let (model, _) = inference::load_shared(
            s.batch_group.as_deref(),
            path,
            s.execution_provider.into(),
            0,
            half_on_gpu,
        )?;
        let on_cpu = model
            .lock()
            .expect("session lock is never poisoned")
            .on_cpu();
        Ok(Session {
            model,
            on_cpu,
            primed: None,
            kept: false,
        })
    }

    /// What frames of `input` will most likely leave as, before the caps are negotiated: as
    /// they came, but I420 as I420_10LE or P010_10LE where downstream takes only those (a
    /// capsfilter asking for 10 bits), as negotiation will then choose.
    fn likely_output(&self, input: gst_video::VideoFormat) -> gst_video::VideoFormat {
        use gst_video::VideoFormat as F;
        if input != F::I420 {
            return input;
        }
        let caps = self.obj().src_pad().peer_query_caps(None);
        let takes = |f: F| {
            caps.is_any()
                || caps.iter().any(|s| {
                    formats_of(s).is_none_or(|l| l.iter().any(|x| x.as_str() == f.to_str()))
                })
        };
        [F::I420, F::I42010le, F::P01010le]
            .into_iter()
            .find(|&f| takes(f))
            .unwrap_or(F::I420)
    }

    /// Going to PAUSED, when upstream's caps say the frames already (a live source behind a
    /// capsfilter, as a camera is), the network is loaded and primed at their shape now, so
    /// that a live pipeline's first frame, which comes in PLAYING with the caps, does not wait
    /// for a GPU provider's first runs (seconds on CUDA). Without such caps, or on a failure
    /// (reported when the caps come), the caps prime it.
    fn prime_for_upstream(&self) {
        let s = self.settings.lock().expect("settings lock").clone();
        if s.method == Method::Spatial {
            return;
        }
        let caps = self.obj().sink_pad().peer_query_caps(None);
        gst::debug!(CAT, imp = self, "upstream caps going to PAUSED: {caps}");
        let Some(info) = caps
            .is_fixed()
            .then(|| gst_video::VideoInfo::from_caps(&caps).ok())
            .flatten()
        else {
            return;
        };
        let (w, h) = (info.width() as usize, info.height() as usize);
        let batch = s.batch_size.max(1) as usize;
        if w == 0 || h == 0 {
            return;
        }
        let started = std::time::Instant::now();
        let matrix = YuvMatrix::from_colorimetry(&info.colorimetry());
        let out_format = self.likely_output(info.format());
        let primed = self
            .load(&s, &info, batch, out_format)
            .and_then(|(mut n, network)| {
                Ok((n.prime(batch, w, h, s.scale as usize, matrix)?, n, network))
            });
        match primed {
            Ok(((steady, first), n, network)) => {
                gst::info!(
                    CAT,
                    imp = self,
                    "network primed for {w}x{h} going to PAUSED in {:?}: a batch of {batch} takes {steady:?}",
                    started.elapsed()
                );
                let obj = self.obj();
                let shape = format!("{batch}x3x{h}x{w}");
                let first = first.unwrap_or_default();
                let message =
                    live::warm_up_message(obj.upcast_ref(), &shape, first, steady, "start");
                let _ = obj.post_message(message);
                self.keep(n, network);
            }
            Err(e) => gst::debug!(CAT, imp = self, "not primed going to PAUSED: {e}"),
        }
    }

    /// In a live pipeline with the network upscaling, whether `inbuf` came later than the
    /// latency answered: then the batch it joins is shed to the spatial path (its `shed`).
    /// Returns the `mediaai-overload` message to post when shedding starts or ends.
    fn judge_lateness(&self, state: &mut State, inbuf: &gst::Buffer) -> Option<gst::Message> {
        let upstream = state.live_upstream?;
        let shedder = state.shedder.as_mut()?;
        let obj = self.obj();
        // A batch the worker shed counts as shed here (and may start an episode).
        let by_worker = self
            .shared
            .take_shed_by_worker()
            .and_then(|late| shedder.record_shed(obj.upcast_ref(), late, SHEDDING));
        let (shed, message) = shedder.judge_frame(
            obj.upcast_ref(),
            &obj.segment(),
            inbuf.pts(),
            upstream,
            true,
            SHEDDING,
        );
        if shed {
            if let Some(b) = state.filling.as_mut() {
                b.shed = true;
            }
        }
        let m = by_worker.or(message)?;
        gst::info!(CAT, imp = self, "{:?}", m.structure());
        Some(m)
    }

    /// Hands the filled batch to the worker and takes the other one to fill, waiting for the
    /// worker to give it back when it still has it (backpressure: one batch upscaling, one
    /// filling).
    fn send(&self, state: &mut State) -> Result<(), gst::FlowError> {
        let Some(batch) = state.filling.take() else {
            return Ok(());
        };
        let sent = state.worker.jobs.as_ref().map(|j| j.send(batch));
        if !matches!(sent, Some(Ok(()))) {
            gst::element_imp_error!(self, gst::CoreError::Thread, ["the worker task stopped"]);
            return Err(gst::FlowError::Error);
        }
        state.worker.out += 1;
        let next = match state.spare.take() {
            Some(b) => b,
            None => self.take_back(state)?,
        };
        state.filling = Some(next);
        Ok(())
    }

    /// Waits for the worker to give a batch back.
    fn take_back(&self, state: &mut State) -> Result<Batch, gst::FlowError> {
        match state.worker.done.recv() {
            Ok(b) => {
                state.worker.out -= 1;
                Ok(b)
            }
            Err(_) => {
                gst::element_imp_error!(self, gst::CoreError::Thread, ["the worker task stopped"]);
                Err(gst::FlowError::Error)
            }
        }
    }

    /// Sends a partial batch and waits until the worker has pushed everything.
    fn drain(&self) -> Result<(), gst::FlowError> {
        let mut guard = self.state.lock().expect("state lock");
        let Some(state) = guard.as_mut() else {
            return Ok(());
        };
        if state
            .filling
            .as_ref()
            .is_some_and(|b| !b.buffers.is_empty())
        {
            self.send(state)?;
        }
        while state.worker.out > 0 {
            let b = self.take_back(state)?;
            state.spare = Some(b);
        }
        match *self.shared.flow.lock().expect("flow lock") {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// FLUSH_STOP: what was held is dropped (the worker drops what it had while flushing).
    fn flush(&self) {
        if let Some(state) = self.state.lock().expect("state lock").as_mut() {
            while state.worker.out > 0 {
                match self.take_back(state) {
                    Ok(b) => state.spare = Some(b),
                    Err(_) => break,
                }
            }
            if let Some(b) = state.filling.as_mut() {
                b.buffers.clear();
            }
        }
        self.shared.flow.lock().expect("flow lock").take();
        self.shared.flushing.store(false, Ordering::SeqCst);
    }

    /// Stops the worker of `state` without pushing what it holds, keeping the network for the
    /// next caps.
    fn retire(&self, mut state: State) {
        let Some(work) = state.worker.join() else {
            gst::warning!(CAT, imp = self, "the worker task did not stop");
            return;
        };
        if let (Upscaler::Neural(n), Some(network)) = (work.engine, work.network) {
            self.keep(*n, network);
        }
    }

    /// Keeps `n`'s session (and what it was primed for) for the next caps.
    fn keep(&self, n: Neural, (path, provider, group, on_cpu): Network) {
        *self.loaded.lock().expect("loaded lock") = Some(Loaded {
            path,
            provider,
            group,
            on_cpu,
            primed: n.primed(),
            model: n.into_model(),
        });
    }

    /// How much later than it came in a frame leaves: the rest of its batch coming in, then
    /// its batch upscaled, which takes no longer than the batch lasts while the element keeps
    /// up with the stream.
    fn latency(&self) -> gst::ClockTime {
        *self.latency.lock().expect("latency lock")
    }
}
