//! Restoring one frame: the frames around it mapped, each plane's job set (deinterlace,
//! dropouts, denoise, chroma shift, levels), the pass run on the GPU (into GPU frames, or read
//! back) or on the CPU cores, chroma bleed and packing after it, timestamps set.

use super::*;

/// The parts of `$state` (a `State`) that finishing a frame in flight takes ([`Finishing`]),
/// borrowed field by field, so that a closure borrows only them.
macro_rules! finishing {
    ($state:expr) => {
        Finishing {
            in_flight: &mut $state.in_flight,
            work_info: &$state.work_info,
            out_info: &$state.out_info,
            packed: &$state.packed,
            gpu: &mut $state.gpu,
            denoise: &mut $state.denoise,
            padded: &mut $state.padded,
            padded_slots: &mut $state.padded_slots,
            bleed: &mut $state.bleed,
            ready: &mut $state.ready,
            spare_blocks: &mut $state.spare_blocks,
        }
    };
}

impl VhsRestore {
    /// Restores `pending[0]` (its neighbours: `prev` and `pending[1]`, or itself at the ends)
    /// into one or two output buffers.
    pub(super) fn restore_oldest(
        &self,
        state: &mut State,
        s: &Settings,
    ) -> Result<(), gst::FlowError> {
        // Handed to the thread pool once per frame: the frame's parallel passes then split
        // their work among the pool's threads, instead of each waking them from the
        // streaming thread and waiting.
        rayon::scope(|_| self.restore_oldest_in_pool(state, s))
    }

