/**
 * element-onnxfacekeep:
 *
 * Keeps chosen people visible in an anonymised picture. For each face an upstream detector
 * (`onnxfacedetect`) marked and tracked, it computes an identity descriptor (dlib's face
 * recognition ResNet through ONNX Runtime, on the face chip dlib aligns it with, fitted to the
 * detector's five landmarks) when the track appears and every `refresh` frames after, and
 * compares it with the faces in the photographs of `keep-faces`. A track that resembles one of them at least `threshold` has its
 * regions' type changed from `face` to `face-kept`, which `gpublur`'s default `roi-types=face`
 * leaves alone; every other face, and a face not yet recognised, stays `face` and is hidden:
 * when in doubt the element hides. A `facekeep` element message says what it decided for each
 * track (`track-id`, `similarity`, `kept`) when it decides and when the decision changes.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=in.mp4 ! decodebin ! videoconvert ! onnxfacedetect ! onnxfacekeep keep-faces=presenters/ ! gpublur ! videoconvert ! autovideosink
 * ]|
 */
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::VideoRegionOfInterestMeta;

use super::ExecutionProvider;
use crate::align::Alignment;
use mediaai_common::inference::{self, BoundInput, LoadedModel};
use mediaai_common::roi::{self, DETECTION_PARAM};
use mediaai_common::sampler::{PixelSource, YuvMatrix};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "onnxfacekeep",
        gst::DebugColorFlags::empty(),
        Some("Keeps chosen faces visible"),
    )
});

const DEFAULT_MODEL_NAME: &str = "dlibface.onnx";
/// A box crop (models without an alignment of their own): the detector's box (CenterFace's,
/// about brow to chin) times this.
const MARGIN: f32 = 1.2;
/// Cosine similarity of two descriptors (dlib's network) at or above which they are taken for
/// one person: chosen by `make eval-keep` on its tuning part, between the highest impostor
/// (0.921: two women of one face-api demo photograph) and the lowest genuine pair across
/// photographs (0.946, Obama's first two); on the held-out part Obama's third photograph scores
/// 0.935 and 0.972 against the first two, and no impostor of 226 pairs (highest 0.922) reaches
/// it. No registry package holds photographs labelled by person in any number, so the genuine
/// pairs are few (three); a stranger is never to be kept, so the threshold sits nearer the
/// impostors' top than dlib's own 0.6 Euclidean distance (about 0.91 here) does.
const DEFAULT_THRESHOLD: f64 = 0.93;
const DEFAULT_REFRESH: u32 = 25;
/// Tracks not seen for this many frames are forgotten.
const FORGET_AFTER: u64 = 250;

#[derive(Debug, Clone)]
struct Settings {
    keep_faces: Option<String>,
    post_descriptors: bool,
    thumbnails: Option<String>,
    threshold: f64,
    refresh: u32,
    model_location: Option<String>,
    execution_provider: ExecutionProvider,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            keep_faces: None,
            post_descriptors: false,
            thumbnails: None,
            threshold: DEFAULT_THRESHOLD,
            refresh: DEFAULT_REFRESH,
            model_location: None,
            execution_provider: ExecutionProvider::default(),
        }
    }
}

/// What the element knows of a tracked face.
#[derive(Debug, Clone, Copy)]
struct Track {
    kept: bool,
    /// The frame its descriptor was last computed (none yet: `None`).
    checked: Option<u64>,
    seen: u64,
}

/// A face of this frame whose descriptor is due.
#[derive(Debug, Clone, Copy)]
struct Due {
    track: u32,
    bx: [f32; 4],
    landmarks: [[f32; 2]; 5],
}

struct Network {
    model: LoadedModel,
    input: BoundInput,
    /// The network's input side, the crop it wants, and its descriptor's length.
    side: usize,
    alignment: Alignment,
    dims: usize,
}

