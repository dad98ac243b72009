//! Blurring one frame: the job the settings and masks make, run on the GPU (in GPU frames,
//! or pipelined through a readback) or on the CPU, with the fallback when the GPU fails.

use super::*;

/// A buffer between submission and readback.
pub(super) struct InFlight {
    pub(super) buffer: gst::Buffer,
    pub(super) pending: Option<Pending>,
    /// Its masks, kept to blur it on the CPU if the GPU fails before it is read back.
    pub(super) masks: Vec<MaskRegion>,
}

/// How one frame is blurred: what the settings, the kernel and the masks make of it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Job {
    pub(super) op: BlurOp,
    pub(super) shape: MaskShape,
    pub(super) feather: f32,
}

impl Job {
    /// The engines' view of this job on `masks`.
    fn with<'a>(
        &self,
        masks: &'a [MaskRegion],
        kernel: &'a GaussianKernel,
        weights_generation: u64,
        alpha_index: u32,
    ) -> Blur<'a> {
        Blur {
            regions: masks,
            shape: self.shape,
            op: self.op,
            weights: kernel.weights(),
            weights_generation,
            alpha_index,
            feather: self.feather,
        }
    }
}

/// The packed pixel the solid mode paints: RGB black, or YUV black in the caps' range.
pub(super) fn black_for(info: &gst_video::VideoInfo, yuv: bool) -> [u8; 4] {
    if yuv {
        yuv_black(info.colorimetry().range() == gst_video::VideoColorRange::Range0_255)
    } else {
        [0; 4]
    }
}

/// The CPU path for frames of `info` (laid out as `yuv` for YUV 4:2:0).
pub(super) fn cpu_engine(info: &gst_video::VideoInfo, yuv: Option<&YuvLayout>) -> CpuBlur {
    let mut c = match yuv {
        Some(l) => CpuBlur::new_yuv(l),
        None => CpuBlur::new(info.width(), info.height()),
    };
    c.set_black(black_for(info, yuv.is_some()));
    c
}

/// The planes of a YUV 4:2:0 frame of `info`'s format at the given offsets and strides; `None`
/// for other formats.
pub(super) fn yuv_layout(
    info: &gst_video::VideoInfo,
    offset: &[usize],
    stride: &[i32],
) -> Option<YuvLayout> {
    use gst_video::VideoFormat as F;
    let plane = |i: usize| (offset[i], stride[i].max(0) as usize);
    let (chroma, interleaved) = match info.format() {
        F::I420 => ([plane(1), plane(2)], false),
        F::Yv12 => ([plane(2), plane(1)], false),
        F::Nv12 => ([plane(1), (0, 0)], true),
        _ => return None,
    };
    Some(YuvLayout::new(
        info.width(),
        info.height(),
        plane(0),
        chroma,
        interleaved,
    ))
}

/// Masks of frame `t` of its window of region lists (or the whole frame): see
/// [`regions::window_masks`].
pub(super) fn fill_masks<'a>(
    masks: &mut Vec<MaskRegion>,
    fs: &FrameSettings,
    width: u32,
    height: u32,
    lists: impl Iterator<Item = &'a [RegionBox]> + Clone,
    t: usize,
) {
    masks.clear();
    match fs.region {
        BlurRegion::Frame => masks.push(MaskRegion::whole_frame(width, height)),
        BlurRegion::Roi => {
            regions::window_masks(masks, lists, t, fs.mask_scale as f32, width, height)
        }
    }
}

