//! The restoring pass on the shared GPU device: deinterlacing, dropouts, denoising, levels and
//! chroma shift of the three planes, as `stages::restore` does them on the CPU (same
//! arithmetic, same order; bytes equal but for a level where the driver fuses a multiply and
//! an add). Each input frame is uploaded once into one of three resident slots (the frames
//! before, at and after the one restored), the denoiser's past stays on the GPU, and one
//! submission and one readback give the frame's one or two outputs. Everything is made once
//! per caps.

use mediaai_common::gpu::{self, GpuContext};
use mediaai_common::planes::PlaneRows;
use mediaai_common::staging::{self, ReadbackRing};

use crate::slots::FrameSlots;
use crate::stages::{falls, Fields, Finish, MotionField, Plane, Source, MOTION_BLOCK};

const WGSL: &str = include_str!("../../../shaders/vhsrestore.wgsl");
/// `Params` in the shader: 33 words.
const PARAMS_BYTES: usize = 132;

/// Where a plane's rows come from, as slots of [`GpuRestore::frames`] (0..3): the CPU path's
/// [`Source`], with slots for planes.
pub type Slots = Source<usize>;

/// One plane of one output frame.
#[derive(Clone, Copy, Debug)]
pub struct PlaneJob {
    pub source: Slots,
    /// Denoise strength, as `stages::Denoise::new` takes it, and the spatial filter's share
    /// of it (`stages::Denoise::set_spatial_share`).
    pub denoise: f64,
    pub spatial_share: f64,
    pub finish: Finish,
    /// The camera's motion since the output before, in this plane's pixels (see
    /// `stages::Denoise::set_motion`).
    pub motion: [f32; 2],
    /// The motion block by block in its place, where the frame's vectors are given (see
    /// [`GpuRestore::run`]).
    pub blocks: Option<BlockMotion>,
}

/// A restoring on its way back from the GPU (see [`GpuRestore::submit`]).
#[derive(Debug)]
#[must_use = "a submitted restoring keeps a readback slot until finished or abandoned"]
pub struct Pending {
    readback: staging::Readback,
    outputs: usize,
}

/// How a plane takes the frame's block vectors (`stages::Denoise::set_motion_field`): each
/// for a block of `block` pixels of the plane, times `scale`.
#[derive(Clone, Copy, Debug)]
pub struct BlockMotion {
    pub block: [usize; 2],
    pub scale: [f32; 2],
}

/// Buffers, pipelines and bind groups for frames of one size.
pub struct GpuRestore {
    ctx: &'static GpuContext,
    source: wgpu::ComputePipeline,
    spread_rows: wgpu::ComputePipeline,
    remember: wgpu::ComputePipeline,
    columns: wgpu::ComputePipeline,
    pack: wgpu::ComputePipeline,
    /// Per output (first, second field): the bind groups of the five pipelines.
    binds: [[wgpu::BindGroup; 5]; 2],
    params: [wgpu::Buffer; 2],
    frames: wgpu::Buffer,
    packed: wgpu::Buffer,
    /// The frame's block vectors, and their bytes on the way up.
    vectors: wgpu::Buffer,
    vector_bytes: Vec<u8>,
    readback: ReadbackRing,
    /// Where each plane lies in a slot and in an output (rows padded to 4 bytes; its size is
    /// its bytes per row and rows); bytes of one slot; offset of each plane in the per-pixel
    /// buffers.
    places: [PlaneRows; 3],
    slot_bytes: usize,
    work: [usize; 3],
    /// The caller's key of the frame in each slot.
    slots: FrameSlots,
    /// Per plane: the past holds a frame, made with this strength.
    primed: [bool; 3],
    strength: [f64; 3],
    /// Fault injection for the tests (`MEDIAAI_FAULT=vhsrestore-readback`): every readback
    /// fails.
    failing_readbacks: bool,
}

