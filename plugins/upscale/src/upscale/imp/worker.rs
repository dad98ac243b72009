//! The worker: the source pad's task, which upscales batches of frames on the engine and
//! pushes them in order, and what it shares with the streaming thread.

use super::*;

/// Frames travelling together between the streaming thread and the worker: the input buffers
/// (for their timestamps and metas) and each one's planar RGB (0..1). Two per caps, made once,
/// passed back and forth.
pub(super) struct Batch {
    pub(super) buffers: Vec<gst::Buffer>,
    pub(super) inputs: Vec<Vec<f32>>,
    /// The streaming thread's time converting these frames into `inputs`.
    pub(super) converted: std::time::Duration,
    /// A frame of the batch came late in a live pipeline: the network is skipped for it
    /// (`Work::fallback`).
    pub(super) shed: bool,
    /// In a live pipeline, the running time at which the batch's last frame was due (its
    /// timestamp's running time plus upstream's latency): judged again by the worker.
    pub(super) due: Option<gst::ClockTime>,
}

/// What the streaming thread and the worker both see.
#[derive(Default)]
pub(super) struct Shared {
    /// Between FLUSH_START and FLUSH_STOP: the worker drops what it has not pushed.
    pub(super) flushing: AtomicBool,
    /// The first flow error the worker met pushing (or an error it posted), returned to
    /// upstream by the next buffer.
    pub(super) flow: Mutex<Option<gst::FlowError>>,
    /// The lateness (ns) of the last batch the worker shed itself, not yet told to the
    /// streaming thread's `Shedder` (`i64::MIN`, or 0 before the first: none).
    pub(super) shed_by_worker: std::sync::atomic::AtomicI64,
}

impl Shared {
    pub(super) fn fail(&self, e: gst::FlowError) {
        self.flow.lock().expect("flow lock").get_or_insert(e);
    }

    /// Whether the worker should drop what it has rather than push it.
    pub(super) fn stopped(&self) -> bool {
        self.flushing.load(Ordering::SeqCst) || self.flow.lock().expect("flow lock").is_some()
    }

    /// The lateness of a batch the worker shed since the last call, if any.
    pub(super) fn take_shed_by_worker(&self) -> Option<i64> {
        Some(self.shed_by_worker.swap(i64::MIN, Ordering::SeqCst)).filter(|&l| l > 0)
    }
}

/// A network's file, provider and batch group, and whether it ended up on the CPU.
pub(super) type Network = (std::path::PathBuf, ExecutionProvider, Option<String>, bool);

/// Everything the worker owns for one caps: the engine, the output frames as planar RGB, and
/// the pool of output buffers.
pub(super) struct Work {
    pub(super) engine: Upscaler,
    /// The network's identity (neural engine), to keep it for the next caps.
    pub(super) network: Option<Network>,
    pub(super) in_info: gst_video::VideoInfo,
    pub(super) out_info: gst_video::VideoInfo,
    pub(super) scale: usize,
    pub(super) sharpness: f32,
    pub(super) matrix: YuvMatrix,
    /// The frames as planar RGB when the worker converts them itself (the GPU's fallback).
    pub(super) sampler: TensorSampler,
    pub(super) scratch: Vec<f32>,
    pub(super) outputs: Vec<Vec<f32>>,
    /// Output buffers of a GPU batch, filled from its readback, pushed after it.
    pub(super) ready: Vec<gst::Buffer>,
    pub(super) pool: gst::BufferPool,
    /// In a live pipeline with the network upscaling, how late a batch's last frame may be
    /// when the worker takes it and still go through the network (a frame: it then leaves
    /// within the latency answered).
    pub(super) slack: Option<gst::ClockTime>,
    /// Output frames stay on the GPU (`memory:WgpuBuffer`): `pool` holds GPU buffers.
    pub(super) out_gpu: bool,
    /// The spatial path on the CPU that late batches take instead of the network.
    pub(super) fallback: Option<Spatial>,
    /// Whether the user was told that the network takes seconds a frame here.
    pub(super) slow_said: bool,
}