impl GpuBlur {
    /// What the settings make of `state.masks` for one frame, or `None` when the frame stays
    /// as it is (no masks, or a strength that changes nothing).
    pub(super) fn job(&self, state: &mut State, fs: &FrameSettings) -> Option<Job> {
        let (width, height) = (state.info.width(), state.info.height());
        // A region over all of the frame (a live detector's frame that no measurement
        // covered) hides it whole as `region=frame` does: one box to its corners, not an
        // ellipse, and one blur instead of one per frame of the window that carries it.
        let whole =
            fs.region == BlurRegion::Frame || state.masks.iter().any(|m| m.covers(width, height));
        if whole && state.masks.len() > 1 {
            state.masks.clear();
            state.masks.push(MaskRegion::whole_frame(width, height));
        }
        let shape = if whole || fs.shape == BlurShape::Box {
            MaskShape::Box
        } else {
            MaskShape::Ellipse
        };
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
            return None;
        }
        let strength = fs.strength;
        let op = match fs.mode {
            BlurMode::Gaussian => match pyramid_for(strength as f32) {
                // Large sigmas go through the block pyramid so the cost stays flat.
                Some((factor, grid_sigma)) if fs.pyramid => {
                    if state.kernel.set_sigma(grid_sigma) {
                        state.kernel_generation += 1;
                    }
                    BlurOp::Pyramid {
                        factor,
                        radius: state.kernel.radius(),
                    }
                }
                _ => {
                    if state.kernel.set_sigma(strength as f32) {
                        state.kernel_generation += 1;
                    }
                    BlurOp::Gaussian {
                        radius: state.kernel.radius(),
                    }
                }
            },
            BlurMode::Mosaic => BlurOp::Mosaic {
                block: strength.round().max(1.0) as u32,
            },
            BlurMode::Solid => BlurOp::Solid,
            BlurMode::Bokeh => {
                let (factor, disc) = bokeh_for(strength as f32);
                BlurOp::Bokeh { factor, disc }
            }
        };
        let unchanged = match op {
            BlurOp::Gaussian { radius } => radius == 0,
            BlurOp::Mosaic { block } => block <= 1,
            BlurOp::Bokeh { disc, .. } => disc < 0.5,
            BlurOp::Pyramid { .. } | BlurOp::Solid => false,
        };
        if unchanged {
            if !state.warned_identity {
                gst::warning!(
                    CAT,
                    imp = self,
                    "strength {strength} leaves regions unchanged; raise it to hide them"
                );
                state.warned_identity = true;
            }
            return None;
        }

