/**
 * element-audiodenoise:
 *
 * Removes background noise from speech in real time with RNNoise (default) or DeepFilterNet 3
 * (`engine=deepfilter`, through its runtime from `make models`). Takes F32 interleaved audio
 * at any rate from 8 to 192 kHz (resampled internally to the model's 48 kHz and back) and any
 * channel count (each channel denoised on its own). Buffers keep their timestamps: the element
 * delays the audio by a fixed, reported latency (20 ms at 48 kHz with RNNoise, 40 ms with
 * DeepFilterNet) and gives back exactly as
 * many samples as it received, the tail at EOS included.
 *
 * The streaming thread takes no lock and allocates nothing after caps are set: the chain's
 * blocks, resamplers and FIFO are sized then, settings are atomics, and the state is reached
 * through a lock-free exclusive cell.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=talk.wav ! decodebin ! audioconvert ! audiodenoise ! audioconvert ! autoaudiosink
 * ]|
 */
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_audio::subclass::prelude::*;
use gst_base::prelude::*;

use mediaai_common::held;
use mediaai_common::lockfree::{AtomicF32, Exclusive};

use super::Engine;
use crate::chain::{Chain, EngineSpec, Params};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "audiodenoise",
        gst::DebugColorFlags::empty(),
        Some("Real-time speech denoising"),
    )
});

/// No attenuation limit: only the denoised signal is heard.
const DEFAULT_ATTENUATION_LIMIT: f32 = 100.0;
const DEFAULT_VAD_THRESHOLD: f32 = 0.0;
const DEFAULT_MESSAGE_INTERVAL: u64 = gst::ClockTime::SECOND.nseconds();
/// A timestamp this far from where the samples so far put the buffer starts a new run (the
/// held audio is sent out first): the alignment threshold of GStreamer's audio sinks.
const DISCONT_TOLERANCE: gst::ClockTime = gst::ClockTime::from_mseconds(40);

/// What the chain is built with at caps time (read under a lock then, never per buffer).
#[derive(Debug, Clone, Default)]
struct Setup {
    engine: Engine,
    model_location: Option<String>,
}

/// Settings the streaming thread reads without a lock.
struct Settings {
    attenuation_limit: AtomicF32,
    vad_threshold: AtomicF32,
    message_interval: AtomicU64,
    bypass: AtomicBool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            attenuation_limit: AtomicF32::new(DEFAULT_ATTENUATION_LIMIT),
            vad_threshold: AtomicF32::new(DEFAULT_VAD_THRESHOLD),
            message_interval: AtomicU64::new(DEFAULT_MESSAGE_INTERVAL),
            bypass: AtomicBool::new(false),
        }
    }
}

impl Settings {
    fn params(&self) -> Params {
        if self.bypass.load(Ordering::Relaxed) {
            // The dry signal through the same delay: switching is seamless.
            return Params {
                attenuation_limit: 0.0,
                vad_threshold: 0.0,
            };
        }
        Params {
            attenuation_limit: self.attenuation_limit.get(),
            vad_threshold: self.vad_threshold.get(),
        }
    }
}

/// One run of continuous audio through the chain.
struct State {
    chain: Chain,
    rate: u64,
    bpf: usize,
    /// Timestamp of the run's first sample, and samples taken in and given back since.
    base: Option<gst::ClockTime>,
    samples_in: u64,
    samples_out: u64,
    /// Output samples since the last voice-activity message.
    since_message: u64,
}

impl State {
    fn time_of(&self, samples: u64) -> gst::ClockTime {
        gst::ClockTime::SECOND
            .mul_div_floor(samples, self.rate)
            .unwrap_or(gst::ClockTime::ZERO)
    }

    /// Stamps `buf` as the next `n` output samples.
    fn stamp(&mut self, buf: &mut gst::BufferRef, n: usize) {
        let start = self.samples_out;
        self.samples_out += n as u64;
        if let Some(base) = self.base {
            let pts = base + self.time_of(start);
            buf.set_pts(pts);
            buf.set_duration(base + self.time_of(self.samples_out) - pts);
        }
        buf.set_offset(start);
        buf.set_offset_end(self.samples_out);
    }
}

#[derive(Default)]
pub struct AudioDenoise {
    setup: Mutex<Setup>,
    settings: Settings,
    state: Exclusive<Option<State>>,
    /// What the latency query answers, in nanoseconds (set with the caps).
    latency: AtomicU64,
}