/// Network time a frame past which the user is told once what it costs and what is faster
/// (a UHD frame on a few CPU cores: about 50 s).
const SLOW_FRAME: std::time::Duration = std::time::Duration::from_secs(5);

/// The worker of one caps, and the streaming thread's side of it. The worker is the source
/// pad's task: a thread GStreamer owns (it posts the stream-status messages an application sets
/// thread priorities from) that holds the source pad's stream lock while it runs, as a
/// `queue`'s does. It waits for batches, upscales each and pushes its frames.
pub(super) struct Worker {
    /// Batches to upscale; closing it makes the task pause itself once it has done what was
    /// sent.
    pub(super) jobs: Option<mpsc::SyncSender<Batch>>,
    /// Batches the worker is done with.
    pub(super) done: mpsc::Receiver<Batch>,
    /// Batches sent and not yet back.
    pub(super) out: usize,
    /// What the task works with, locked while it upscales a batch; taken back once it has
    /// stopped.
    pub(super) work: Arc<Mutex<Option<Work>>>,
    /// The pad whose task the worker is, until the task has been stopped.
    pub(super) pad: Option<gst::Pad>,
}

impl Worker {
    /// Stops the task and hands back what it owned.
    pub(super) fn join(&mut self) -> Option<Work> {
        // Closed: the task, waiting for a batch or finishing one, pauses itself.
        self.jobs.take();
        let pad = self.pad.take()?;
        // Waits for the task to leave its function. Called from the task itself (it held the
        // element's last reference), GStreamer refuses: the task then ends on its own, and
        // its work is not ours to take.
        pad.stop_task().ok()?;
        self.work.lock().ok()?.take()
    }
}

impl Drop for Worker {
    /// The task never outlives its caps (it would run ONNX Runtime or the GPU while the
    /// process tears them down).
    fn drop(&mut self) {
        self.join();
    }
}

impl Upscale {
    /// Starts the worker of one caps: the source pad's task.
    pub(super) fn spawn(&self, work: Work) -> Result<Worker, String> {
        let (jobs, inbox) = mpsc::sync_channel::<Batch>(2);
        let (outbox, done) = mpsc::sync_channel::<Batch>(2);
        let element = self.obj().downgrade();
        let shared = self.shared.clone();
        let pad = self.obj().src_pad().clone();
        let weak_pad = pad.downgrade();
        let work = Arc::new(Mutex::new(Some(work)));
        let task_work = work.clone();
        let fault = mediaai_common::panics::fault("upscale-worker");
        // One batch per call: GStreamer calls the function again until it is paused.
        let task = move || {
            let mut batch = match inbox.recv() {
                Ok(batch) => batch,
                Err(_) => {
                    // The jobs were closed (new caps, stop): nothing more will come.
                    if let Some(pad) = weak_pad.upgrade() {
                        let _ = pad.pause_task();
                    }
                    return;
                }
            };
            let mut work = task_work.lock().unwrap_or_else(|e| e.into_inner());
            match (element.upgrade(), work.as_mut()) {
                (Some(e), Some(w)) => {
                    // A panic here must not end the task with the streaming thread waiting
                    // for this batch: it becomes an element error, and the batch goes back.
                    let done = mediaai_common::panics::caught("upscaling a batch", || {
                        assert!(!fault, "MEDIAAI_FAULT=upscale-worker");
                        e.imp().process(w, &mut batch, &shared)
                    });
                    if let Err(why) = done {
                        gst::element_error!(e, gst::LibraryError::Failed, ["{why}"]);
                        shared.fail(gst::FlowError::Error);
                        batch.buffers.clear();
                    }
                }
                _ => batch.buffers.clear(),
            }
            drop(work);
            if outbox.send(batch).is_err() {
                if let Some(pad) = weak_pad.upgrade() {
                    let _ = pad.pause_task();
                }
            }
        };
        pad.start_task(task)
            .map_err(|e| format!("could not start the source pad's task: {e}"))?;
        Ok(Worker {
            jobs: Some(jobs),
            done,
            out: 0,
            work,
            pad: Some(pad),
        })
    }