    fn restore_oldest_in_pool(
        &self,
        state: &mut State,
        s: &Settings,
    ) -> Result<(), gst::FlowError> {
        let Some(cur) = state.pending.pop_front() else {
            return Ok(());
        };
        let next = state
            .pending
            .front()
            .cloned()
            .unwrap_or_else(|| cur.clone());
        let prev = state.prev.clone().unwrap_or_else(|| cur.clone());
        let element = self.obj();
        let (element, info) = (element.upcast_ref(), &state.work_info);
        let (fp, fc, fn_) = (
            frames::readable(element, prev.as_ref(), info)?,
            frames::readable(element, cur.as_ref(), info)?,
            frames::readable(element, next.as_ref(), info)?,
        );
        let outputs = if state.field_rate { 2 } else { 1 };
        let (deinterlace, order) = state.fields_of(&cur, state.order_votes, state.prev.is_some());
        // The camera's motion since the last frame (from one field of interlaced frames, rows
        // counted in it), followed by each output's temporal step in each plane's pixels: a
        // field-rate output is half a frame after the one before.
        let luma = plane(&fc, 0);
        let step = if deinterlace { 2 } else { 1 };
        // Beside the measurements (of a frame not measured ahead: the first), on the pool's
        // other threads: the motion, and the CPU path's padded copies of frames new to it (made
        // again below, if still missing, when the GPU path fails).
        let mut global = std::mem::take(&mut state.global);
        let (mut search, mut blocks, mut ahead_blocks) = (
            std::mem::take(&mut state.search),
            std::mem::take(&mut state.blocks),
            std::mem::take(&mut state.ahead_blocks),
        );
        // The motion found for this frame while the one before was restored (below), if it
        // was found as this frame needs it.
        let ahead = state.ahead.take();
        let ours = ahead.filter(|a| a.key == cur.as_ptr() as usize);
        let held = state.prev.is_some();
        let mut copies = std::mem::take(&mut state.padded);
        let mut slots = std::mem::take(&mut state.padded_slots);
        let keys = [&prev, &cur, &next].map(|b| b.as_ptr() as usize);
        let planes = [&fp, &fc, &fn_].map(|f| [0, 1, 2].map(|p| plane(f, p)));
        let pad_now = deinterlace && state.gpu.is_none();
        // Measured while the frame before was restored (below), unless it came first.
        let measured = ours.is_some_and(|a| a.measured);
        let ((), (found, tff, votes)) = rayon::join(
            || {
                if !measured {
                    self.measure(&mut state.measured, s, &fc);
                }
            },
            || {
                let evidence = ours.and_then(|a| a.evidence);
                let (tff, votes) = vote(order, || {
                    evidence
                        .unwrap_or_else(|| stages::field_order_evidence(planes[0][0], planes[1][0]))
                });
                if pad_now {
                    fill_padded(&mut slots, &mut copies, keys, &planes);
                }
                // Off, nothing is estimated, and the estimators start afresh when it is
                // switched on.
                let found = if s.motion {
                    let wanted = reading(deinterlace, tff, s.block_motion);
                    match ours.and_then(|a| a.motion) {
                        Some((read, found)) if read == wanted => {
                            std::mem::swap(&mut blocks, &mut ahead_blocks);
                            found
                        }
                        _ => {
                            if ahead.is_some_and(|a| a.motion.is_some()) {
                                // Read otherwise than this frame needs (the field order or a
                                // setting changed): the frame before is read again first.
                                global.reset();
                                search.reset();
                                if held {
                                    let before = planes[0][0];
                                    estimate(&mut global, &mut search, &mut blocks, before, wanted);
                                }
                            }
                            estimate(&mut global, &mut search, &mut blocks, luma, wanted)
                        }
                    }
                } else {
                    global.reset();
                    search.reset();
                    None
                };
                (found, tff, votes)
            },
        );
        (state.padded, state.padded_slots) = (copies, slots);
        if let Some(votes) = votes {
            state.order_votes = votes;
        }
        // What the next frame will need, found beside this frame's restoring (below): its
        // field order and the motion into it, where the settings stay.
        let upcoming = state.pending.front().map(|b| {
            (
                b.as_ptr() as usize,
                state.fields_of(b, state.order_votes, true),
            )
        });
        let first = if tff { 0 } else { 1 };
        let (pts, duration) = (cur.pts(), cur.duration());
        let (finishes, strengths, shares) = plane_settings(&state.measured, s, &fc);
        let [dx, dy] = found.unwrap_or_default();
        let per_output = if outputs == 2 { 0.5 } else { 1.0 };
        let (w0, h0) = (luma.width as f32, luma.height as f32);
        // Each plane's share of the motion, for the denoiser (per output) and the deinterlacer:
        // it reads the other fields and frames where the content was, in whole pixels over half
        // a frame and a frame (horizontal motion only: the other field's rows lie between the
        // kept ones).
        let scale: [[f32; 2]; 3] = std::array::from_fn(|p| {
            let q = planes[1][p];
            [q.width as f32 / w0, q.height as f32 / h0]
        });
        let motions =
            scale.map(|[kx, ky]| [dx * per_output * kx, dy * step as f32 * per_output * ky]);
        let shifts =
            scale.map(|[kx, _]| [(dx * kx * 0.5).round() as i32, (dx * kx).round() as i32]);
        // Where the blocks move otherwise than the camera (a zoom, a turn), the luma denoiser
        // follows each block's vector (in the field's pixels and rows, as the camera's motion)
        // instead; chroma, a quarter of the pixels, follows the camera (PSNR-Y does not depend
        // on it, and block by block it would read as many pieces of rows again as luma).
        let vectors = (found.is_some() && blocks.cols > 0).then_some(&blocks);
        let luma_blocks = vectors.map(|_| BlockMotion {
            block: [stages::MOTION_BLOCK, stages::MOTION_BLOCK * step],
            scale: [per_output, step as f32 * per_output],
        });
        let block_motion = [luma_blocks, None, None];
        let lines =
            u32::try_from(s.head_switch_lines).unwrap_or(state.measured.head_lines.round() as u32);
        let job = FrameJob {
            outputs,
            deinterlace,
            first,
            shifts,
            motions,
            finishes,
            strengths,
            shares,
            block_motion,
            lines,
            height: fc.height(),
            times: (pts, duration),
        };
        let pipelined = state.pipelined;

        // This frame restored on the pool while the motion into the next is found beside it
        // (on 2 cores the search no longer waits alone before the restoring): done (its
        // buffers), or on its way back from the GPU (`None`: in `in_flight`).
        let restore = || -> Result<Option<[Option<gst::Buffer>; 2]>, gst::FlowError> {
            let acquire = |pool: &gst::BufferPool| {
                pool.acquire_buffer(None).inspect_err(|e| {
                    gst::element_imp_error!(
                        self,
                        gst::CoreError::Failed,
                        ["no output buffer: {e:?}"]
                    );
                })
            };
            let mut outs: [Option<gst::Buffer>; 2] = [None, None];
            // Packed RGB: restored into planar frames first, packed below.
            let mut planars: [Option<gst::Buffer>; 2] = [None, None];
            for k in 0..outputs {
                outs[k] = Some(acquire(&state.pool)?);
                if let Some(p) = &state.packed {
                    planars[k] = Some(acquire(&p.pool)?);
                }
            }
            if s.chroma_bleed != state.bleed_level {
                state.bleed = bleed(&state.work_info, s.chroma_bleed);
                state.bleed_level = s.chroma_bleed;
            }
            // The three frames as the GPU path's slots take them: each with its key.
            let keyed: [(usize, [Plane; 3]); 3] = std::array::from_fn(|i| (keys[i], planes[i]));
            // Output frames that stay on the GPU (memory:WgpuBuffer downstream) are restored
            // straight into their GPU buffers when nothing after the GPU pass touches them on the
            // CPU; otherwise the mapped path below writes them (and they go up again when used).
            let resident = state.out_gpu
                && state.packed.is_none()
                && lines == 0
                && !state.bleed.enabled()
                && state.gpu.as_ref().is_some_and(|g| {
                    (0..3).all(|p| {
                        let place = g.places()[p];
                        state.out_info.offset()[p] == place.offset
                            && state.out_info.stride()[p] as usize == place.stride
                    })
                });
            let mut resident_done = false;
            if let (true, Some(gpu)) = (resident, state.gpu.as_mut()) {
                let targets = outs
                    .each_ref()
                    .map(|o| o.as_ref().and_then(|b| gpumemory::buffer_gpu_frame(b)));
                if let Some(first_target) = targets[0] {
                    let buffers = [
                        first_target.overwrite_on_gpu(),
                        targets[1].unwrap_or(first_target).overwrite_on_gpu(),
                    ];
                    let ran = gpu.frames(keyed).and_then(|slots| {
                        gpu.run_into(
                            &job.gpu_jobs(slots)[..outputs],
                            vectors,
                            &buffers[..outputs],
                        )
                    });
                    resident_done = self.gpu_ran(&mut state.gpu, &mut state.denoise, ran);
                }
            }
            // Pipelined: submitted now, read back once the next frame is submitted.
            if let (false, true, Some(gpu)) = (resident_done, pipelined, state.gpu.as_mut()) {
                if gpu.can_submit() {
                    let submitted = gpu
                        .frames(keyed)
                        .and_then(|slots| gpu.submit(&job.gpu_jobs(slots)[..outputs], vectors));
                    if let Ok(pending) = submitted {
                        // A spare's allocation is kept: none after the first frames.
                        let vectors = vectors.map(|v| {
                            let mut spare = state.spare_blocks.pop().unwrap_or_default();
                            spare.clone_from(v);
                            spare
                        });
                        state.in_flight.push_back(InFlight {
                            pending,
                            outs,
                            planars,
                            frames: [prev.clone(), cur.clone(), next.clone()],
                            job,
                            vectors,
                        });
                        // The frame before read back while this one is on the GPU (and the
                        // look-ahead beside).
                        while state.in_flight.len() > 1 {
                            self.finish_oldest(finishing!(state))?;
                        }
                        return Ok(None);
                    }
                    self.gpu_ran(&mut state.gpu, &mut state.denoise, submitted.map(|_| ()));
                }
            }
            if !resident_done {
                let mut frames = map_targets(
                    self,
                    &state.packed,
                    &state.out_info,
                    &mut outs,
                    &mut planars,
                )?;
                let on_gpu = match state.gpu.as_mut() {
                    None => false,
                    Some(gpu) => {
                        let ran = gpu.frames(keyed).and_then(|slots| {
                            let jobs = job.gpu_jobs(slots);
                            gpu.run(&jobs[..outputs], vectors, |k, p, restored| {
                                write_restored(&mut frames, k, p, restored, planes[1][p], &job)
                            })
                        });
                        self.gpu_ran(&mut state.gpu, &mut state.denoise, ran)
                    }
                };
                // The CPU path, unless the GPU restored the frames (all mapped: checked above).
                if !on_gpu {
                    restore_on_cpu(
                        (
                            &mut state.denoise,
                            &mut state.padded,
                            &mut state.padded_slots,
                        ),
                        &mut frames,
                        &job,
                        &planes,
                        keys,
                        vectors,
                    );
                }
                // Chroma bleed, on the restored frame of either path: chroma refitted to luma.
                if state.bleed.enabled() {
                    for vf in frames.iter_mut().take(outputs).flatten() {
                        refit_chroma(&mut state.bleed, vf);
                    }
                }
            }
            let done = deliver(
                element,
                &state.packed,
                &state.out_info,
                outs,
                planars,
                &cur,
                &job,
            )?;
            // Restored now: after the frames still on their way back from the GPU.
            while !state.in_flight.is_empty() {
                self.finish_oldest(finishing!(state))?;
            }
            Ok(Some(done))
        };
        let look_ahead = |(key, (deinterlace, order)): (usize, (bool, Order))| {
            let next_luma = planes[2][0];
            let mut evidence = None;
            let (tff, _) = vote(order, || {
                *evidence.insert(stages::field_order_evidence(planes[1][0], next_luma))
            });
            let motion = s.motion.then(|| {
                let wanted = reading(deinterlace, tff, s.block_motion);
                let found = estimate(
                    &mut global,
                    &mut search,
                    &mut ahead_blocks,
                    next_luma,
                    wanted,
                );
                (wanted, found)
            });
            Ahead {
                key,
                evidence,
                motion,
                measured: false,
            }
        };
        // The next frame measured beside this one's restoring, as its motion is found.
        let measure_next = || {
            if upcoming.is_some() {
                self.measure(&mut state.measured, s, &fn_);
            }
        };
        let (restored, (mut ahead, ())) = rayon::join(restore, || {
            rayon::join(|| upcoming.map(look_ahead), measure_next)
        });
        if let Some(a) = ahead.as_mut() {
            a.measured = true;
        }
        (state.global, state.search) = (global, search);
        (state.blocks, state.ahead_blocks, state.ahead) = (blocks, ahead_blocks, ahead);
        // Restored now (after the frames that were on their way back), or on its way.
        if let Some(done) = restored? {
            state.ready.extend(done.into_iter().flatten());
        }
        drop((fp, fc, fn_));
        state.prev = Some(cur);
        state.forget_released_frames();
        Ok(())
    }
}