#[glib::object_subclass]
impl ObjectSubclass for AudioDenoise {
    const NAME: &'static str = "GstAudioDenoise";
    type Type = super::AudioDenoise;
    type ParentType = gst_audio::AudioFilter;
}

impl ObjectImpl for AudioDenoise {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecEnum::builder_with_default("engine", Engine::default())
                    .nick("Engine")
                    .blurb("Denoising model: rnnoise (built in, 20 ms latency at 48 kHz) or deepfilter (DeepFilterNet 3 through its runtime, 40 ms; stronger). Applies at the next caps. Default: rnnoise")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("model-location")
                    .nick("Model location")
                    .blurb("engine=deepfilter: the DeepFilterNet3_onnx.tar.gz to load (default: the one `make models` fetched, found beside the other models). Applies at the next caps.")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecFloat::builder("attenuation-limit")
                    .nick("Attenuation limit")
                    .blurb("Most the noise is turned down, in dB: the original is mixed back at this level below the denoised signal (100: no limit, only the denoised signal; 0: the original). Default: 100")
                    .minimum(0.0)
                    .maximum(100.0)
                    .default_value(DEFAULT_ATTENUATION_LIMIT)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecFloat::builder("vad-threshold")
                    .nick("Voice threshold")
                    .blurb("Voice probability (0-1) under which audio is turned down by the full attenuation limit, after 200 ms below it (0: never). Messages report speech when the probability reaches it. Default: 0")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_VAD_THRESHOLD)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt64::builder("message-interval")
                    .nick("Message interval")
                    .blurb("Stream time in ns between `audiodenoise` element messages with the voice probability (0: none). Default: 1 s")
                    .minimum(0)
                    .maximum(3600 * gst::ClockTime::SECOND.nseconds())
                    .default_value(DEFAULT_MESSAGE_INTERVAL)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("bypass")
                    .nick("Bypass")
                    .blurb("Pass the original audio through the same delay, so switching is seamless. Default: false")
                    .default_value(false)
                    .mutable_playing()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let s = &self.settings;
        match pspec.name() {
            "engine" => {
                self.setup
                    .lock()
                    .expect("setup lock is never poisoned")
                    .engine = value.get().expect("type checked upstream")
            }
            "model-location" => {
                self.setup
                    .lock()
                    .expect("setup lock is never poisoned")
                    .model_location = value.get().expect("type checked upstream")
            }
            "attenuation-limit" => s
                .attenuation_limit
                .set(value.get().expect("type checked upstream")),
            "vad-threshold" => s
                .vad_threshold
                .set(value.get().expect("type checked upstream")),
            "message-interval" => s.message_interval.store(
                value.get().expect("type checked upstream"),
                Ordering::Relaxed,
            ),
            "bypass" => s.bypass.store(
                value.get().expect("type checked upstream"),
                Ordering::Relaxed,
            ),
            other => unreachable!("unknown property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = &self.settings;
        match pspec.name() {
            "engine" => self
                .setup
                .lock()
                .expect("setup lock is never poisoned")
                .engine
                .to_value(),
            "model-location" => self
                .setup
                .lock()
                .expect("setup lock is never poisoned")
                .model_location
                .to_value(),
            "attenuation-limit" => s.attenuation_limit.get().to_value(),
            "vad-threshold" => s.vad_threshold.get().to_value(),
            "message-interval" => s.message_interval.load(Ordering::Relaxed).to_value(),
            "bypass" => s.bypass.load(Ordering::Relaxed).to_value(),
            other => unreachable!("unknown property {other}"),
        }
    }
}

impl GstObjectImpl for AudioDenoise {}

impl ElementImpl for AudioDenoise {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            mediaai_common::element_metadata(
                "Speech denoiser",
                "Filter/Effect/Audio",
                "Removes background noise from speech in real time (RNNoise or DeepFilterNet 3), any rate and channel count, fixed reported latency",
            )
        });
        Some(&*META)
    }
}