impl Network {
    /// A descriptor network: input [N, 3, S, S] RGB 0-255, first output [N, D] L2-normalised;
    /// its crop from the model's `mediaai.alignment` metadata (`dlib-chip`; none: a box crop).
    fn new(model: LoadedModel) -> Result<Network, String> {
        let shape = |o: &ort::value::Outlet| {
            o.dtype()
                .tensor_shape()
                .map(|s| s.to_vec())
                .unwrap_or_default()
        };
        let (inputs, outputs) = (model.session.inputs(), model.session.outputs());
        let (side, dims) =
            match (inputs, outputs.first().map(shape).as_deref()) {
                ([input], Some(&[_, d])) if d > 0 => match shape(input)[..] {
                    [_, 3, h, w] if h == w && h > 0 => (h as usize, d as usize),
                    ref other => {
                        return Err(format!(
                            "expected a square RGB input [N, 3, S, S], found {other:?}"
                        ))
                    }
                },
                _ => return Err(
                    "expected one image input [N, 3, S, S] and a descriptor output [N, D] first"
                        .into(),
                ),
            };
        let alignment = match model
            .session
            .metadata()
            .ok()
            .and_then(|m| m.custom("mediaai.alignment"))
            .as_deref()
        {
            Some("dlib-chip") => Alignment::DlibChip,
            None => Alignment::Box,
            Some(other) => return Err(format!("unknown face alignment {other:?} in its metadata")),
        };
        let mut input = BoundInput::new(&model, &[1, 3, side, side])?;
        input.floats_mut()?;
        Ok(Network {
            model,
            input,
            side,
            alignment,
            dims,
        })
    }

    /// The descriptor of the face of `src` (a `width`x`height` frame) boxed at `bx` with
    /// `landmarks`, from the crop the network wants, into `out`.
    fn describe(
        &mut self,
        (bx, landmarks): ([f32; 4], &[[f32; 2]; 5]),
        src: &PixelSource,
        matrix: &YuvMatrix,
        (width, height): (u32, u32),
        out: &mut [f32],
    ) -> Result<(), String> {
        let crop = self.alignment.crop(bx, landmarks, self.side, MARGIN);
        crop.fill(src, matrix, width, height, self.input.floats_mut()?);
        let outputs = self.input.run(&mut self.model.session)?;
        let (_, data) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| format!("descriptor: {e}"))?;
        if data.len() != out.len() {
            return Err(format!(
                "the model gives {} values, a {}-value descriptor was expected",
                data.len(),
                out.len()
            ));
        }
        out.copy_from_slice(data);
        Ok(())
    }
}

struct State {
    network: Network,
    post_descriptors: bool,
    thumbnails: Option<PathBuf>,
    /// The descriptors of the faces in `keep-faces`, L2-normalised.
    references: Vec<Vec<f32>>,
    descriptor: Vec<f32>,
    tracks: HashMap<u32, Track>,
    due: Vec<Due>,
    info: Option<gst_video::VideoInfo>,
    matrix: YuvMatrix,
    frame: u64,
}

#[derive(Default)]
pub struct OnnxFaceKeep {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
}