/// How one frame is restored, whichever path runs it: everything but its frames, its block
/// vectors and the denoisers' state.
#[derive(Clone, Copy, Debug)]
pub(super) struct FrameJob {
    outputs: usize,
    deinterlace: bool,
    /// The first field's parity (0: the top field first).
    first: usize,
    /// Per plane: the deinterlacer's shifts, the denoiser's motion, the finishing, the
    /// denoising strength and its spatial share, and how it takes the block vectors.
    shifts: [[i32; 2]; 3],
    motions: [[f32; 2]; 3],
    finishes: [Finish; 3],
    strengths: [f64; 3],
    shares: [f64; 3],
    block_motion: [Option<BlockMotion>; 3],
    /// Head-switching lines repaired at the bottom of a frame `height` rows high.
    lines: u32,
    height: u32,
    /// The input frame's timestamp and duration.
    times: (Option<gst::ClockTime>, Option<gst::ClockTime>),
}

impl FrameJob {
    /// Output `k` (0: the first field's frame) keeps this parity; the frames (0 prev, 1 cur,
    /// 2 next) holding the missing rows half a field before and after: first field, prev's
    /// and cur's; second field, cur's and next's.
    fn roles(&self, k: usize) -> (usize, usize, usize) {
        if k == 0 {
            (self.first, 0, 1)
        } else {
            (1 - self.first, 1, 2)
        }
    }