        let feather = if whole { 0.0 } else { fs.feather as f32 };
        Some(Job { op, shape, feather })
    }

    /// Maps `buf` as the engines take it (the packed plane, or every YUV plane as the buffer's
    /// video meta or the caps lay them out) and hands it to `work`.
    pub(super) fn with_frame<R>(
        &self,
        state: &mut State,
        buf: &mut gst::BufferRef,
        work: impl FnOnce(&mut State, &mut Frame) -> R,
    ) -> Result<R, gst::FlowError> {
        let (width, height) = (state.info.width(), state.info.height());
        let mut video_frame;
        let mut map;
        let mut frame = match state.yuv {
            Some(engine_layout) => {
                let layout = match buf.meta::<gst_video::VideoMeta>() {
                    Some(m) => yuv_layout(&state.info, m.offset(), m.stride()),
                    None => Some(engine_layout),
                };
                map = buf.map_writable().map_err(|_| {
                    gst::element_imp_error!(
                        self,
                        gst::StreamError::Format,
                        ["buffer not writable"]
                    );
                    gst::FlowError::Error
                })?;
                let data = map.as_mut_slice();
                let Some(layout) = layout.filter(|l| l.fits(data.len())) else {
                    return Err(frames::too_small(self.obj().upcast_ref()));
                };
                if layout != engine_layout {
                    // Planes laid out unlike the caps: the per-caps GPU resources do not fit
                    // them, the CPU path is rebuilt for them.
                    if let Blurrer::Gpu(_) = state.engine {
                        gst::element_imp_warning!(
                            self,
                            gst::LibraryError::Failed,
                            ["buffer planes differ from the caps' layout: blurring on the CPU"]
                        );
                    }
                    state.yuv = Some(layout);
                    state.engine = Blurrer::Cpu(cpu_engine(&state.info, Some(&layout)));
                }
                Frame::Yuv { data, layout }
            }
            None => {
                video_frame = frames::writable(self.obj().upcast_ref(), buf, &state.info)?;
                let stride = video_frame.plane_stride()[0] as usize;
                let data = video_frame.plane_data_mut(0).map_err(|_| {
                    gst::element_imp_error!(
                        self,
                        gst::StreamError::Format,
                        ["frame has no pixel plane"]
                    );
                    gst::FlowError::Error
                })?;
                Frame::Packed(PackedFrame {
                    data,
                    stride,
                    width,
                    height,
                })
            }
        };
        Ok(work(state, &mut frame))
    }

    /// Blurs `state.masks` into `buf` in place, now.
    pub(super) fn apply(
        &self,
        state: &mut State,
        fs: &FrameSettings,
        buf: &mut gst::BufferRef,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let Some(job) = self.job(state, fs) else {
            return Ok(gst::FlowSuccess::Ok);
        };
        if self.blur_resident(state, buf, &job) {
            return Ok(gst::FlowSuccess::Ok);
        }
        self.with_frame(state, buf, |state, frame| self.run(state, frame, &job))?;
        Ok(gst::FlowSuccess::Ok)
    }

    /// Runs `job` on `frame` to the end: on the GPU, else (or after a GPU failure) on the CPU.
    pub(super) fn run(&self, state: &mut State, frame: &mut Frame, job: &Job) {
        let (gen, alpha) = (state.kernel_generation, state.alpha_index);
        if let Blurrer::Gpu(g) = &mut state.engine {
            match g.process(frame, &job.with(&state.masks, &state.kernel, gen, alpha)) {
                Ok(()) => return,
                Err(e) => self.fall_back_to_cpu(state, &e),
            }
        }
        if let Blurrer::Cpu(c) = &mut state.engine {
            c.process(frame, &job.with(&state.masks, &state.kernel, gen, alpha));
        }
    }

    /// Blurs a buffer whose frame is on the GPU (`memory:WgpuBuffer`) where it lies, when the
    /// GPU engine can take it as its planes lie: no upload, readback or wait. `false` leaves
    /// it to the mapped path (which reads it back on map).
    pub(super) fn blur_resident(&self, state: &mut State, buf: &gst::BufferRef, job: &Job) -> bool {
        let Some(frame) = gpumemory::buffer_gpu_frame(buf) else {
            return false;
        };
        let Blurrer::Gpu(g) = &mut state.engine else {
            return false;
        };
        // The engine was made for the caps' layout (a differing video meta: the mapped path).
        if !gpumemory::lies_as_caps(buf, &state.info) {
            return false;
        }
        let Ok(ctx) = mediaai_common::gpu::context() else {
            return false;
        };
        let blur = job.with(
            &state.masks,
            &state.kernel,
            state.kernel_generation,
            state.alpha_index,
        );
        match g.process_resident(frame.gpu_buffer(ctx), &blur) {
            Ok(written) => {
                if written {
                    frame.written_on_gpu();
                }
                true
            }
            Err(e) => {
                self.fall_back_to_cpu(state, &e);
                false
            }
        }
    }

    /// Blurs `buffer` with `state.masks` through the held path: submitted to the GPU and
    /// finished once the next frame is submitted (pipelined), or blurred now; either way it
    /// reaches `ready` in arrival order.
    pub(super) fn blur_held(
        &self,
        state: &mut State,
        fs: &FrameSettings,
        mut buffer: gst::Buffer,
    ) -> Result<(), gst::FlowError> {
        let pending = match self.job(state, fs) {
            None => None,
            Some(job) if self.blur_resident(state, &buffer, &job) => None,
            Some(job) => self.with_frame(state, buffer.make_mut(), |state, frame| {
                if state.depth() > 0 {
                    if let Blurrer::Gpu(g) = &mut state.engine {
                        let blur = job.with(
                            &state.masks,
                            &state.kernel,
                            state.kernel_generation,
                            state.alpha_index,
                        );
                        match g.submit(frame, &blur) {
                            Ok(p) => return p,
                            Err(e) => self.fall_back_to_cpu(state, &e),
                        }
                    }
                }
                self.run(state, frame, &job);
                None
            })?,
        };
        let mut masks = state.spare_masks.pop().unwrap_or_default();
        if pending.is_some() {
            masks.extend_from_slice(&state.masks);
        }
        state.in_flight.push_back(InFlight {
            buffer,
            pending,
            masks,
        });
        while state.in_flight.len() > state.depth() {
            self.finish_oldest(state, fs)?;
        }
        Ok(())
    }

    /// The frame is still untouched in system memory after a GPU failure: finish it on the CPU
    /// and keep going there rather than stop a live pipeline.
    pub(super) fn fall_back_to_cpu(&self, state: &mut State, e: &str) {
        gst::element_imp_warning!(
            self,
            gst::LibraryError::Failed,
            ["GPU blur failed, continuing on the CPU: {}", e]
        );
        state.engine = Blurrer::Cpu(cpu_engine(&state.info, state.yuv.as_ref()));
    }
}