#[glib::object_subclass]
impl ObjectSubclass for OnnxFaceKeep {
    const NAME: &'static str = "GstOnnxFaceKeep";
    type Type = super::OnnxFaceKeep;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for OnnxFaceKeep {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPS: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("keep-faces")
                    .nick("Faces to keep")
                    .blurb("Folder of photographs (JPEG or PNG) of the people to keep visible, one face each (the largest in a photograph counts). Unset: nobody is kept. Read at start.")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("post-descriptors")
                    .nick("Post descriptors")
                    .blurb("Post a facekeep-descriptor element message with each descriptor computed (track-id, pts, the box, descriptor): for grouping the faces of a video by person (pipelines/face-groups.sh)")
                    .default_value(false)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("thumbnails")
                    .nick("Thumbnail folder")
                    .blurb("Folder where the face crop of each track's first descriptor is written (track-ID.ppm, the network's input crop: 150x150 aligned for the default model); unset: none. Read at start.")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("threshold")
                    .nick("Similarity threshold")
                    .blurb("Cosine similarity (0-1) of a face's descriptor to a photograph's at or above which the face is kept; below it the face stays hidden")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_THRESHOLD)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("refresh")
                    .nick("Refresh interval")
                    .blurb("Frames between two descriptors of one tracked face: it is described when it appears, then again at the first frame the detector measures it after this many")
                    .minimum(1)
                    .default_value(DEFAULT_REFRESH)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecString::builder("model-location")
                    .nick("Model location")
                    .blurb("Path of the face descriptor ONNX model (input [N, 3, S, S] RGB 0-255, first output [N, D] L2-normalised; a crop around the detector's box unless the model's metadata mediaai.alignment says dlib-chip; faceres.onnx is the earlier default). Default: dlibface.onnx from MEDIAAI_MODEL_DIR, the source tree's models/ (make models) or the installed data dir. Read at start.")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default(
                    "execution-provider",
                    ExecutionProvider::default(),
                )
                .nick("Execution provider")
                .blurb("Where ONNX Runtime runs the model, as onnxfacedetect's. Read at start.")
                .mutable_ready()
                .build(),
            ]
        });
        PROPS.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self
            .settings
            .lock()
            .expect("settings lock is never poisoned");
        match pspec.name() {
            "keep-faces" => s.keep_faces = value.get().expect("type checked upstream"),
            "post-descriptors" => s.post_descriptors = value.get().expect("type checked upstream"),
            "thumbnails" => s.thumbnails = value.get().expect("type checked upstream"),
            "threshold" => s.threshold = value.get().expect("type checked upstream"),
            "refresh" => s.refresh = value.get().expect("type checked upstream"),
            "model-location" => s.model_location = value.get().expect("type checked upstream"),
            "execution-provider" => {
                s.execution_provider = value.get().expect("type checked upstream")
            }
            _ => unreachable!("unknown property {}", pspec.name()),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self
            .settings
            .lock()
            .expect("settings lock is never poisoned");
        match pspec.name() {
            "keep-faces" => s.keep_faces.to_value(),
            "post-descriptors" => s.post_descriptors.to_value(),
            "thumbnails" => s.thumbnails.to_value(),
            "threshold" => s.threshold.to_value(),
            "refresh" => s.refresh.to_value(),
            "model-location" => s.model_location.to_value(),
            "execution-provider" => s.execution_provider.to_value(),
            _ => unreachable!("unknown property {}", pspec.name()),
        }
    }
}

impl GstObjectImpl for OnnxFaceKeep {}

impl ElementImpl for OnnxFaceKeep {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Keep chosen faces",
                "Filter/Analyzer/Video",
                "Recognises the people of a folder of photographs among the faces marked upstream and retypes their regions face-kept, so an anonymiser leaves them visible",
                "gst-media-ai developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            use gst_video::VideoFormat as F;
            let caps = gst_video::VideoCapsBuilder::new()
                .format_list([
                    F::Rgb,
                    F::Bgr,
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
                .build();
            mediaai_common::templates::src_and_sink(&caps, &caps)
        });
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for OnnxFaceKeep {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = self.settings.lock().expect("settings lock").clone();
        let model_path =
            inference::locate_model(settings.model_location.as_deref(), DEFAULT_MODEL_NAME)
                .map_err(|e| gst::error_msg!(gst::ResourceError::NotFound, ("{e}")))?;
        let model =
            inference::load_model(&model_path, settings.execution_provider.into(), 0, false)
                .map_err(|e| gst::error_msg!(gst::LibraryError::Init, ("{e}")))?;
        if let Some(w) = &model.fallback_warning {
            gst::element_imp_warning!(self, gst::LibraryError::Init, ["{w}"]);
        }
        model.announce(
            self.obj().upcast_ref(),
            *CAT,
            settings.execution_provider.into(),
        );
        let mut network = Network::new(model).map_err(|e| {
            gst::error_msg!(
                gst::LibraryError::Settings,
                (
                    "model {} is not a face descriptor this element understands: {e}",
                    model_path.display()
                )
            )
        })?;
        gst::info!(
            CAT,
            imp = self,
            "descriptor of {} values from {}x{} crops ({:?})",
            network.dims,
            network.side,
            network.side,
            network.alignment
        );
        let references = match &settings.keep_faces {
            Some(dir) if !dir.is_empty() => self
                .references(Path::new(dir), &mut network)
                .map_err(|e| gst::error_msg!(gst::ResourceError::NotFound, ("keep-faces: {e}")))?,
            _ => Vec::new(),
        };
        gst::info!(CAT, imp = self, "{} faces to keep", references.len());
        let thumbnails = settings
            .thumbnails
            .filter(|t| !t.is_empty())
            .map(PathBuf::from);
        if let Some(dir) = &thumbnails {
            std::fs::create_dir_all(dir).map_err(|e| {
                gst::error_msg!(
                    gst::ResourceError::OpenWrite,
                    ("thumbnails: cannot make {}: {e}", dir.display())
                )
            })?;
        }
        let dims = network.dims;
        *self.state.lock().expect("state lock") = Some(State {
            network,
            post_descriptors: settings.post_descriptors,
            thumbnails,
            descriptor: vec![0.0; dims],
            references,
            tracks: HashMap::with_capacity(64),
            due: Vec::with_capacity(16),
            info: None,
            matrix: YuvMatrix::new(0.2126, 0.0722, false),
            frame: 0,
        });
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state.lock().expect("state lock") = None;
        Ok(())
    }