    /// The GPU path's jobs, the frames in `slots`.
    fn gpu_jobs(&self, slots: [usize; 3]) -> [[PlaneJob; 3]; 2] {
        std::array::from_fn(|k| {
            std::array::from_fn(|p| PlaneJob {
                source: Slots::of(slots, self.deinterlace, self.roles(k), self.shifts[p]),
                denoise: self.strengths[p],
                spatial_share: self.shares[p],
                finish: self.finishes[p],
                motion: self.motions[p],
                blocks: self.block_motion[p],
            })
        })
    }
}

/// A frame restored on the GPU whose results are on their way back (`pipelined`): its
/// output buffers, and what restoring it on the CPU takes should the readback fail.
pub(super) struct InFlight {
    pending: crate::gpu::Pending,
    outs: [Option<gst::Buffer>; 2],
    planars: [Option<gst::Buffer>; 2],
    /// The frames before, at and after it.
    frames: [gst::Buffer; 3],
    job: FrameJob,
    /// Its block vectors (a spare kept between frames).
    vectors: Option<MotionField>,
}

impl InFlight {
    /// Gives up its results (a flush); the buffers go back to their pools.
    pub(super) fn abandon(self, gpu: Option<&GpuRestore>, spare: &mut Vec<MotionField>) {
        if let Some(g) = gpu {
            g.abandon(self.pending);
        }
        spare.extend(self.vectors);
    }
}

impl VhsRestore {
    /// Reads the oldest frame in flight back from the GPU into its output buffers and queues
    /// them for pushing; a readback that fails (or a GPU path left since) restores the frame
    /// on the CPU from its frames instead.
    pub(super) fn finish_in_flight(&self, state: &mut State) -> Result<(), gst::FlowError> {
        self.finish_oldest(finishing!(state))
    }

