/**
 * element-upscale:
 *
 * Super-resolution by 2 or 4 (`scale`). The neural path runs a 2x network through ONNX
 * Runtime (waifu2x's photo model by default; 4x runs it twice) over tiles of the frame, each
 * read with a margin so that the tiles join without seams, `batch-size` tiles per inference;
 * the spatial path (`method=spatial`, and `auto` when no model can be loaded) interpolates
 * bicubically and sharpens with contrast-adaptive sharpening. Packed 8-bit RGB and I420 in
 * and out (I420 through RGB: all three planes go through the network). Buffers keep their
 * timestamps and order; tensors and frame buffers are made once per caps.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=sd.mp4 ! decodebin ! videoconvert ! upscale scale=2 ! videoconvert ! autovideosink
 * ]|
 */
use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::prelude::*;

use super::{ExecutionProvider, Method, Scale};
use crate::neural::Neural;
use crate::spatial::Spatial;
use mediaai_common::inference;
use mediaai_common::sampler::{PackedLayout, PixelSource, TensorSampler, YuvMatrix};

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
/// The default network: waifu2x's upconv_7 photo model, 2x (see models/models.toml).
const DEFAULT_MODEL: &str = "waifu2x-photo-x2.onnx";
/// Input pixels the default network reads around each pixel it makes (its unpadded
/// convolutions lose 7 at each side); tiles read this much beyond their sides.
const MODEL_MARGIN: usize = 8;
const DEFAULT_BATCH: u32 = 8;
const DEFAULT_SHARPNESS: f64 = 0.2;

#[derive(Debug, Clone)]
struct Settings {
    scale: Scale,
    method: Method,
    batch_size: u32,
    model_location: Option<String>,
    execution_provider: ExecutionProvider,
    sharpness: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            scale: Scale::X2,
            method: Method::Auto,
            batch_size: DEFAULT_BATCH,
            model_location: None,
            execution_provider: ExecutionProvider::Cpu,
            sharpness: DEFAULT_SHARPNESS,
        }
    }
}

enum Engine {
    Neural(Box<Neural>),
    Spatial(Spatial),
}

struct State {
    in_info: gst_video::VideoInfo,
    out_info: gst_video::VideoInfo,
    scale: usize,
    sampler: TensorSampler,
    matrix: YuvMatrix,
    /// The input frame as planar RGB 0..1, and the upscaled one.
    input: Vec<f32>,
    output: Vec<f32>,
    engine: Engine,
    /// The network's file and provider (neural engine).
    network: Option<(std::path::PathBuf, ExecutionProvider)>,
}

/// A loaded network kept between caps and state changes: the model file and provider it was
/// made for, and the session (loading one takes longer than many frames).
type Loaded = (std::path::PathBuf, ExecutionProvider, ort::session::Session);

#[derive(Default)]
pub struct Upscale {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
    loaded: Mutex<Option<Loaded>>,
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
                    .blurb("auto: the network when its model loads, else spatial (with a warning); neural: the network (an error without it); spatial: bicubic and contrast-adaptive sharpening. Default: auto")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("batch-size")
                    .nick("Batch size")
                    .blurb("Tiles of 128x128 input pixels the network sees in one inference (more suit GPUs). Default: 8")
                    .minimum(1)
                    .maximum(256)
                    .default_value(DEFAULT_BATCH)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("model-location")
                    .nick("Model location")
                    .blurb("A 2x super-resolution ONNX model (input [N, 3, H, W] RGB 0-1, output [N, 3, 2H, 2W]); unset: waifu2x-photo-x2.onnx from `make models`")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("execution-provider", ExecutionProvider::Cpu)
                    .nick("Execution provider")
                    .blurb("Where ONNX Runtime runs the network (cuda, tensorrt, ...); the CPU with a warning when the provider is missing. Default: cpu")
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
            "model-location" => s.model_location = value.get().expect("type checked upstream"),
            "execution-provider" => {
                s.execution_provider = value.get().expect("type checked upstream")
            }
            "sharpness" => s.sharpness = value.get().expect("type checked upstream"),
            other => unreachable!("unknown property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings.lock().expect("settings lock");
        match pspec.name() {
            "scale" => s.scale.to_value(),
            "method" => s.method.to_value(),
            "batch-size" => s.batch_size.to_value(),
            "model-location" => s.model_location.to_value(),
            "execution-provider" => s.execution_provider.to_value(),
            "sharpness" => s.sharpness.to_value(),
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
        // The same formats in and out; the sizes are scaled by transform_caps.
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> =
            LazyLock::new(|| mediaai_common::templates::in_place_video(&FORMATS));
        TEMPLATES.as_ref()
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
        let (lo, hi) = if up {
            (r.min().saturating_mul(scale), r.max().saturating_mul(scale))
        } else {
            ((r.min() + scale - 1) / scale, r.max() / scale)
        };
        return (lo <= hi).then(|| gst::IntRange::new(lo.max(1), hi.max(1)).to_send_value());
    }
    None
}

impl BaseTransformImpl for Upscale {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::NeverInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        if let Some(state) = self.state.lock().expect("state lock").take() {
            self.keep(state);
        }
        Ok(())
    }

