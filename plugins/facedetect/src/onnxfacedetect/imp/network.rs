//! The network side of `onnxfacedetect`: a frame sampled into the network's input (on the GPU
//! where it pays), the inference (its own session, its group's turn, or its group's batch)
//! and the decoding of the outputs into detections in frame pixels.

use gst::subclass::prelude::*;
use gst_video::prelude::*;

use mediaai_common::batching::Request;
use mediaai_common::frames;
use mediaai_common::gpumemory;
use mediaai_common::gpusampler::{FrameSource, GpuTensorSampler};
use mediaai_common::inference::{BoundInput, InputValues};
use mediaai_common::planes::FramePlanes;
use mediaai_common::roi::Detection;
use mediaai_common::sampler::{PixelSource, TensorSampler};

use crate::model;
use crate::nms;

use super::{Geometry, OnnxFaceDetect, State, CAT, MAX_FACES};

impl OnnxFaceDetect {
    /// Samples `buf` into tensor slot `slot`: a GPU frame on the GPU (only the network input
    /// comes back); a frame in system memory on the GPU too when the network runs on a GPU
    /// (one upload of the frame rather than every pixel resampled on the CPU), else on the
    /// CPU.
    pub(super) fn fill_slot(
        &self,
        state: &mut State,
        buf: &gst::BufferRef,
        slot: usize,
    ) -> Result<(), gst::FlowError> {
        let Some(geometry) = state.geometry.as_mut() else {
            gst::element_imp_error!(
                self,
                gst::CoreError::Negotiation,
                ["buffer before caps were negotiated"]
            );
            return Err(gst::FlowError::NotNegotiated);
        };
        let len = geometry.sampler.tensor_len();
        let (index, start) = geometry.slot_place(slot);
        // Where the image goes: this stream's request in a batching group, else its slot.
        // The GPU samples a GPU frame (one whose host copy is current is as cheap to read on
        // the CPU), and a frame in system memory when the network runs on a GPU anyway.
        let lies = gpumemory::lies_as_caps(buf, &geometry.info);
        let map;
        let on_gpu = match gpumemory::buffer_gpu_frame(buf) {
            Some(f) if lies && !f.host_current() => Some(FrameSource::Gpu(f)),
            None if lies && state.host_frames_on_gpu => {
                map = buf.map_readable().ok();
                map.as_ref().map(|m| FrameSource::Host(m.as_slice()))
            }
            _ => None,
        };
        if let Some(frame) = on_gpu {
            let Geometry {
                info,
                sampler,
                gpu_sampler,
                tensors,
                request,
                ..
            } = geometry;
            if let Some(gpu) = gpu_sampler.get_or_insert_with(|| self.gpu_sampler(sampler, info)) {
                let input = slot_input(tensors, request, index, start, len);
                match gpu.sample_values(frame, input) {
                    Ok(()) => return Ok(()),
                    Err(e) => {
                        gst::warning!(
                            CAT,
                            imp = self,
                            "sampling frames on the GPU failed ({e}); they are sampled on the CPU from now on"
                        );
                        *gpu_sampler = Some(None);
                    }
                }
            }
        }
        let frame = frames::readable(self.obj().upcast_ref(), buf, &geometry.info)?;
        let source = PixelSource::from_frame(&frame).ok_or_else(|| {
            gst::element_imp_error!(
                self,
                gst::StreamError::Format,
                ["unsupported frame layout {:?}", frame.format()]
            );
            gst::FlowError::NotNegotiated
        })?;
        let input = slot_input(
            &mut geometry.tensors,
            &mut geometry.request,
            index,
            start,
            len,
        );
        if !geometry.sampler.fill_values(&source, input) {
            gst::element_imp_error!(
                self,
                gst::StreamError::Format,
                ["frame planes are smaller than the caps say"]
            );
            return Err(gst::FlowError::Error);
        }
        Ok(())
    }