    /// [`Self::finish_in_flight`] on the parts of the state it changes.
    fn finish_oldest(&self, state: Finishing<'_>) -> Result<(), gst::FlowError> {
        let Some(InFlight {
            pending,
            mut outs,
            mut planars,
            frames: inputs,
            job,
            vectors,
        }) = state.in_flight.pop_front()
        else {
            return Ok(());
        };
        let element = self.obj();
        let element = element.upcast_ref();
        let info = state.work_info;
        let mapped = [&inputs[0], &inputs[1], &inputs[2]]
            .map(|b| frames::readable(element, b.as_ref(), info));
        let [Ok(fp), Ok(fc), Ok(fn_)] = mapped else {
            return Err(gst::FlowError::Error);
        };
        let planes = [&fp, &fc, &fn_].map(|f| [0, 1, 2].map(|p| plane(f, p)));
        let mut out_frames =
            map_targets(self, state.packed, state.out_info, &mut outs, &mut planars)?;
        let read = match state.gpu.as_mut() {
            Some(gpu) => gpu.finish(pending, |k, p, restored| {
                write_restored(&mut out_frames, k, p, restored, planes[1][p], &job)
            }),
            None => Err("the GPU path was left before this frame came back".into()),
        };
        if read.is_err() {
            if state.gpu.is_some() {
                self.gpu_ran(&mut *state.gpu, &mut *state.denoise, read);
            }
            let keys = inputs.each_ref().map(|b| b.as_ptr() as usize);
            restore_on_cpu(
                (
                    &mut *state.denoise,
                    &mut *state.padded,
                    &mut *state.padded_slots,
                ),
                &mut out_frames,
                &job,
                &planes,
                keys,
                vectors.as_ref(),
            );
        }
        if state.bleed.enabled() {
            for vf in out_frames.iter_mut().take(job.outputs).flatten() {
                refit_chroma(&mut *state.bleed, vf);
            }
        }
        drop(out_frames);
        let done = deliver(
            element,
            state.packed,
            state.out_info,
            outs,
            planars,
            &inputs[1],
            &job,
        )?;
        state.ready.extend(done.into_iter().flatten());
        state.spare_blocks.extend(vectors);
        Ok(())
    }
}

/// What finishing a frame in flight changes (or reads) of the state: all but the
/// measurements, so that it can run beside the look-ahead measuring the next frame.
struct Finishing<'a> {
    in_flight: &'a mut VecDeque<InFlight>,
    work_info: &'a gst_video::VideoInfo,
    out_info: &'a gst_video::VideoInfo,
    packed: &'a Option<Packed>,
    gpu: &'a mut Option<GpuRestore>,
    denoise: &'a mut [Denoise; 3],
    padded: &'a mut [[Padded; 3]; 3],
    padded_slots: &'a mut FrameSlots,
    bleed: &'a mut Bleed,
    ready: &'a mut VecDeque<gst::Buffer>,
    spare_blocks: &'a mut Vec<MotionField>,
}

/// Where a frame is restored, mapped for writing (every byte of it about to be written): the
/// output buffers, or for packed RGB (`packed`) the planar frames packed into them after; an
/// element error if one cannot be mapped.
fn map_targets<'a>(
    imp: &VhsRestore,
    packed: &'a Option<Packed>,
    out_info: &'a gst_video::VideoInfo,
    outs: &'a mut [Option<gst::Buffer>; 2],
    planars: &'a mut [Option<gst::Buffer>; 2],
) -> Result<[Option<gst_video::VideoFrameRef<&'a mut gst::BufferRef>>; 2], gst::FlowError> {
    let (targets, info) = match packed {
        Some(p) => (planars, &p.out_info),
        None => (outs, out_info),
    };
    let wanted = targets.iter().filter(|t| t.is_some()).count();
    let frames = targets.each_mut().map(|t| {
        let b = t.as_mut()?.get_mut()?;
        // Every byte is written: a GPU output frame need not come down first.
        gpumemory::overwrite_on_host(b);
        gst_video::VideoFrameRef::from_buffer_ref_writable(b, info).ok()
    });
    if frames.iter().filter(|f| f.is_some()).count() < wanted {
        gst::element_imp_error!(
            imp,
            gst::CoreError::Failed,
            ["an output buffer could not be mapped as {info:?}"]
        );
        return Err(gst::FlowError::Error);
    }
    Ok(frames)
}