    fn transform_caps(
        &self,
        direction: gst::PadDirection,
        caps: &gst::Caps,
        filter: Option<&gst::Caps>,
    ) -> Option<gst::Caps> {
        let scale = self.settings.lock().expect("settings lock").scale as i32;
        let up = direction == gst::PadDirection::Sink;
        let mut out = gst::Caps::new_empty();
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
            if ok {
                out.make_mut().append_structure(s);
            }
        }
        Some(match filter {
            Some(f) => f.intersect_with_mode(&out, gst::CapsIntersectMode::First),
            None => out,
        })
    }

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
        // The network of the caps before, kept for these if it is the same.
        if let Some(old) = self.state.lock().expect("state lock").take() {
            self.keep(old);
        }
        let scale = s.scale as usize;
        if (out_info.width() as usize, out_info.height() as usize) != (w * scale, h * scale)
            || out_info.format() != in_info.format()
        {
            return Err(gst::loggable_error!(
                CAT,
                "output caps {outcaps} are not {scale}x {incaps}"
            ));
        }
        let matrix = YuvMatrix::from_colorimetry(&in_info.colorimetry());
        let mut network = None;
        let engine = match s.method {
            Method::Spatial => Engine::Spatial(Spatial::new(w, h, scale, s.sharpness as f32)),
            method => match self.load(&s, w, h) {
                Ok((n, path)) => {
                    network = Some((path, s.execution_provider));
                    Engine::Neural(Box::new(n))
                }
                Err(e) if method == Method::Neural => {
                    gst::element_imp_error!(self, gst::ResourceError::OpenRead, ["{e}"]);
                    return Err(gst::loggable_error!(CAT, "{e}"));
                }
                Err(e) => {
                    gst::element_imp_warning!(
                        self,
                        gst::ResourceError::OpenRead,
                        ["no network ({e}); upscaling with the spatial method"]
                    );
                    Engine::Spatial(Spatial::new(w, h, scale, s.sharpness as f32))
                }
            },
        };
        let state = State {
            sampler: TensorSampler::new(w as u32, h as u32, w as u32, h as u32, matrix)
                .with_gain(1.0 / 255.0),
            matrix,
            input: vec![0.0; 3 * w * h],
            output: vec![0.0; 3 * w * h * scale * scale],
            scale,
            in_info,
            out_info,
            engine,
            network,
        };
        *self.state.lock().expect("state lock") = Some(state);
        Ok(())
    }

    fn transform(
        &self,
        inbuf: &gst::Buffer,
        outbuf: &mut gst::BufferRef,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let mut guard = self.state.lock().expect("state lock");
        let state = guard.as_mut().ok_or_else(|| {
            gst::element_imp_error!(self, gst::CoreError::Negotiation, ["buffer before caps"]);
            gst::FlowError::NotNegotiated
        })?;
        let too_small = || {
            gst::element_imp_error!(
                self,
                gst::StreamError::Format,
                ["buffer too small for its caps"]
            );
            gst::FlowError::Error
        };
        {
            let frame =
                gst_video::VideoFrameRef::from_buffer_ref_readable(inbuf.as_ref(), &state.in_info)
                    .map_err(|_| too_small())?;
            let source = PixelSource::from_frame(&frame).ok_or_else(too_small)?;
            if !state.sampler.fill(&source, &mut state.input) {
                return Err(too_small());
            }
        }
        let (w, h) = (
            state.in_info.width() as usize,
            state.in_info.height() as usize,
        );
        match &mut state.engine {
            Engine::Spatial(sp) => sp.run(&state.input, &mut state.output),
            Engine::Neural(n) => n
                .run(&state.input, w, h, state.scale, &mut state.output)
                .map_err(|e| {
                    gst::element_imp_error!(self, gst::LibraryError::Failed, ["{e}"]);
                    gst::FlowError::Error
                })?,
        }
        let mut frame = gst_video::VideoFrameRef::from_buffer_ref_writable(outbuf, &state.out_info)
            .map_err(|_| too_small())?;
        write_frame(&state.output, &mut frame, state.matrix);
        Ok(gst::FlowSuccess::Ok)
    }
}