impl GpuRestore {
    /// For frames whose planes are `sizes` (width, height), with room for a submission out
    /// while the next is made where `pipelined` (see [`Self::submit`]). `Err` says why not: no
    /// adapter, or frames too large for the device's buffers.
    pub fn new(sizes: [(usize, usize); 3], pipelined: bool) -> Result<Self, String> {
        let ctx = gpu::context().map_err(str::to_string)?;
        let places = PlaneRows::consecutive(sizes, 4);
        let mut work = [0; 3];
        let mut pixels = 0;
        for p in 0..3 {
            work[p] = pixels;
            pixels += sizes[p].0 * sizes[p].1;
        }
        let slot_bytes = places[2].end().max(4);
        let largest = (pixels * 4).max(3 * slot_bytes) as u64;
        let limit = ctx.limits.max_storage_buffer_binding_size;
        if largest > limit {
            return Err(format!(
                "frames of {}x{} need {largest} bytes per GPU buffer, the device allows {limit}",
                sizes[0].0, sizes[0].1
            ));
        }
        use wgpu::BufferUsages as U;
        let storage = |label: &str, size: usize| {
            ctx.create_buffer(label, size as u64, U::STORAGE | U::COPY_DST | U::COPY_SRC)
        };
        let params = [0, 1].map(|_| storage("vhs params", 3 * PARAMS_BYTES));
        let frames = storage("vhs frames", 3 * slot_bytes);
        let source_px = storage("vhs source", pixels * 4);
        let spread = storage("vhs spread", pixels * 4);
        let state = storage("vhs state", pixels * 4);
        let past = storage("vhs past", pixels * 4);
        let result = storage("vhs result", pixels * 4);
        let packed = storage("vhs packed", 2 * slot_bytes);
        // At most one vector per block of the luma plane (a field's are half as many).
        let blocks = sizes[0].0.div_ceil(MOTION_BLOCK) * sizes[0].1.div_ceil(MOTION_BLOCK);
        let vectors = storage("vhs vectors", 8 * blocks.max(1));
        // Pipelined, two slots: one frame's results read back while the next one's are on their
        // way.
        let slots = if pipelined { 2 } else { 1 };
        let readback = ReadbackRing::frames(ctx, "vhs readback", 2 * slot_bytes as u64, slots);
        let source = ctx.create_compute_pipeline("vhs source", WGSL, "source");
        let spread_rows = ctx.create_compute_pipeline("vhs spread", WGSL, "spread_rows");
        let remember = ctx.create_compute_pipeline("vhs remember", WGSL, "remember");
        let columns = ctx.create_compute_pipeline("vhs columns", WGSL, "columns");
        let pack = ctx.create_compute_pipeline("vhs pack", WGSL, "pack");
        let binds = [0, 1].map(|k| {
            let params = &params[k];
            [
                ctx.create_bind_group(
                    "vhs source",
                    &source,
                    &[(0, params), (1, &frames), (2, &source_px)],
                ),
                ctx.create_bind_group(
                    "vhs spread",
                    &spread_rows,
                    &[(0, params), (2, &source_px), (8, &spread)],
                ),
                ctx.create_bind_group(
                    "vhs remember",
                    &remember,
                    &[(0, params), (3, &state), (6, &past)],
                ),
                ctx.create_bind_group(
                    "vhs columns",
                    &columns,
                    &[
                        (0, params),
                        (2, &source_px),
                        (3, &state),
                        (4, &result),
                        (6, &past),
                        (7, &vectors),
                        (8, &spread),
                    ],
                ),
                ctx.create_bind_group(
                    "vhs pack",
                    &pack,
                    &[(0, params), (4, &result), (5, &packed)],
                ),
            ]
        });
        Ok(GpuRestore {
            ctx,
            source,
            spread_rows,
            remember,
            columns,
            pack,
            binds,
            params,
            frames,
            packed,
            vectors,
            vector_bytes: vec![0; 8 * blocks.max(1)],
            readback,
            places,
            slot_bytes,
            work,
            slots: FrameSlots::default(),
            primed: [false; 3],
            strength: [f64::NAN; 3],
            failing_readbacks: mediaai_common::panics::fault("vhsrestore-readback"),
        })
    }