/// Plane `p` of output `k` as the GPU restored it, written into its mapped frame, with the
/// head-switching lines repaired from the input frame's plane (`input`).
fn write_restored(
    frames: &mut [Option<gst_video::VideoFrameRef<&mut gst::BufferRef>>; 2],
    k: usize,
    p: usize,
    restored: Plane,
    input: Plane,
    job: &FrameJob,
) {
    let Some(vf) = frames[k].as_mut() else {
        return;
    };
    let stride = vf.plane_stride()[p] as usize;
    if let Ok(data) = vf.plane_data_mut(p as u32) {
        mediaai_common::staging::copy_plane_out(restored, data, stride);
        repair_head_switching(data, stride, input, job.lines, job.height);
    }
}

/// The CPU path: each output frame's planes restored from the frames around (`planes`, keyed
/// `keys` for the padded copies deinterlacing reads) by the denoisers, the three planes in one
/// parallel region (one wake-up of the pool per frame).
fn restore_on_cpu(
    (denoise, padded, padded_slots): (&mut [Denoise; 3], &mut [[Padded; 3]; 3], &mut FrameSlots),
    frames: &mut [Option<gst_video::VideoFrameRef<&mut gst::BufferRef>>; 2],
    job: &FrameJob,
    planes: &[[Plane; 3]; 3],
    keys: [usize; 3],
    vectors: Option<&MotionField>,
) {
    // This frame's strengths (the past is forgotten where a filter is switched on or off).
    for ((d, strength), share) in denoise.iter_mut().zip(job.strengths).zip(job.shares) {
        d.set_spatial_share(share);
        d.set_strength(strength);
    }
    // Deinterlacing reads the frames around along the motion, past their rows' ends: from
    // copies padded for it, each input frame copied once.
    let slots = job
        .deinterlace
        .then(|| fill_padded(padded_slots, padded, keys, planes));
    for (k, vf) in frames.iter_mut().take(job.outputs).flatten().enumerate() {
        let strides: [usize; 3] = std::array::from_fn(|p| vf.plane_stride()[p] as usize);
        let [d0, d1, d2, _] = vf.planes_data_mut();
        let [n0, n1, n2] = &mut *denoise;
        let copies = &*padded;
        let plane_job = |(p, dst, denoise): (usize, &mut [u8], &mut Denoise)| {
            let frames = match slots {
                Some(slots) => slots.map(|slot| copies[slot][p].plane()),
                None => planes.map(|f| f[p]),
            };
            let stride = strides[p];
            let source = Source::of(frames, job.deinterlace, job.roles(k), job.shifts[p]);
            denoise.set_motion(job.motions[p]);
            if let (Some(field), Some(b)) = (vectors, job.block_motion[p]) {
                denoise.set_motion_field(field, b.block, b.scale);
            }
            stages::restore(source, dst, stride, denoise, job.finishes[p]);
            repair_head_switching(dst, stride, frames[1], job.lines, job.height);
        };
        [(0, d0, n0), (1, d1, n1), (2, d2, n2)]
            .into_par_iter()
            .for_each(plane_job);
    }
}

/// Output buffers restored: packed RGB packed from its planar frames, each stamped with the
/// input frame's flags, metas and (its share of) its time.
fn deliver(
    element: &gst::Element,
    packed: &Option<Packed>,
    out_info: &gst_video::VideoInfo,
    outs: [Option<gst::Buffer>; 2],
    planars: [Option<gst::Buffer>; 2],
    cur: &gst::Buffer,
    job: &FrameJob,
) -> Result<[Option<gst::Buffer>; 2], gst::FlowError> {
    let mut done: [Option<gst::Buffer>; 2] = [None, None];
    for (k, (out, planar)) in outs.into_iter().zip(planars).enumerate().take(job.outputs) {
        let mut out = out.ok_or(gst::FlowError::Error)?;
        if let (Some(p), Some(b)) = (packed, &planar) {
            pack(element, p, b, &p.out_info, &mut out, out_info)?;
        }
        stamp(
            out.get_mut().expect("a pooled buffer is writable"),
            cur,
            job.times,
            k,
            job.outputs,
        );
        done[k] = Some(out);
    }
    Ok(done)
}

/// The slots of the frames keyed `keys` among the CPU path's padded copies (see
/// `stages::PAD`), copying those not yet there from `planes`, a plane per task.
fn fill_padded(
    slots: &mut FrameSlots,
    copies: &mut [[Padded; 3]; 3],
    keys: [usize; 3],
    planes: &[[Plane; 3]; 3],
) -> [usize; 3] {
    let filled = slots.assign(keys, |slot, i| {
        copies[slot]
            .par_iter_mut()
            .zip(planes[i])
            .for_each(|(copy, p)| copy.fill(p, stages::PAD));
        Ok::<_, std::convert::Infallible>(())
    });
    filled.unwrap_or_else(|never| match never {})
}