    /// On the worker: upscales `batch`, writes each frame into an output buffer and pushes it,
    /// in order. Stops at the first error (posted, and kept for upstream) or flush.
    pub(super) fn process(&self, work: &mut Work, batch: &mut Batch, shared: &Shared) {
        let src = self.obj().src_pad().clone();
        if matches!(work.engine, Upscaler::Gpu(_)) {
            match self.process_gpu(work, batch, shared) {
                Ok(()) => {
                    for buf in work.ready.drain(..) {
                        self.push(&src, buf, shared);
                    }
                    batch.buffers.clear();
                    return;
                }
                Err(e) => {
                    work.ready.clear();
                    gst::element_imp_warning!(
                        self,
                        gst::ResourceError::Failed,
                        ["GPU upscaling failed ({e}); continuing on the CPU"]
                    );
                    let (w, h) = (
                        work.in_info.width() as usize,
                        work.in_info.height() as usize,
                    );
                    work.engine = Upscaler::Spatial(Spatial::new(w, h, work.scale, work.sharpness));
                    work.outputs = vec![vec![0.0; 3 * w * h * work.scale * work.scale]];
                }
            }
        }
        let n = batch.buffers.len();
        // Judged again now that the worker takes it: a batch that waited here behind the one
        // before it (a network slower than the stream) past its slack is shed too.
        let due = batch.due.take();
        if let (Some(slack), Some(due), false) = (work.slack, due, batch.shed) {
            let late = live::late_since(self.obj().upcast_ref(), due).unwrap_or(0);
            if late > slack.nseconds() as i64 {
                gst::log!(CAT, imp = self, "batch {late} ns late at the worker: shed");
                batch.shed = true;
                shared.shed_by_worker.store(late, Ordering::SeqCst);
            }
        }
        // The CPU's spatial path upscales frame by frame into one output (so does a late
        // batch's, shed from the network); the network takes the batch at once.
        let shed = std::mem::take(&mut batch.shed) && work.fallback.is_some();
        let one_by_one = shed || matches!(work.engine, Upscaler::Spatial(_));
        if !one_by_one && matches!(&work.engine, Upscaler::Neural(net) if net.takes_frames()) {
            let writing = std::time::Instant::now();
            // The output buffers first, not while the session is held (a flushing pool is
            // no error).
            for inbuf in &batch.buffers {
                match self.output_buffer(work, inbuf, |_| {}) {
                    Ok(buf) => work.ready.push(buf),
                    Err(e) => shared.fail(e),
                }
            }
            let ran = match shared.stopped() {
                true => Ok(()),
                false => self.upscale_frames(work, batch, n),
            };
            match ran {
                Ok(()) => {
                    for buf in work.ready.drain(..) {
                        self.push(&src, buf, shared);
                    }
                }
                Err(e) => {
                    work.ready.clear();
                    match e {
                        FramesFailed::Input => {
                            shared.fail(frames::too_small(self.obj().upcast_ref()))
                        }
                        FramesFailed::Network(e) => {
                            gst::element_imp_error!(self, gst::LibraryError::Failed, ["{e}"]);
                            shared.fail(gst::FlowError::Error);
                        }
                    }
                }
            }
            batch.buffers.clear();
            self.log_network(work, batch, n, writing);
            return;
        }
        if !one_by_one {
            if let Err(e) = self.upscale(work, batch, n) {
                gst::element_imp_error!(self, gst::LibraryError::Failed, ["{e}"]);
                shared.fail(gst::FlowError::Error);
                batch.buffers.clear();
                return;
            }
        }
        let writing = std::time::Instant::now();
        for (i, inbuf) in batch.buffers.drain(..).enumerate() {
            if shared.stopped() {
                continue;
            }
            let spatial = match (&mut work.engine, &mut work.fallback) {
                (_, Some(fallback)) if shed => Some(fallback),
                (Upscaler::Spatial(sp), _) => Some(sp),
                _ => None,
            };
            if let Some(sp) = spatial {
                let input = match batch.inputs.get(i) {
                    Some(input) => input,
                    // Frames the streaming thread left as they came (for the GPU).
                    None => {
                        if !convert(&work.sampler, &work.in_info, &inbuf, &mut work.scratch) {
                            shared.fail(frames::too_small(self.obj().upcast_ref()));
                            continue;
                        }
                        &work.scratch
                    }
                };
                sp.run(input, &mut work.outputs[0]);
            }
            let output = &work.outputs[if one_by_one { 0 } else { i }];
            let matrix = work.matrix;
            let made = self.output_buffer(work, &inbuf, |frame| {
                write_rgb_planes(output, frame, matrix)
            });
            match made {
                Ok(buf) => self.push(&src, buf, shared),
                Err(e) => shared.fail(e),
            }
        }
        if !shed {
            self.log_network(work, batch, n, writing);
        }
        batch.converted = std::time::Duration::ZERO;
    }