    /// The GPU side of `sampler` for frames laid out as `info` says, or `None` (said once in
    /// the log) when the format or the device rules it out.
    pub(super) fn gpu_sampler(
        &self,
        sampler: &TensorSampler,
        info: &gst_video::VideoInfo,
    ) -> Option<GpuTensorSampler> {
        let made = FramePlanes::of(info)
            .ok_or_else(|| format!("no GPU sampling of {:?}", info.format()))
            .and_then(|planes| GpuTensorSampler::new(sampler, planes, info.size()));
        match made {
            Ok(gpu) => {
                gst::debug!(CAT, imp = self, "GPU frames are sampled on the GPU");
                Some(gpu)
            }
            Err(e) => {
                gst::warning!(CAT, imp = self, "frames are sampled on the CPU: {e}");
                None
            }
        }
    }

    /// Runs the network on the first `used` slots and decodes them into `state.slot_faces`, in
    /// frame pixels, suppressed and truncated.
    pub(super) fn infer(&self, state: &mut State, used: usize) -> Result<(), gst::FlowError> {
        if state.geometry.as_ref().is_some_and(|g| g.request.is_some()) {
            return self.infer_in_group(state);
        }
        let tensors = state.geometry.as_ref().map_or(0, |g| g.tensors.len());
        if tensors > 1 {
            for slot in 0..used {
                self.infer_tensor(state, slot, slot..slot + 1, &|| None)?;
            }
            Ok(())
        } else {
            self.infer_tensor(state, 0, 0..used, &|| None).map(drop)
        }
    }

    /// One frame in slot 0 through this stream's own session (not a group's), unless by the
    /// time the session is free the frame is later than `give_up` allows: then the network
    /// is not run and `give_up`'s lateness comes back. Streams sharing a session queue for it,
    /// so a frame that came in on time can still wait past its budget there; judged again
    /// once the wait is over, it leaves at once for the tracker to carry instead of adding a
    /// run to the queue's delay.
    pub(super) fn infer_unless_late(
        &self,
        state: &mut State,
        give_up: &dyn Fn() -> Option<i64>,
    ) -> Result<Option<i64>, gst::FlowError> {
        let own = state
            .geometry
            .as_ref()
            .is_some_and(|g| g.request.is_none() && g.tensors.len() == 1);
        if !own {
            return self.infer(state, 1).map(|()| None);
        }
        self.infer_tensor(state, 0, 0..1, give_up)
    }

    /// Runs tensor `index` and decodes its images into `state.slot_faces[slots]`; unless
    /// `give_up`, asked once the session is this stream's, says how late the frame has become
    /// (then nothing runs and that lateness comes back).
    pub(super) fn infer_tensor(
        &self,
        state: &mut State,
        index: usize,
        slots: std::ops::Range<usize>,
        give_up: &dyn Fn() -> Option<i64>,
    ) -> Result<Option<i64>, gst::FlowError> {
        let (threshold, nms_threshold) = self.thresholds();
        let State {
            model,
            geometry,
            model_path,
            spec,
            slot_faces,
            ..
        } = state;
        let geometry = geometry.as_mut().ok_or(gst::FlowError::NotNegotiated)?;
        let (tw, th) = (geometry.sampler.dst_w as f32, geometry.sampler.dst_h as f32);
        let to_frame = geometry.sampler.to_frame();
        let images_per_tensor = geometry.images_per_tensor;
        // A batch group's streams take turns here; the lock is held while the outputs are read.
        let mut loaded = model.lock().expect("session lock is never poisoned");
        if let Some(late) = give_up() {
            return Ok(Some(late));
        }
        let outputs = geometry.tensors[index]
            .run(&mut loaded.session)
            .map_err(|e| self.inference_failed(model_path, &e))?;
        let slots = &mut slot_faces[slots];
        let decoded = model::decode(
            spec.kind,
            |i| model::session_output(&outputs, i),
            images_per_tensor,
            threshold,
            (tw, th),
            slots,
        );
        self.finish_slots(decoded, model_path, slots, nms_threshold, to_frame)
            .map(|()| None)
    }