/// Each plane's finishing (dropouts, chroma shift, levels or saturation), denoising strength
/// and its spatial filter's share of it for the frame `fc`, from the settings and what was
/// measured.
fn plane_settings(
    measured: &measure::Measured,
    s: &Settings,
    fc: &gst_video::VideoFrameRef<&gst::BufferRef>,
) -> ([Finish; 3], [f64; 3], [f64; 3]) {
    let levels = Levels {
        black: s.black.or(measured.levels.map(|l| l.black)).unwrap_or(16.0),
        white: s
            .white
            .or(measured.levels.map(|l| l.white))
            .unwrap_or(235.0),
    };
    let shift = match s.chroma_shift {
        Some(px) => px * SHIFT_ONE,
        None => (measured.chroma_shift * SHIFT_ONE as f64).round() as i32,
    };
    let luma_width = fc.width() as usize;
    let finishes: [Finish; 3] = std::array::from_fn(|p| {
        let dropouts = (s.dropout_threshold > 0).then(|| Dropouts {
            threshold: s.dropout_threshold.min(255) as u8,
            min_run: (8 * fc.comp_width(p as u32) as usize).div_ceil(luma_width.max(1)),
        });
        match p {
            0 => Finish {
                dropouts,
                shift: 0,
                map: Linear::levels(levels),
            },
            _ => Finish {
                dropouts,
                shift,
                // Bars show the chroma amplitude the tape kept: its inverse restores it.
                map: Linear::saturation(
                    s.saturation
                        .or(measured.bars.map(|b| 1.0 / b.saturation))
                        .unwrap_or(1.0),
                ),
            },
        }
    });
    let strength = |set: f64, noise: Option<f64>, per_sigma: f64| {
        if set >= 0.0 {
            set
        } else {
            noise.map_or(0.0, |sigma| per_sigma * sigma)
        }
    };
    let along_rows = measured.noise_along_rows.unwrap_or(1.0);
    // Along block motion, measured luma noise is taken harder in time, its spatial filter
    // kept as it was.
    let harder = |sigma: f64| {
        if s.motion && s.block_motion {
            luma_temporal(sigma, along_rows)
        } else {
            1.0
        }
    };
    let luma_per_sigma = measured.noise[0].map_or(DENOISE_PER_SIGMA, |sigma| {
        luma_denoise_per_sigma(sigma, along_rows) * harder(sigma)
    });
    let strengths = [
        strength(s.luma_denoise, measured.noise[0], luma_per_sigma),
        strength(s.chroma_denoise, measured.noise[1], DENOISE_PER_SIGMA),
        strength(s.chroma_denoise, measured.noise[1], DENOISE_PER_SIGMA),
    ];
    let luma_share = match (s.luma_denoise >= 0.0, measured.noise[0]) {
        (false, Some(sigma)) => stages::SPATIAL / harder(sigma),
        _ => stages::SPATIAL,
    };
    (
        finishes,
        strengths,
        [luma_share, stages::SPATIAL, stages::SPATIAL],
    )
}

/// Output `k` of `outputs` made from `cur`: its flags (progressive now) and metas, and its
/// time: `cur`'s, or half of it each at field rate.
fn stamp(
    o: &mut gst::BufferRef,
    cur: &gst::Buffer,
    (pts, duration): (Option<gst::ClockTime>, Option<gst::ClockTime>),
    k: usize,
    outputs: usize,
) {
    let _ = cur.copy_into(
        o,
        gst::BufferCopyFlags::FLAGS | gst::BufferCopyFlags::META,
        ..,
    );
    o.unset_video_flags(
        gst_video::VideoBufferFlags::INTERLACED
            | gst_video::VideoBufferFlags::TFF
            | gst_video::VideoBufferFlags::RFF
            | gst_video::VideoBufferFlags::ONEFIELD,
    );
    match (pts, duration, outputs) {
        (_, _, 1) => {
            o.set_pts(pts);
            o.set_duration(duration);
        }
        (Some(p), Some(d), _) => {
            let half = d / 2;
            o.set_pts(p + half * k as u64);
            o.set_duration(if k == 0 { half } else { d - half });
        }
        _ => {
            o.set_pts(pts);
            o.set_duration(gst::ClockTime::NONE);
        }
    }
}