    /// After a batch through the network: its timing in the debug log, and once a warning
    /// when the network takes seconds a frame.
    fn log_network(
        &self,
        work: &mut Work,
        batch: &mut Batch,
        n: usize,
        writing: std::time::Instant,
    ) {
        if let Upscaler::Neural(net) = &work.engine {
            let t = net.timing();
            let per_frame = t.network / n.max(1) as u32;
            if per_frame > SLOW_FRAME && !std::mem::replace(&mut work.slow_said, true) {
                let (w, h) = (work.in_info.width(), work.in_info.height());
                gst::element_imp_warning!(
                    self,
                    gst::CoreError::Failed,
                    [
                        "the network takes {:.1} s a frame of {w}x{h} here: method=spatial runs in real time, and a GPU provider (execution-provider=auto with ONNX Runtime's CUDA build, see README) runs the network many times faster",
                        per_frame.as_secs_f64()
                    ]
                );
            }
            gst::debug!(
                CAT,
                imp = self,
                "batch of {n} frames: converted in {:?} (streaming thread), tiles cut {:?}, network {:?} in {} inferences, tiles placed {:?}, frames written and pushed {:?}",
                batch.converted,
                t.gathered,
                t.network,
                t.inferences,
                t.placed,
                writing.elapsed()
            );
        }
        batch.converted = std::time::Duration::ZERO;
    }

    /// The first `n` frames of `batch` through a network that takes whole I420 frames: the
    /// input planes copied into the network's input, its output planes into the output buffers
    /// waiting in `work.ready` (one per frame), to push.
    fn upscale_frames(&self, work: &mut Work, batch: &Batch, n: usize) -> Result<(), FramesFailed> {
        let Work {
            engine: Upscaler::Neural(net),
            in_info,
            out_info,
            matrix,
            ready,
            ..
        } = work
        else {
            return Err(FramesFailed::Network("not the network".into()));
        };
        let (w, h) = (in_info.width() as usize, in_info.height() as usize);
        let unreadable = AtomicBool::new(false);
        let fill = |k: usize, planes: &mut [u8]| {
            let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(
                batch.buffers[k].as_ref(),
                in_info,
            );
            match frame {
                Ok(frame) => frames::copy_planes(&frame, planes),
                Err(_) => unreadable.store(true, Ordering::Relaxed),
            }
        };
        let mut unwritable = false;
        let take = |k: usize, planes: &[u8]| {
            let Some(out) = ready[k].get_mut() else {
                unwritable = true;
                return;
            };
            match gst_video::VideoFrameRef::from_buffer_ref_writable(out, out_info) {
                Ok(mut frame) => frames::copy_planes_into(planes, &mut frame),
                Err(_) => unwritable = true,
            }
        };
        net.run_frames(n, w, h, 2, *matrix, fill, take)
            .map_err(FramesFailed::Network)?;
        if unreadable.into_inner() {
            return Err(FramesFailed::Input);
        }
        if unwritable {
            return Err(FramesFailed::Network(
                "an output buffer that does not fit its caps".into(),
            ));
        }
        Ok(())
    }