    fn set_caps(&self, incaps: &gst::Caps, _outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let info = gst_video::VideoInfo::from_caps(incaps)
            .map_err(|_| gst::loggable_error!(CAT, "invalid video caps {incaps}"))?;
        if info.width() == 0 || info.height() == 0 {
            return Err(gst::loggable_error!(CAT, "zero-sized frames"));
        }
        if let Some(state) = self.state.lock().expect("state lock").as_mut() {
            state.matrix = YuvMatrix::from_colorimetry(&info.colorimetry());
            state.info = Some(info);
            state.tracks.clear();
        }
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        // A new stream or a flush may start the detector's track ids again: a decision must
        // not pass to whoever gets a kept track's id next.
        if matches!(
            event.view(),
            gst::EventView::FlushStop(_) | gst::EventView::StreamStart(_)
        ) {
            if let Some(state) = self.state.lock().expect("state lock").as_mut() {
                state.tracks.clear();
            }
        }
        self.parent_sink_event(event)
    }

    fn transform_ip(&self, buf: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        let (threshold, refresh) = {
            let s = self.settings.lock().expect("settings lock");
            (s.threshold as f32, s.refresh.max(1) as u64)
        };
        let mut guard = self.state.lock().expect("state lock");
        let state = guard.as_mut().ok_or(gst::FlowError::NotNegotiated)?;
        if state.references.is_empty() && !state.post_descriptors && state.thumbnails.is_none() {
            return Ok(gst::FlowSuccess::Ok);
        }
        state.frame += 1;
        let frame_no = state.frame;
        // Faces whose descriptor is due: new tracks, and those not described for `refresh`
        // frames, where the detector measured them (landmarks with the box).
        state.due.clear();
        for meta in buf.iter_meta::<VideoRegionOfInterestMeta>() {
            if meta.roi_type() != "face" {
                continue;
            }
            let Some(p) = meta.param(DETECTION_PARAM) else {
                continue;
            };
            let track_id = p.get::<u32>("track-id").unwrap_or(0);
            if track_id == 0 {
                continue;
            }
            let track = state.tracks.entry(track_id).or_insert(Track {
                kept: false,
                checked: None,
                seen: frame_no,
            });
            track.seen = frame_no;
            let due = track.checked.is_none_or(|c| frame_no - c >= refresh);
            let measured = p.get::<u32>("predicted-frames").unwrap_or(0) == 0;
            if let (true, true, Some(landmarks)) = (due, measured, roi::landmarks(&meta)) {
                state.due.push(Due {
                    track: track_id,
                    bx: roi::exact_box(&meta),
                    landmarks,
                });
            }
        }
        if !state.due.is_empty() {
            let info = state.info.as_ref().ok_or(gst::FlowError::NotNegotiated)?;
            let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(&*buf, info)
                .map_err(|_| mediaai_common::frames::too_small(self.obj().upcast_ref()))?;
            let src = PixelSource::from_frame(&frame)
                .ok_or_else(|| mediaai_common::frames::too_small(self.obj().upcast_ref()))?;
            let size = (info.width(), info.height());
            for i in 0..state.due.len() {
                let due = state.due[i];
                if let Err(e) = state.network.describe(
                    (due.bx, &due.landmarks),
                    &src,
                    &state.matrix,
                    size,
                    &mut state.descriptor,
                ) {
                    gst::element_imp_error!(
                        self,
                        gst::LibraryError::Failed,
                        ["face descriptor failed: {e}"]
                    );
                    return Err(gst::FlowError::Error);
                }
                let track = state
                    .tracks
                    .get_mut(&due.track)
                    .expect("tracks hold every due face");
                if track.checked.is_none() {
                    if let Some(dir) = &state.thumbnails {
                        let path = dir.join(format!("track-{}.ppm", due.track));
                        let crop = state.network.input.floats_mut().unwrap_or_default();
                        if let Err(e) = write_ppm(&path, crop, state.network.side) {
                            gst::element_imp_warning!(
                                self,
                                gst::ResourceError::Write,
                                ["thumbnails: cannot write {}: {e}", path.display()]
                            );
                        }
                    }
                }
                if state.post_descriptors {
                    self.post_descriptor(due.track, buf.pts(), due.bx, &state.descriptor);
                }
                let similarity = if state.references.is_empty() {
                    0.0
                } else {
                    best_match(&state.descriptor, &state.references)
                };
                let kept = similarity >= threshold;
                let changed = track.checked.is_none() || track.kept != kept;
                *track = Track {
                    kept,
                    checked: Some(frame_no),
                    seen: frame_no,
                };
                if changed && !state.references.is_empty() {
                    self.post_decision(due.track, similarity, kept);
                }
            }
        }
        // Kept tracks' regions become `face-kept`.
        for mut meta in buf.iter_meta_mut::<VideoRegionOfInterestMeta>() {
            if meta.roi_type() != "face" {
                continue;
            }
            let track_id = meta
                .param(DETECTION_PARAM)
                .and_then(|p| p.get::<u32>("track-id").ok())
                .unwrap_or(0);
            if state.tracks.get(&track_id).is_some_and(|t| t.kept) {
                roi::set_roi_type(&mut meta, "face-kept");
            }
        }
        if frame_no % 64 == 0 {
            state
                .tracks
                .retain(|_, t| frame_no - t.seen <= FORGET_AFTER);
        }
        Ok(gst::FlowSuccess::Ok)
    }
}