    /// Makes the frames keyed `keys` (the caller's names for them, unique while the caller
    /// holds the frames) resident, uploading those not already in a slot, and returns their
    /// slots. The caller must [`Self::retain`] only the frames it still holds once it lets
    /// one go, so that a key reused for another frame never finds stale pixels.
    pub fn frames(&mut self, frames: [(usize, [Plane; 3]); 3]) -> Result<[usize; 3], String> {
        let keys = frames.each_ref().map(|f| f.0);
        let mut slots = std::mem::take(&mut self.slots);
        let found = slots.assign(keys, |slot, i| self.upload(slot, &frames[i].1));
        self.slots = slots;
        found
    }

    /// Forgets every slot whose key is not in `keys`.
    pub fn retain(&mut self, keys: &[usize]) {
        self.slots.retain(keys);
    }

    /// Forgets the frames and the denoiser's past (flush, discontinuity).
    pub fn reset(&mut self) {
        self.slots.reset();
        self.primed = [false; 3];
    }

    fn upload(&self, slot: usize, planes: &[Plane; 3]) -> Result<(), String> {
        let ctx = self.ctx;
        for (p, plane) in planes.iter().enumerate() {
            if (plane.width, plane.height) != self.size(p) {
                return Err(format!(
                    "plane {p} is {}x{}, the GPU path was made for {:?}",
                    plane.width,
                    plane.height,
                    self.size(p)
                ));
            }
        }
        let at = (slot * self.slot_bytes) as u64;
        let planes = planes.each_ref().map(|p| (p.pixels(), p.stride));
        staging::upload_rows(
            ctx,
            &self.frames,
            at,
            self.slot_bytes,
            &self.places,
            &planes,
        )
    }

    /// The `Params` of plane `p` of output `k`; `field`: the frame's block vectors (columns,
    /// rows) where they are uploaded.
    fn params(
        &mut self,
        k: usize,
        p: usize,
        job: &PlaneJob,
        field: Option<(usize, usize)>,
    ) -> [u8; PARAMS_BYTES] {
        let (w, h) = self.size(p);
        let base = |slot: usize| (slot * self.slot_bytes + self.places[p].offset) as u32;
        let (cur, before, after, prev, next, keep, shift) = match job.source {
            Source::Copy(s) => (s, s, s, s, s, 2, [0; 2]),
            Source::Fields(Fields {
                cur,
                before,
                after,
                prev,
                next,
                keep,
                shift,
            }) => (cur, before, after, prev, next, keep as u32, shift),
        };
        let (spatial, temporal) = falls(job.denoise, job.spatial_share);
        let filter = temporal > 0.0;
        // A strength that follows the measured noise changes every frame; the past is only
        // forgotten when the filter is switched on or off.
        if filter != (self.strength[p] > 0.0) {
            self.primed[p] = false;
        }
        self.strength[p] = job.denoise;
        let primed = filter && std::mem::replace(&mut self.primed[p], filter);
        let (threshold, min_run) = match (job.finish.dropouts, job.source) {
            (Some(d), Source::Fields(_)) => (d.threshold as u32, d.min_run as u32),
            _ => (0, 0),
        };
        let map = job.finish.map;
        let (blocks, [bw, bh], (cols, rows), [sx, sy]) = match (job.blocks, field) {
            (Some(b), Some(f)) => (1, b.block, f, b.scale),
            _ => (0, [1, 1], (1, 1), [0.0; 2]),
        };
        let words: [u32; PARAMS_BYTES / 4] = [
            w as u32,
            h as u32,
            base(cur),
            base(before),
            base(after),
            base(prev),
            base(next),
            self.places[p].stride as u32,
            keep,
            threshold,
            min_run,
            self.work[p] as u32,
            filter as u32,
            primed as u32,
            spatial.to_bits(),
            temporal.to_bits(),
            map.gain.to_bits(),
            map.offset.to_bits(),
            map.is_identity() as u32,
            job.finish.shift as u32,
            ((k * self.slot_bytes + self.places[p].offset) / 4) as u32,
            (self.places[p].stride / 4) as u32,
            job.motion[0].to_bits(),
            job.motion[1].to_bits(),
            shift[0] as u32,
            shift[1] as u32,
            blocks,
            bw as u32,
            bh as u32,
            cols as u32,
            rows as u32,
            sx.to_bits(),
            sy.to_bits(),
        ];
        let mut bytes = [0u8; PARAMS_BYTES];
        for (b, w) in bytes.chunks_exact_mut(4).zip(words) {
            b.copy_from_slice(&w.to_le_bytes());
        }
        bytes
    }