    /// This stream's frame in its group's next batch (see `mediaai_common::batching`), decoded
    /// into `state.slot_faces[0]`.
    pub(super) fn infer_in_group(&self, state: &mut State) -> Result<(), gst::FlowError> {
        let (threshold, nms_threshold) = self.thresholds();
        let State {
            group,
            geometry,
            model_path,
            spec,
            slot_faces,
            ..
        } = state;
        let (Some(group), Some(geometry)) = (group.as_ref(), geometry.as_mut()) else {
            return Err(gst::FlowError::NotNegotiated);
        };
        let Some(request) = geometry.request.as_mut() else {
            return Err(gst::FlowError::NotNegotiated);
        };
        let size = (geometry.sampler.dst_w as f32, geometry.sampler.dst_h as f32);
        let to_frame = geometry.sampler.to_frame();
        group
            .infer(request)
            .map_err(|e| self.inference_failed(model_path, &e))?;
        let output = |i: usize| {
            Some((
                request.output_shapes.get(i)?.as_slice(),
                request.outputs.get(i)?.as_slice(),
            ))
        };
        let slots = &mut slot_faces[..1];
        let decoded = model::decode(spec.kind, output, 1, threshold, size, slots);
        self.finish_slots(decoded, model_path, slots, nms_threshold, to_frame)
    }

    /// The score and suppression thresholds as set now.
    pub(super) fn thresholds(&self) -> (f32, f32) {
        let s = self
            .settings
            .lock()
            .expect("settings lock is never poisoned");
        (s.threshold as f32, s.nms_threshold as f32)
    }

    /// Posts the element error for a failed inference and gives the flow error to return.
    pub(super) fn inference_failed(&self, model_path: &std::path::Path, e: &str) -> gst::FlowError {
        gst::element_imp_error!(
            self,
            gst::LibraryError::Failed,
            ["inference with {} failed: {}", model_path.display(), e]
        );
        gst::FlowError::Error
    }

    /// After decoding into `slots`: an element error if it failed, else each slot's faces
    /// suppressed, truncated and mapped to frame pixels.
    pub(super) fn finish_slots(
        &self,
        decoded: Result<(), String>,
        model_path: &std::path::Path,
        slots: &mut [Vec<Detection>],
        nms_threshold: f32,
        to_frame: (f32, f32, f32, f32),
    ) -> Result<(), gst::FlowError> {
        if let Err(e) = decoded {
            gst::element_imp_error!(
                self,
                gst::LibraryError::Failed,
                ["model {} {}", model_path.display(), e]
            );
            return Err(gst::FlowError::Error);
        }
        for faces in slots.iter_mut() {
            nms::suppress(faces, nms_threshold);
            faces.truncate(MAX_FACES);
            for f in faces.iter_mut() {
                map_to_frame(f, to_frame);
            }
        }
        Ok(())
    }
}

/// The `len` values image `start` of tensor `index` takes, or the request's image in a
/// batching group.
fn slot_input<'a>(
    tensors: &'a mut [BoundInput],
    request: &'a mut Option<Request>,
    index: usize,
    start: usize,
    len: usize,
) -> InputValues<'a> {
    match request {
        Some(r) => r.input.values(),
        None => tensors[index].data_mut().slice(start..start + len),
    }
}

/// Moves a detection from tensor pixels to frame pixels (see `TensorSampler::to_frame`).
fn map_to_frame(d: &mut Detection, (sx, sy, ox, oy): (f32, f32, f32, f32)) {
    d.x = (d.x - ox) * sx;
    d.y = (d.y - oy) * sy;
    d.w *= sx;
    d.h *= sy;
    if let Some(lm) = d.landmarks.as_mut() {
        for p in lm.iter_mut() {
            p[0] = (p[0] - ox) * sx;
            p[1] = (p[1] - oy) * sy;
        }
    }
}