/// Writes planar RGB (0-255) `side`x`side` `planes` as a binary PPM image.
fn write_ppm(path: &Path, planes: &[f32], side: usize) -> std::io::Result<()> {
    let n = side * side;
    let mut bytes = format!("P6\n{side} {side}\n255\n").into_bytes();
    bytes.extend(
        (0..n).flat_map(|i| (0..3).map(move |c| planes[c * n + i].round().clamp(0.0, 255.0) as u8)),
    );
    std::fs::write(path, bytes)
}

/// The highest cosine similarity of `descriptor` to any of `references` (all L2-normalised).
fn best_match(descriptor: &[f32], references: &[Vec<f32>]) -> f32 {
    references
        .iter()
        .map(|r| r.iter().zip(descriptor).map(|(a, b)| a * b).sum::<f32>())
        .fold(f32::MIN, f32::max)
}

impl OnnxFaceKeep {
    fn post_descriptor(&self, track: u32, pts: Option<gst::ClockTime>, bx: [f32; 4], d: &[f32]) {
        let mut s = gst::Structure::builder("facekeep-descriptor")
            .field("track-id", track)
            .field("x", bx[0] as f64)
            .field("y", bx[1] as f64)
            .field("width", bx[2] as f64)
            .field("height", bx[3] as f64)
            .field("descriptor", gst::Array::new(d.iter().copied()));
        if let Some(pts) = pts {
            s = s.field("pts", pts.nseconds());
        }
        let _ = self.obj().post_message(
            gst::message::Element::builder(s.build())
                .src(&*self.obj())
                .build(),
        );
    }

    fn post_decision(&self, track: u32, similarity: f32, kept: bool) {
        gst::debug!(
            CAT,
            imp = self,
            "track {track}: similarity {similarity:.3}, kept {kept}"
        );
        let s = gst::Structure::builder("facekeep")
            .field("track-id", track)
            .field("similarity", similarity as f64)
            .field("kept", kept)
            .build();
        let _ = self
            .obj()
            .post_message(gst::message::Element::builder(s).src(&*self.obj()).build());
    }