impl BaseTransformImpl for AudioDenoise {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        self.state.with(|s| *s = None);
        Ok(())
    }

    fn transform_ip(&self, buf: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        let params = self.settings.params();
        let mut tail = None;
        let result = self.state.with(|state| {
            let Some(state) = state.as_mut() else {
                gst::element_imp_error!(
                    self,
                    gst::CoreError::Negotiation,
                    ["buffer before caps were negotiated"]
                );
                return Err(gst::FlowError::NotNegotiated);
            };
            // A jump in time or a DISCONT starts a new run; what the old one holds goes first.
            if state.samples_in > 0 {
                let expected = state.base.map(|b| b + state.time_of(state.samples_in));
                let jumped = match (expected, buf.pts()) {
                    (Some(e), Some(p)) => e.absdiff(p) > DISCONT_TOLERANCE,
                    _ => false,
                };
                if jumped || buf.flags().contains(gst::BufferFlags::DISCONT) {
                    tail = self.drain_state(state, &params);
                }
            }
            if state.samples_in == 0 {
                state.base = buf.pts();
            }
            let mut map = buf.map_writable().map_err(|_| {
                gst::element_imp_error!(self, gst::StreamError::Failed, ["buffer not writable"]);
                gst::FlowError::Error
            })?;
            let bytes = map.as_mut_slice();
            if bytes.len() % state.bpf != 0 {
                gst::element_imp_error!(
                    self,
                    gst::StreamError::Format,
                    [
                        "buffer of {} bytes is not whole frames of {} bytes",
                        bytes.len(),
                        state.bpf
                    ]
                );
                return Err(gst::FlowError::Error);
            }
            let Some(samples) = f32_slice(bytes) else {
                gst::element_imp_error!(
                    self,
                    gst::StreamError::Format,
                    ["buffer memory is not aligned for 32-bit floats"]
                );
                return Err(gst::FlowError::Error);
            };
            state.samples_in += (samples.len() / state.chain.channels()) as u64;
            let n = state.chain.process(samples, &params);
            drop(map);
            buf.set_size(n * state.bpf);
            state.stamp(buf, n);
            state.since_message += n as u64;
            Ok(n)
        });
        let Some(result) = result else {
            gst::element_imp_error!(
                self,
                gst::CoreError::Failed,
                ["audiodenoise entered from two threads at once"]
            );
            return Err(gst::FlowError::Error);
        };
        if let Some(tail) = tail {
            self.obj().src_pad().push(tail)?;
        }
        let n = result?;
        self.post_vad_message();
        if n == 0 {
            return Ok(gst_base::BASE_TRANSFORM_FLOW_DROPPED);
        }
        Ok(gst::FlowSuccess::Ok)
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        // The held tail goes out before the stream ends or its format changes; a flush drops
        // it.
        if let Err(e) = held::on_sink_event(&event, || self.drain(), || self.flush()) {
            gst::warning!(CAT, imp = self, "pushing the held tail failed: {e:?}");
        }
        self.parent_sink_event(event)
    }

    fn query(&self, direction: gst::PadDirection, query: &mut gst::QueryRef) -> bool {
        let parent = |q: &mut gst::QueryRef| BaseTransformImplExt::parent_query(self, direction, q);
        held::query(direction, query, parent, || {
            gst::ClockTime::from_nseconds(self.latency.load(Ordering::Relaxed))
        })
    }
}

impl AudioFilterImpl for AudioDenoise {
    fn allowed_caps() -> &'static gst::Caps {
        static CAPS: LazyLock<gst::Caps> = LazyLock::new(|| {
            gst_audio::AudioCapsBuilder::new_interleaved()
                .format(gst_audio::AUDIO_FORMAT_F32)
                .rate_range(8_000..=192_000)
                .channels_range(1..=64)
                .build()
        });
        &CAPS
    }

    fn setup(&self, info: &gst_audio::AudioInfo) -> Result<(), gst::LoggableError> {
        let setup = self
            .setup
            .lock()
            .expect("setup lock is never poisoned")
            .clone();
        let engine = match setup.engine {
            Engine::RnNoise => EngineSpec::RnNoise,
            Engine::DeepFilter => {
                let find = |explicit: Option<&str>, name: &str| {
                    mediaai_common::inference::locate_model(explicit, name).map_err(|e| {
                        gst::element_imp_error!(
                            self,
                            gst::ResourceError::NotFound,
                            ["engine=deepfilter: {}", e]
                        );
                        gst::loggable_error!(CAT, "{e}")
                    })
                };
                EngineSpec::DeepFilter {
                    library: find(None, "libdeepfilter.so")?,
                    model: find(
                        setup.model_location.as_deref(),
                        "DeepFilterNet3_onnx.tar.gz",
                    )?,
                }
            }
        };
        let chain = Chain::new(info.rate(), info.channels() as usize, &engine).map_err(|e| {
            gst::element_imp_error!(self, gst::StreamError::Format, ["{}", e]);
            gst::loggable_error!(CAT, "{e}")
        })?;
        let rate = info.rate() as u64;
        let held = (chain.delay() + chain.block()) as u64;
        self.latency.store(
            gst::ClockTime::SECOND
                .mul_div_ceil(held, rate)
                .map_or(0, |t| t.nseconds()),
            Ordering::Relaxed,
        );
        gst::info!(
            CAT,
            imp = self,
            "{} Hz, {} channels: blocks of {} samples, latency {} samples",
            rate,
            info.channels(),
            chain.block(),
            held
        );
        let state = State {
            chain,
            rate,
            bpf: info.bpf() as usize,
            base: None,
            samples_in: 0,
            samples_out: 0,
            since_message: 0,
        };
        self.state
            .with(|s| *s = Some(state))
            .ok_or_else(|| gst::loggable_error!(CAT, "caps set while audio flows elsewhere"))?;
        let _ = self
            .obj()
            .post_message(gst::message::Latency::builder().src(&*self.obj()).build());
        Ok(())
    }
}