    /// The GPU's batch: every frame uploaded as it came, one submission, and from its readback
    /// the output buffers in `work.ready`. `Err` when the GPU failed (nothing pushed yet).
    pub(super) fn process_gpu(
        &self,
        work: &mut Work,
        batch: &Batch,
        shared: &Shared,
    ) -> Result<(), String> {
        let Upscaler::Gpu(gpu) = &work.engine else {
            return Err("not the GPU engine".into());
        };
        if work.out_gpu && batch.buffers.len() == 1 {
            if let Some(done) = self.process_on_gpu(work, gpu, &batch.buffers[0]) {
                work.ready.push(done?);
                return Ok(());
            }
        }
        for (k, inbuf) in batch.buffers.iter().enumerate() {
            upload(gpu, k, inbuf, &work.in_info)?;
        }
        let places = gpu.out_places();
        let mut failed = None;
        let mut ready = std::mem::take(&mut work.ready);
        let ran = gpu.run(batch.buffers.len(), |k, bytes| {
            if failed.is_some() || shared.stopped() {
                return;
            }
            let made = self.output_buffer(work, &batch.buffers[k], |frame| {
                for (p, place) in places.iter().enumerate() {
                    let stride = frame.plane_stride()[p] as usize;
                    let Ok(data) = frame.plane_data_mut(p as u32) else {
                        return;
                    };
                    for y in 0..place.rows {
                        data[y * stride..][..place.row_bytes].copy_from_slice(
                            &bytes[place.offset + y * place.stride..][..place.row_bytes],
                        );
                    }
                }
            });
            match made {
                Ok(buf) => ready.push(buf),
                Err(e) => failed = Some(e),
            }
        });
        work.ready = ready;
        ran?;
        if let Some(e) = failed {
            shared.fail(e);
        }
        Ok(())
    }

    /// One frame upscaled into a GPU output frame (`memory:WgpuBuffer` downstream), its
    /// input taken where it lies when it is a GPU frame: no readback, and no upload either
    /// then (the GPU path's slots are laid out as the caps are). `None` when there is no GPU
    /// device (then the readback path runs).
    pub(super) fn process_on_gpu(
        &self,
        work: &Work,
        gpu: &GpuSpatial,
        inbuf: &gst::Buffer,
    ) -> Option<Result<gst::Buffer, String>> {
        let ctx = mediaai_common::gpu::context().ok()?;
        let input = gpumemory::buffer_gpu_frame(inbuf)
            .filter(|_| gpumemory::lies_as_caps(inbuf, &work.in_info));
        if input.is_none() {
            if let Err(e) = upload(gpu, 0, inbuf, &work.in_info) {
                return Some(Err(e));
            }
        }
        let outbuf = match work.pool.acquire_buffer(None) {
            Ok(b) => b,
            Err(e) => return Some(Err(format!("no output buffer: {e:?}"))),
        };
        let mut outbuf = outbuf;
        {
            let out = outbuf
                .get_mut()
                .expect("a buffer just taken from the pool is ours");
            if self.parent_copy_metadata(inbuf, out).is_err() {
                gst::warning!(CAT, imp = self, "metadata not copied");
            }
        }
        let target = gpumemory::buffer_gpu_frame(&outbuf)?;
        let source = input.map(|f| f.gpu_buffer(ctx));
        Some(
            gpu.run_on_gpu(&[source], &[target.overwrite_on_gpu()])
                .map(|()| outbuf),
        )
    }