    /// Restores one output frame per entry of `jobs` (in time order: the denoiser's past
    /// runs through them) in one submission, and hands each plane of each to `write(output,
    /// plane, pixels)`. `vectors`: the frame's block motion, for the planes whose jobs take
    /// it (none of them move where every vector is zero, as on the CPU).
    pub fn run(
        &mut self,
        jobs: &[[PlaneJob; 3]],
        vectors: Option<&MotionField>,
        write: impl FnMut(usize, usize, Plane),
    ) -> Result<(), String> {
        let pending = self.submit(jobs, vectors)?;
        self.finish(pending, write)
    }

    /// The first half of [`Self::run`]: the passes submitted and their results on their way
    /// back, nothing waited for; [`Self::finish`] (or [`Self::abandon`]) ends it. Made
    /// `pipelined`, one submission may be out while the next is made.
    pub fn submit(
        &mut self,
        jobs: &[[PlaneJob; 3]],
        vectors: Option<&MotionField>,
    ) -> Result<Pending, String> {
        let ctx = self.ctx;
        let n = jobs.len().min(2);
        let len = (n * self.slot_bytes) as u64;
        ctx.checked(|| {
            let mut enc = self.record(&jobs[..n], vectors);
            enc.copy_buffer_to_buffer(&self.packed, 0, self.readback.target()?, 0, len);
            let submission = ctx.queue.submit([enc.finish()]);
            Ok(Pending {
                readback: self.readback.start(len, submission),
                outputs: n,
            })
        })
    }

    /// Whether a submission can be made now (one made before it is out, or none).
    pub fn can_submit(&self) -> bool {
        self.readback.can_start()
    }

    /// Waits for a [`Self::submit`]'s results and hands each plane of each output to
    /// `write(output, plane, pixels)`.
    pub fn finish(
        &mut self,
        pending: Pending,
        mut write: impl FnMut(usize, usize, Plane),
    ) -> Result<(), String> {
        if self.failing_readbacks {
            self.abandon(pending);
            return Err("the readback failed (MEDIAAI_FAULT=vhsrestore-readback)".into());
        }
        let Pending { readback, outputs } = pending;
        let (places, slot_bytes) = (&self.places, self.slot_bytes);
        let sizes: [(usize, usize); 3] = std::array::from_fn(|p| self.size(p));
        self.ctx.checked(|| {
            self.readback.finish(readback, |bytes| {
                for k in 0..outputs {
                    for p in 0..3 {
                        let (w, h) = sizes[p];
                        let at = k * slot_bytes + places[p].offset;
                        let data = &bytes[at..at + places[p].stride * h];
                        write(
                            k,
                            p,
                            Plane {
                                data,
                                stride: places[p].stride,
                                width: w,
                                height: h,
                                pad: 0,
                            },
                        );
                    }
                }
            })
        })
    }

    /// Drops a [`Self::submit`]'s results unread (a flush).
    pub fn abandon(&self, pending: Pending) {
        self.readback.abandon(pending.readback);
    }