/// Chroma bleed reduction on a restored frame: chroma refitted to its luma.
fn refit_chroma(bleed: &mut Bleed, vf: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>) {
    let (luma_stride, chroma_stride) =
        (vf.plane_stride()[0] as usize, vf.plane_stride()[1] as usize);
    let (width, height) = (vf.comp_width(0) as usize, vf.comp_height(0) as usize);
    let [d0, d1, d2, _] = vf.planes_data_mut();
    let luma = Plane {
        data: d0,
        stride: luma_stride,
        width,
        height,
        pad: 0,
    };
    bleed.apply(luma, d1, d2, chroma_stride);
}

/// A frame's field order: set (by the property or the buffer), or `Err` with the running
/// votes and whether a frame before it is held (see [`vote`]).
pub(super) type Order = Result<bool, (f64, bool)>;

/// How a frame's motion is read (see [`estimate`]): from which field, rows how far apart,
/// and whether block by block.
type Reading = (usize, usize, bool);

/// How a frame's motion is read: from its first field (the top one, or the bottom one
/// bottom field first), rows two apart, where it is deinterlaced; otherwise from every row.
fn reading(deinterlace: bool, tff: bool, block_motion: bool) -> Reading {
    let (from, step) = if deinterlace {
        (usize::from(!tff), 2)
    } else {
        (0, 1)
    };
    (from, step, block_motion)
}

/// What was found for the next frame while the one before it was restored: keyed by its
/// buffer; the field-order evidence between the two (where the order is voted on), the
/// motion into it with how it was read, and whether it was measured.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ahead {
    key: usize,
    evidence: Option<f64>,
    motion: Option<(Reading, Option<[f32; 2]>)>,
    measured: bool,
}

impl State {
    /// Whether `b` is deinterlaced and its field order (mixed streams: each buffer says
    /// whether it is interlaced and which field is first; otherwise set, or voted on from the
    /// picture with `votes` so far, `held`: a frame before it is held).
    pub(super) fn fields_of(&self, b: &gst::Buffer, votes: f64, held: bool) -> (bool, Order) {
        let flags = b.video_flags();
        let deinterlace = self.deinterlace
            && (!self.mixed || flags.contains(gst_video::VideoBufferFlags::INTERLACED));
        let order = match self.tff {
            Some(tff) => Ok(tff),
            None if self.mixed => Ok(flags.contains(gst_video::VideoBufferFlags::TFF)),
            None => Err((votes, held)),
        };
        (deinterlace, order)
    }
}

/// Top field first, from `order`, and the votes updated with `evidence` (asked only where
/// the order is voted on and a frame before is held).
fn vote(order: Order, evidence: impl FnOnce() -> f64) -> (bool, Option<f64>) {
    match order {
        Ok(tff) => (tff, None),
        Err((mut votes, held)) => {
            if held {
                votes = 0.95 * votes + evidence();
            }
            (votes >= 0.0, Some(votes))
        }
    }
}

/// The camera's motion into field `from` of `luma` (rows `step` apart; 1: the frame) from
/// the picture the estimators read last, and with `block_motion` its blocks' into `blocks`
/// (none where every block follows the camera); `None` for the first picture.
fn estimate(
    global: &mut GlobalMotion,
    search: &mut MotionSearch,
    blocks: &mut MotionField,
    luma: Plane,
    (from, step, block_motion): Reading,
) -> Option<[f32; 2]> {
    let found = global.next(luma, from, step);
    let centre = found.unwrap_or_default().map(|v| v.round() as i32);
    // Off, the search starts afresh when it is switched on.
    let searched = block_motion && search.next(rows_of(luma, from, step), centre, blocks);
    if !block_motion {
        search.reset();
    }
    // Blocks that all follow the camera's motion add nothing to it.
    let along_camera = |g: [f32; 2]| {
        blocks
            .vectors
            .iter()
            .all(|v| (v[0] - g[0]).abs() <= SAME_MOTION && (v[1] - g[1]).abs() <= SAME_MOTION)
    };
    if !searched || found.is_some_and(along_camera) {
        blocks.cols = 0;
    }
    found
}

/// Pixels (of the field the motion is measured on) within which every block's vector must
/// lie of the camera's motion for the blocks to be left out (see `stages::MotionSearch`).
const SAME_MOTION: f32 = 0.25;

/// Rows `from`, `from + step`, ... of `p` as a plane (one field of an interlaced frame).
fn rows_of(p: Plane, from: usize, step: usize) -> Plane {
    Plane {
        data: &p.data[(from * p.stride).min(p.data.len())..],
        stride: p.stride * step,
        height: p.height.saturating_sub(from).div_ceil(step),
        ..p
    }
}