    /// An output buffer from the pool with `inbuf`'s timestamps, flags and metas, its frame
    /// written by `write`.
    pub(super) fn output_buffer(
        &self,
        work: &Work,
        inbuf: &gst::Buffer,
        write: impl FnOnce(&mut gst_video::VideoFrameRef<&mut gst::BufferRef>),
    ) -> Result<gst::Buffer, gst::FlowError> {
        let mut outbuf = work.pool.acquire_buffer(None)?;
        let out = outbuf
            .get_mut()
            .expect("a buffer just taken from the pool is ours");
        if self.parent_copy_metadata(inbuf, out).is_err() {
            gst::warning!(CAT, imp = self, "metadata not copied");
        }
        // `write` fills the whole frame: a GPU output frame need not come down first.
        gpumemory::overwrite_on_host(out);
        let Ok(mut frame) = gst_video::VideoFrameRef::from_buffer_ref_writable(out, &work.out_info)
        else {
            gst::element_imp_error!(
                self,
                gst::ResourceError::Write,
                ["output buffer does not fit its caps"]
            );
            return Err(gst::FlowError::Error);
        };
        write(&mut frame);
        drop(frame);
        Ok(outbuf)
    }

    /// Pushes `buf` unless the stream is flushing or failed; a flow error is kept for
    /// upstream.
    pub(super) fn push(&self, src: &gst::Pad, buf: gst::Buffer, shared: &Shared) {
        if shared.stopped() {
            return;
        }
        if let Err(e) = src.push(buf) {
            if !(e == gst::FlowError::Flushing && shared.flushing.load(Ordering::SeqCst)) {
                gst::debug!(CAT, imp = self, "push: {e:?}");
            }
            shared.fail(e);
        }
    }

    /// The first `n` frames of `batch` upscaled by the network into `work.outputs`.
    pub(super) fn upscale(&self, work: &mut Work, batch: &Batch, n: usize) -> Result<(), String> {
        let (w, h) = (
            work.in_info.width() as usize,
            work.in_info.height() as usize,
        );
        let (inputs, outputs) = (&batch.inputs[..n], &mut work.outputs[..n]);
        match &mut work.engine {
            Upscaler::Neural(net) => net.run(inputs, w, h, work.scale, outputs),
            _ => Err("not the network".into()),
        }
    }
}

/// Why a batch did not go through a whole-frame network.
enum FramesFailed {
    /// An input buffer smaller than its caps.
    Input,
    /// The network (or an output buffer) failed: the message.
    Network(String),
}

/// `buf` (a `info` frame) as planar RGB (0..1) in `out`, sized here; `false` when the buffer
/// does not hold its caps' frame.
pub(super) fn convert(
    sampler: &TensorSampler,
    info: &gst_video::VideoInfo,
    buf: &gst::Buffer,
    out: &mut Vec<f32>,
) -> bool {
    out.resize(sampler.tensor_len(), 0.0);
    let Ok(frame) = gst_video::VideoFrameRef::from_buffer_ref_readable(buf.as_ref(), info) else {
        return false;
    };
    PixelSource::from_frame(&frame).is_some_and(|source| sampler.fill(&source, out))
}

/// `buf` (an `info` frame, mapped on the CPU) into the GPU path's slot `slot`.
pub(super) fn upload(
    gpu: &GpuSpatial,
    slot: usize,
    buf: &gst::Buffer,
    info: &gst_video::VideoInfo,
) -> Result<(), String> {
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buf.as_ref(), info)
        .map_err(|_| "an input buffer smaller than its caps".to_string())?;
    let n = frame.n_planes() as usize;
    let mut planes: [(&[u8], usize); 3] = [(&[], 0); 3];
    for (p, plane) in planes.iter_mut().enumerate().take(n) {
        *plane = (
            frame.plane_data(p as u32).map_err(|e| e.to_string())?,
            frame.plane_stride()[p] as usize,
        );
    }
    gpu.upload(slot, &planes[..n])
}