impl AudioDenoise {
    /// Pushes the held tail (EOS, new caps).
    fn drain(&self) -> Result<(), gst::FlowError> {
        let params = self.settings.params();
        let tail = self
            .state
            .with(|s| s.as_mut().and_then(|s| self.drain_state(s, &params)))
            .flatten();
        if let Some(tail) = tail {
            self.obj().src_pad().push(tail)?;
        }
        Ok(())
    }

    /// Drops the held audio (FLUSH_STOP).
    fn flush(&self) {
        self.state.with(|s| {
            if let Some(s) = s.as_mut() {
                s.chain.reset();
                s.samples_in = 0;
                s.samples_out = 0;
                s.base = None;
            }
        });
    }

    /// The run's held samples as one buffer (allocated here: once per run, not per buffer),
    /// or `None` when nothing is held. The chain is ready for a new run afterwards.
    fn drain_state(&self, state: &mut State, params: &Params) -> Option<gst::Buffer> {
        let pending = state.samples_in.saturating_sub(state.samples_out) as usize;
        let out = if pending == 0 {
            state.chain.reset();
            None
        } else {
            let ch = state.chain.channels();
            let mut buf = gst::Buffer::with_size(pending * state.bpf).ok()?;
            {
                let b = buf.get_mut().expect("a new buffer is writable");
                let n = {
                    let mut map = b.map_writable().ok()?;
                    let samples = f32_slice(map.as_mut_slice())?;
                    state.chain.drain(samples, pending, params)
                };
                debug_assert_eq!(n * ch * 4, pending * state.bpf);
                state.stamp(b, n);
            }
            Some(buf)
        };
        state.samples_in = 0;
        state.samples_out = 0;
        state.since_message = 0;
        out
    }

    /// Posts the voice activity of the last `message-interval` when it has passed.
    fn post_vad_message(&self) {
        let interval = self.settings.message_interval.load(Ordering::Relaxed);
        if interval == 0 {
            return;
        }
        let threshold = self.settings.vad_threshold.get();
        let due = self.state.with(|s| {
            let s = s.as_mut()?;
            if s.time_of(s.since_message).nseconds() < interval {
                return None;
            }
            s.since_message = 0;
            let vad = s.chain.take_vad();
            let at = s.base.map(|b| b + s.time_of(s.samples_out));
            Some((vad, at))
        });
        let Some(Some((vad, at))) = due else {
            return;
        };
        // Speech: the most likely frame reaches the threshold (one half without one).
        let speech = vad.max >= if threshold > 0.0 { threshold } else { 0.5 };
        let s = gst::Structure::builder("audiodenoise")
            .field("timestamp", at)
            .field("vad", vad.mean)
            .field("vad-max", vad.max)
            .field("speech", speech)
            .build();
        let _ = self
            .obj()
            .post_message(gst::message::Element::builder(s).src(&*self.obj()).build());
    }
}

/// `bytes` as 32-bit floats, when aligned for them (GStreamer's allocators always are).
fn f32_slice(bytes: &mut [u8]) -> Option<&mut [f32]> {
    bytemuck::try_cast_slice_mut(bytes).ok()
}