    /// As [`Self::run`], but each output frame is written into a GPU buffer of `outputs`
    /// (frames that stay on the GPU, laid out as [`Self::frame_layout`] says): copied there in
    /// the same submission, nothing read back or waited for.
    pub fn run_into(
        &mut self,
        jobs: &[[PlaneJob; 3]],
        vectors: Option<&MotionField>,
        outputs: &[&wgpu::Buffer],
    ) -> Result<(), String> {
        let ctx = self.ctx;
        let n = jobs.len().min(2).min(outputs.len());
        let slot = self.slot_bytes as u64;
        if outputs[..n].iter().any(|o| o.size() < slot) {
            return Err("GPU output frame smaller than the restored frame".into());
        }
        ctx.checked(|| {
            let mut enc = self.record(&jobs[..n], vectors);
            for (k, out) in outputs[..n].iter().enumerate() {
                enc.copy_buffer_to_buffer(&self.packed, k as u64 * slot, out, 0, slot);
            }
            ctx.queue.submit([enc.finish()]);
            Ok(())
        })
    }

    /// Width and height of plane `p` (8-bit samples: a row's bytes are its width).
    fn size(&self, p: usize) -> (usize, usize) {
        (self.places[p].row_bytes, self.places[p].rows)
    }

    /// Where the restored planes lie in an output frame.
    pub fn places(&self) -> &[PlaneRows; 3] {
        &self.places
    }

    /// Writes the parameters of `jobs` (and the block vectors where they move a plane) and
    /// records their passes.
    fn record(
        &mut self,
        jobs: &[[PlaneJob; 3]],
        vectors: Option<&MotionField>,
    ) -> wgpu::CommandEncoder {
        let ctx = self.ctx;
        // As the CPU's denoiser takes them (`Denoise::set_motion_field`).
        let field = vectors.filter(|f| f.moves() && 8 * f.vectors.len() <= self.vector_bytes.len());
        if let Some(f) = field {
            let bytes = &mut self.vector_bytes[..8 * f.vectors.len()];
            for (b, v) in bytes.chunks_exact_mut(4).zip(f.vectors.iter().flatten()) {
                b.copy_from_slice(&v.to_le_bytes());
            }
            ctx.queue.write_buffer(&self.vectors, 0, bytes);
        }
        let field = field.map(|f| (f.cols, f.vectors.len() / f.cols));
        for (k, planes) in jobs.iter().enumerate() {
            let mut bytes = [0u8; 3 * PARAMS_BYTES];
            for (p, job) in planes.iter().enumerate() {
                let params = self.params(k, p, job, field);
                bytes[p * PARAMS_BYTES..(p + 1) * PARAMS_BYTES].copy_from_slice(&params);
            }
            ctx.queue.write_buffer(&self.params[k], 0, &bytes);
        }
        let max = |f: &dyn Fn(usize) -> usize| (0..3).map(f).max().unwrap_or(0) as u32;
        let (width, height) = (max(&|p| self.size(p).0), max(&|p| self.size(p).1));
        let words = max(&|p| self.places[p].stride / 4);
        let mut enc = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("vhsrestore"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("vhsrestore"),
                timestamp_writes: None,
            });
            for binds in &self.binds[..jobs.len()] {
                pass.set_pipeline(&self.source);
                pass.set_bind_group(0, &binds[0], &[]);
                pass.dispatch_workgroups(width.div_ceil(16), height.div_ceil(16), 3);
                pass.set_pipeline(&self.spread_rows);
                pass.set_bind_group(0, &binds[1], &[]);
                pass.dispatch_workgroups(width.div_ceil(16), height.div_ceil(16), 3);
                // The past kept aside before the columns write the new state over it.
                pass.set_pipeline(&self.remember);
                pass.set_bind_group(0, &binds[2], &[]);
                pass.dispatch_workgroups(width.div_ceil(16), height.div_ceil(16), 3);
                pass.set_pipeline(&self.columns);
                pass.set_bind_group(0, &binds[3], &[]);
                pass.dispatch_workgroups(width.div_ceil(16), height.div_ceil(16), 3);
                pass.set_pipeline(&self.pack);
                pass.set_bind_group(0, &binds[4], &[]);
                pass.dispatch_workgroups(words.div_ceil(64), height, 3);
            }
        }
        enc
    }
}