    /// The descriptors of the largest face in each photograph of `dir`: each photograph is
    /// decoded and run through `onnxfacedetect` in a pipeline of its own.
    fn references(&self, dir: &Path, network: &mut Network) -> Result<Vec<Vec<f32>>, String> {
        let mut photos: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                    ["jpg", "jpeg", "png"].contains(&x.to_ascii_lowercase().as_str())
                })
            })
            .collect();
        photos.sort();
        let mut references = Vec::new();
        for photo in &photos {
            match reference_face(photo) {
                Ok(Some((buffer, info, bx, landmarks))) => {
                    let frame =
                        gst_video::VideoFrameRef::from_buffer_ref_readable(buffer.as_ref(), &info)
                            .map_err(|_| format!("{}: unreadable frame", photo.display()))?;
                    let src = PixelSource::from_frame(&frame)
                        .ok_or_else(|| format!("{}: unreadable frame", photo.display()))?;
                    let mut d = vec![0.0; network.dims];
                    network.describe(
                        (bx, &landmarks),
                        &src,
                        &YuvMatrix::from_colorimetry(&info.colorimetry()),
                        (info.width(), info.height()),
                        &mut d,
                    )?;
                    gst::info!(
                        CAT,
                        imp = self,
                        "{}: a face of {:.0}x{:.0} px",
                        photo.display(),
                        bx[2],
                        bx[3]
                    );
                    references.push(d);
                }
                Ok(None) => gst::element_imp_warning!(
                    self,
                    gst::ResourceError::Read,
                    [
                        "keep-faces: no face found in {}; it is left out",
                        photo.display()
                    ]
                ),
                Err(e) => gst::element_imp_warning!(
                    self,
                    gst::ResourceError::Read,
                    [
                        "keep-faces: {} could not be read ({e}); it is left out",
                        photo.display()
                    ]
                ),
            }
        }
        if references.is_empty() {
            return Err(format!(
                "no face found in a JPEG or PNG photograph in {} ({} photographs); give photographs where the face to keep is at least 40 pixels high",
                dir.display(),
                photos.len()
            ));
        }
        Ok(references)
    }
}

/// A photograph decoded to RGB with the largest face `onnxfacedetect` finds in it (box and
/// landmarks), or `None` when it finds none with landmarks.
#[allow(clippy::type_complexity)]
fn reference_face(
    photo: &Path,
) -> Result<Option<(gst::Buffer, gst_video::VideoInfo, [f32; 4], [[f32; 2]; 5])>, String> {
    let pipeline = gst::parse::launch(
        "filesrc name=src ! decodebin ! videoconvert ! video/x-raw,format=RGB ! onnxfacedetect interval=1 post-messages=false execution-provider=cpu ! fakesink name=sink signal-handoffs=true",
    )
    .map_err(|e| e.to_string())?
    .downcast::<gst::Pipeline>()
    .map_err(|_| "not a pipeline".to_string())?;
    let by_name = |n: &str| pipeline.by_name(n).ok_or_else(|| format!("no {n}"));
    by_name("src")?.set_property("location", photo.to_string_lossy().as_ref());
    let got: Arc<Mutex<Option<(gst::Buffer, Option<gst::Caps>)>>> = Arc::default();
    let into = got.clone();
    by_name("sink")?.connect("handoff", false, move |args| {
        let buffer = args[1].get::<gst::Buffer>().ok();
        let caps = args[2]
            .get::<gst::Pad>()
            .ok()
            .and_then(|p| p.current_caps());
        let mut slot = into.lock().expect("handoff lock");
        if let (None, Some(buffer)) = (slot.as_ref(), buffer) {
            *slot = Some((buffer, caps));
        }
        None
    });
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| e.to_string())?;
    let bus = pipeline.bus().ok_or("no bus")?;
    let end = bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(30),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    );
    let _ = pipeline.set_state(gst::State::Null);
    if let Some(gst::MessageView::Error(e)) = end.as_ref().map(|m| m.view()) {
        return Err(e.error().to_string());
    }
    let Some((buffer, Some(caps))) = got.lock().expect("handoff lock").take() else {
        return Err("nothing decoded".into());
    };
    let info = gst_video::VideoInfo::from_caps(&caps).map_err(|e| e.to_string())?;
    let mut best: Option<([f32; 4], [[f32; 2]; 5])> = None;
    for meta in buffer.iter_meta::<VideoRegionOfInterestMeta>() {
        let Some(lm) = roi::landmarks(&meta) else {
            continue;
        };
        let bx = roi::exact_box(&meta);
        if best.is_none_or(|(b, _)| b[2] * b[3] < bx[2] * bx[3]) {
            best = Some((bx, lm));
        }
    }
    Ok(best.map(|(bx, lm)| (buffer, info, bx, lm)))
}