impl Upscale {
    /// The neural engine as the settings ask, or why not.
    /// Keeps the network of `state` (if any) for the next caps.
    fn keep(&self, state: State) {
        if let (Engine::Neural(n), Some((path, ep))) = (state.engine, state.network) {
            *self.loaded.lock().expect("loaded lock") = Some((path, ep, n.into_session()));
        }
    }

    fn load(
        &self,
        s: &Settings,
        w: usize,
        h: usize,
    ) -> Result<(Neural, std::path::PathBuf), String> {
        let path = inference::locate_model(s.model_location.as_deref(), DEFAULT_MODEL)?;
        let kept = self.loaded.lock().expect("loaded lock").take();
        let session = match kept {
            Some((p, ep, session)) if p == path && ep == s.execution_provider => session,
            _ => {
                let loaded = inference::load_model(&path, s.execution_provider.into(), 0)?;
                if let Some(warning) = loaded.fallback_warning {
                    gst::element_imp_warning!(self, gst::LibraryError::Init, ["{warning}"]);
                }
                gst::info!(CAT, imp = self, "network {}", path.display());
                loaded.session
            }
        };
        let neural = Neural::new(
            session,
            MODEL_MARGIN,
            crate::neural::TILE,
            s.batch_size as usize,
            w,
            h,
            s.scale as usize,
        );
        Ok((neural, path))
    }
}

/// The planar RGB (0..1) frame `rgb` into `frame` (packed RGB, alpha opaque, or I420 through
/// `matrix`, chroma the mean of each 2x2 block).
fn write_frame(
    rgb: &[f32],
    frame: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    matrix: YuvMatrix,
) {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let plane = w * h;
    let (r, rest) = rgb.split_at(plane);
    let (g, b) = rest.split_at(plane);
    let byte = |v: f32| (v * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
    if let Some(layout) = PackedLayout::of(frame.format_info()) {
        let stride = frame.plane_stride()[0] as usize;
        let Ok(data) = frame.plane_data_mut(0) else {
            return;
        };
        for y in 0..h {
            let row = &mut data[y * stride..][..w * layout.pixel_stride];
            for (x, p) in row.chunks_exact_mut(layout.pixel_stride).enumerate() {
                let i = y * w + x;
                let [ro, go, bo] = layout.offsets;
                (p[ro], p[go], p[bo]) = (byte(r[i]), byte(g[i]), byte(b[i]));
                if let Some(a) = layout.alpha {
                    p[a] = 255;
                }
            }
        }
        return;
    }
    // I420.
    let strides: [usize; 3] = std::array::from_fn(|p| frame.plane_stride()[p] as usize);
    let [ys, us, vs, _] = frame.planes_data_mut();
    let yuv = |i: usize| matrix.yuv(r[i] * 255.0, g[i] * 255.0, b[i] * 255.0);
    let round = |v: f32| (v + 0.5).clamp(0.0, 255.0) as u8;
    // Each 2x2 block converted once: its luma written, its chroma averaged.
    for cy in 0..h.div_ceil(2) {
        for cx in 0..w.div_ceil(2) {
            let (mut cb, mut cr, mut n) = (0.0, 0.0, 0.0);
            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let (y, x) = (2 * cy + dy, 2 * cx + dx);
                if y < h && x < w {
                    let [l, u, v] = yuv(y * w + x);
                    ys[y * strides[0] + x] = round(l);
                    (cb, cr, n) = (cb + u, cr + v, n + 1.0);
                }
            }
            us[cy * strides[1] + cx] = round(cb / n);
            vs[cy * strides[2] + cx] = round(cr / n);
        }
    }
}
