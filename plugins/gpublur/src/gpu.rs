//! The wgpu path: every pass of a frame in one command encoder, one upload of the rows the
//! masks read, one submit, one readback of the rows they write. Buffers and bind groups are
//! made once per caps; pipelines once per process, on the device `mediaai_common::gpu` shares.

use std::sync::OnceLock;

use bytemuck::{Pod, Zeroable};
use mediaai_common::gpu::{self, GpuContext};
use mediaai_common::planes::{self, FramePlanes, PlaneRows};
use mediaai_common::staging::{self, Readback, ReadbackRing};

use crate::kernel::MAX_RADIUS;
use crate::planar::YuvLayout;
use crate::planar::{Frame, PackedFrame};
use crate::regions::{bands, Blur, BlurOp, MaskRegion};

/// Most regions one frame carries to the GPU; the element blurs the whole frame beyond it.
pub const MAX_REGIONS: usize = 1024;
const WORKGROUP: u32 = 16;

const COMMON_WGSL: &str = include_str!("../../../shaders/gpublur_common.wgsl");
const YUV_COMMON_WGSL: &str = include_str!("../../../shaders/gpublur_yuv_common.wgsl");

/// The passes: name and WGSL source (without the common declarations).
pub const PASSES: [(&str, &str); 11] = [
    (
        "gaussian_h",
        include_str!("../../../shaders/gpublur_gaussian_h.wgsl"),
    ),
    (
        "gaussian_v",
        include_str!("../../../shaders/gpublur_gaussian_v.wgsl"),
    ),
    (
        "mosaic_fill",
        include_str!("../../../shaders/gpublur_mosaic_fill.wgsl"),
    ),
    ("solid", include_str!("../../../shaders/gpublur_solid.wgsl")),
    (
        "pyramid_down",
        include_str!("../../../shaders/gpublur_pyramid_down.wgsl"),
    ),
    (
        "pyramid_h",
        include_str!("../../../shaders/gpublur_pyramid_h.wgsl"),
    ),
    (
        "pyramid_v",
        include_str!("../../../shaders/gpublur_pyramid_v.wgsl"),
    ),
    (
        "pyramid_up",
        include_str!("../../../shaders/gpublur_pyramid_up.wgsl"),
    ),
    (
        "bokeh_disc",
        include_str!("../../../shaders/gpublur_bokeh_disc.wgsl"),
    ),
    (
        "yuv_unpack",
        include_str!("../../../shaders/gpublur_yuv_unpack.wgsl"),
    ),
    (
        "yuv_pack",
        include_str!("../../../shaders/gpublur_yuv_pack.wgsl"),
    ),
];

/// The complete WGSL of a pass: the common declarations, then the pass. The YUV passes, which
/// read and write a frame's planes (they declare `frame_bytes`), come after the collection's
/// plane reader (`mediaai_common::planes`) and their own declarations.
pub fn pass_source(pass: &str) -> String {
    if pass.contains("frame_bytes") {
        format!("{}\n{COMMON_WGSL}\n{YUV_COMMON_WGSL}\n{pass}", planes::WGSL)
    } else {
        format!("{COMMON_WGSL}\n{pass}")
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    width: u32,
    height: u32,
    stride: u32,
    n_regions: u32,
    radius: u32,
    block: u32,
    alpha_index: u32,
    shape: u32,
    blocks_w: u32,
    feather: f32,
    blocks_h: u32,
    disc: f32,
    black: u32,
    pad: [u32; 3],
}

/// `Planes` of the YUV passes (see gpublur_yuv_common.wgsl): the collection's `FramePlanes`
/// and the bands of rows.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Planes {
    frame: [u32; planes::FRAME_PLANES_WORDS],
    read0: u32,
    read1: u32,
    write0: u32,
    write1: u32,
}

/// The planes of `layout` as the collection's GPU passes describe them.
fn frame_planes(layout: &YuvLayout) -> FramePlanes {
    let [u, v] = layout.chroma;
    FramePlanes {
        kind: if layout.interleaved { 2 } else { 1 },
        offsets: [layout.luma.offset, u.offset, v.offset].map(|o| o as u32),
        strides: [layout.luma.stride, u.stride, v.stride].map(|s| s as u32),
        pixel_stride: 1,
        rgb_bytes: [0; 3],
        alpha_byte: 4,
    }
}

/// What a YUV frame needs beyond the packed passes: the planes as the buffer holds them, and
/// the passes converting them to and from packed pixels on the GPU.
struct YuvResources {
    layout: YuvLayout,
    raw_len: usize,
    planes: wgpu::Buffer,
    raw: wgpu::Buffer,
    bind_unpack: wgpu::BindGroup,
    bind_pack: wgpu::BindGroup,
}

struct Pipelines {
    gaussian_h: wgpu::ComputePipeline,
    gaussian_v: wgpu::ComputePipeline,
    mosaic_fill: wgpu::ComputePipeline,
    solid: wgpu::ComputePipeline,
    pyramid_down: wgpu::ComputePipeline,
    pyramid_h: wgpu::ComputePipeline,
    pyramid_v: wgpu::ComputePipeline,
    pyramid_up: wgpu::ComputePipeline,
    bokeh_disc: wgpu::ComputePipeline,
    yuv_unpack: wgpu::ComputePipeline,
    yuv_pack: wgpu::ComputePipeline,
}

static PIPELINES: OnceLock<Pipelines> = OnceLock::new();

fn pipelines(ctx: &GpuContext) -> &'static Pipelines {
    PIPELINES.get_or_init(|| {
        let make = |i: usize| {
            let (name, src) = PASSES[i];
            ctx.create_compute_pipeline(&format!("gpublur {name}"), &pass_source(src), "main")
        };
        Pipelines {
            gaussian_h: make(0),
            gaussian_v: make(1),
            mosaic_fill: make(2),
            solid: make(3),
            pyramid_down: make(4),
            pyramid_h: make(5),
            pyramid_v: make(6),
            pyramid_up: make(7),
            bokeh_disc: make(8),
            yuv_unpack: make(9),
            yuv_pack: make(10),
        }
    })
}

/// Compiles the blur's passes on the process's GPU device, once (later calls return at once):
/// what the first frame would otherwise wait for. On a driver whose shader cache is still
/// empty that is the slowest part of starting, and in a live pipeline the caps come with the
/// first frame, so the element does it going to PAUSED.
pub fn prepare() -> Result<(), String> {
    pipelines(gpu::context()?);
    Ok(())
}

/// Whether the passes have been compiled in this process.
pub fn prepared() -> bool {
    PIPELINES.get().is_some()
}

/// GPU resources for one frame size.
pub struct WgpuBlur {
    ctx: &'static GpuContext,
    pipelines: &'static Pipelines,
    width: u32,
    height: u32,
    stride: usize,
    params: wgpu::Buffer,
    regions: wgpu::Buffer,
    weights: wgpu::Buffer,
    frame: wgpu::Buffer,
    out: wgpu::Buffer,
    /// Readback buffers, used in turn: one can be mapped for frame N while frame N+1's
    /// commands copy into the other.
    staging: ReadbackRing,
    bind_gaussian_h: wgpu::BindGroup,
    bind_gaussian_v: wgpu::BindGroup,
    bind_mosaic_fill: wgpu::BindGroup,
    bind_solid: wgpu::BindGroup,
    bind_pyramid_down: wgpu::BindGroup,
    bind_pyramid_h: wgpu::BindGroup,
    bind_pyramid_v: wgpu::BindGroup,
    bind_pyramid_up: wgpu::BindGroup,
    bind_bokeh_disc: wgpu::BindGroup,
    yuv: Option<YuvResources>,
    weights_generation: Option<u64>,
    black: [u8; 4],
}

/// Readback buffers per engine: one frame in flight while the next is submitted.
pub const STAGING_RING: usize = 2;

/// A frame submitted by [`WgpuBlur::submit`] and not yet [finished](WgpuBlur::finish): where its
/// written byte ranges wait in the staging ring.
#[derive(Debug)]
pub struct Pending {
    readback: Readback,
    /// Byte ranges of the frame (or of its planes) read back, in staging order.
    down: [(usize, usize); 3],
}

/// Where a frame's bytes come from and go to.
#[derive(Clone, Copy)]
enum Io<'a> {
    /// Mapped in system memory: uploaded, then read back through the staging ring.
    Host(&'a Frame<'a>),
    /// Already on the GPU: copied in and out on the GPU.
    Resident(&'a wgpu::Buffer),
}

/// What [`WgpuBlur::record`] submitted.
enum Recorded {
    /// No mask touches the frame.
    Nothing,
    /// A GPU-resident frame, written in place.
    Resident,
    /// A host frame whose rows wait in the staging ring.
    Staged(Pending),
}

fn groups(n: u32) -> u32 {
    n.div_ceil(WORKGROUP).max(1)
}

impl WgpuBlur {
    /// Resources for YUV 4:2:0 frames of `layout`: the planes go up as they are, and are
    /// converted to packed pixels and back by two passes on the GPU. Plane offsets and strides
    /// must be multiples of 4 bytes (GStreamer's defaults are).
    pub fn new_yuv(layout: YuvLayout) -> Result<Self, String> {
        let planes = [layout.luma, layout.chroma[0], layout.chroma[1]];
        if planes
            .iter()
            .any(|p| p.offset % 4 != 0 || p.stride % 4 != 0)
        {
            return Err(format!(
                "plane offsets or strides not 4-byte aligned ({planes:?})"
            ));
        }
        let mut blur = Self::new(layout.width, layout.height, layout.width as usize * 4)?;
        let w = layout.width as usize;
        let raw_len = planes.iter().map(PlaneRows::end).max().unwrap_or(0).max(w);
        let ctx = blur.ctx;
        use wgpu::BufferUsages as U;
        let planes = ctx.create_buffer(
            "gpublur planes",
            std::mem::size_of::<Planes>() as u64,
            U::UNIFORM | U::COPY_DST,
        );
        let raw = ctx.create_buffer(
            "gpublur yuv planes",
            raw_len as u64,
            U::STORAGE | U::COPY_DST | U::COPY_SRC,
        );
        if raw_len as u64 > blur.staging.slot_len() {
            blur.staging = staging_ring(ctx, raw_len as u64);
        }
        let p = blur.pipelines;
        let bind_unpack = ctx.create_bind_group(
            "gpublur yuv_unpack",
            &p.yuv_unpack,
            &[
                (0, &blur.params),
                (3, &blur.frame),
                (5, &blur.out),
                (6, &planes),
                (7, &raw),
            ],
        );
        let bind_pack = ctx.create_bind_group(
            "gpublur yuv_pack",
            &p.yuv_pack,
            &[(0, &blur.params), (5, &blur.out), (6, &planes), (7, &raw)],
        );
        blur.yuv = Some(YuvResources {
            layout,
            raw_len,
            planes,
            raw,
            bind_unpack,
            bind_pack,
        });
        Ok(blur)
    }

    /// The packed pixel the solid mode paints (its alpha byte is kept from the frame).
    pub fn set_black(&mut self, black: [u8; 4]) {
        self.black = black;
    }

    /// Resources for `width`×`height` frames whose rows are `stride` bytes apart.
    pub fn new(width: u32, height: u32, stride: usize) -> Result<Self, String> {
        let ctx = gpu::context()?;
        if !stride.is_multiple_of(4) || stride < width as usize * 4 {
            return Err(format!("row stride {stride} is not whole 4-byte pixels"));
        }
        let frame_bytes = (stride * height as usize) as u64;
        let tmp_bytes = crate::cpu::scratch_len(width, height) as u64 * 16;
        let max_binding = ctx.limits.max_storage_buffer_binding_size as u64;
        let max_buffer = ctx.limits.max_buffer_size;
        if tmp_bytes > max_binding.min(max_buffer) || frame_bytes > max_binding.min(max_buffer) {
            return Err(format!(
                "{width}x{height} frames need {} MB of GPU scratch, more than {} allows in one binding",
                tmp_bytes >> 20,
                ctx.adapter_info.name
            ));
        }
        use wgpu::BufferUsages as U;
        let params = ctx.create_buffer(
            "gpublur params",
            std::mem::size_of::<Params>() as u64,
            U::UNIFORM | U::COPY_DST,
        );
        let regions = ctx.create_buffer(
            "gpublur regions",
            (MAX_REGIONS * std::mem::size_of::<MaskRegion>()) as u64,
            U::STORAGE | U::COPY_DST,
        );
        let weights = ctx.create_buffer(
            "gpublur weights",
            (MAX_RADIUS as u64 + 1) * 4,
            U::STORAGE | U::COPY_DST,
        );
        let frame = ctx.create_buffer(
            "gpublur frame",
            frame_bytes,
            U::STORAGE | U::COPY_DST | U::COPY_SRC,
        );
        let out = ctx.create_buffer(
            "gpublur out",
            frame_bytes,
            U::STORAGE | U::COPY_DST | U::COPY_SRC,
        );
        let tmp = ctx.create_buffer("gpublur scratch", tmp_bytes, U::STORAGE);
        let staging = staging_ring(ctx, frame_bytes);
        let pipelines = pipelines(ctx);
        let (p, r, wt, f, t, o) = (
            (0, &params),
            (1, &regions),
            (2, &weights),
            (3, &frame),
            (4, &tmp),
            (5, &out),
        );
        let bind_gaussian_h = ctx.create_bind_group(
            "gpublur gaussian_h",
            &pipelines.gaussian_h,
            &[p, r, wt, f, t],
        );
        let bind_gaussian_v = ctx.create_bind_group(
            "gpublur gaussian_v",
            &pipelines.gaussian_v,
            &[p, r, wt, f, t, o],
        );
        let bind_mosaic_fill = ctx.create_bind_group(
            "gpublur mosaic_fill",
            &pipelines.mosaic_fill,
            &[p, r, f, t, o],
        );
        let bind_solid = ctx.create_bind_group("gpublur solid", &pipelines.solid, &[p, r, f, o]);
        let bind_pyramid_down = ctx.create_bind_group(
            "gpublur pyramid_down",
            &pipelines.pyramid_down,
            &[p, r, f, t],
        );
        let bind_pyramid_h =
            ctx.create_bind_group("gpublur pyramid_h", &pipelines.pyramid_h, &[p, r, wt, t]);
        let bind_pyramid_v =
            ctx.create_bind_group("gpublur pyramid_v", &pipelines.pyramid_v, &[p, r, wt, t]);
        let bind_pyramid_up = ctx.create_bind_group(
            "gpublur pyramid_up",
            &pipelines.pyramid_up,
            &[p, r, f, t, o],
        );
        let bind_bokeh_disc =
            ctx.create_bind_group("gpublur bokeh_disc", &pipelines.bokeh_disc, &[p, r, t]);
        Ok(WgpuBlur {
            ctx,
            pipelines,
            width,
            height,
            stride,
            params,
            regions,
            weights,
            frame,
            out,
            staging,
            bind_gaussian_h,
            bind_gaussian_v,
            bind_mosaic_fill,
            bind_solid,
            bind_pyramid_down,
            bind_pyramid_h,
            bind_pyramid_v,
            bind_pyramid_up,
            bind_bokeh_disc,
            yuv: None,
            weights_generation: None,
            black: [0; 4],
        })
    }

    /// Name of the adapter doing the work.
    pub fn adapter_name(&self) -> &str {
        &self.ctx.adapter_info.name
    }

    /// Applies `op` inside the masks of `regions` (at most [`MAX_REGIONS`]), in place, on a
    /// frame laid out as this was made for ([`Self::new`] or [`Self::new_yuv`]): [`Self::submit`]
    /// and [`Self::finish`] back to back.
    pub fn process(&mut self, frame: &mut Frame, job: &Blur) -> Result<(), String> {
        let pending = self.submit(frame, job)?;
        match pending {
            Some(p) => self.finish(p, frame),
            None => Ok(()),
        }
    }

    /// Whether a staging slot is free for [`Self::submit`]: at most [`STAGING_RING`] frames
    /// may await [`Self::finish`].
    pub fn can_submit(&self) -> bool {
        self.staging.can_start()
    }

    /// Uploads the rows of `frame` the masks read, records and submits every pass, and starts
    /// the readback of the rows they write without waiting for it. `None`: nothing to write.
    /// The frame's bytes are not changed; hand the same frame to [`Self::finish`] to get them.
    /// `weights` are uploaded only when `weights_generation` differs from the last call's.
    /// GPU errors come back as `Err` (the frame is untouched then).
    pub fn submit(&mut self, frame: &Frame, job: &Blur) -> Result<Option<Pending>, String> {
        let fits = match (frame, &self.yuv) {
            (Frame::Packed(f), None) => {
                f.width == self.width && f.height == self.height && f.stride == self.stride
            }
            (Frame::Yuv { data, layout }, Some(y)) => {
                y.layout == *layout && data.len() >= y.raw_len
            }
            _ => false,
        };
        if !fits {
            return Err("frame layout differs from the negotiated caps".into());
        }
        if !self.can_submit() {
            return Err(format!(
                "more than {STAGING_RING} frames submitted without finishing"
            ));
        }
        let ctx = self.ctx;
        ctx.checked(|| self.record(Io::Host(frame), job))
            .map(|r| match r {
                Recorded::Staged(p) => Some(p),
                Recorded::Nothing | Recorded::Resident => None,
            })
    }

    /// Blurs a frame whose bytes are on the GPU (`mediaai_common::gpumemory`), laid out as this
    /// engine was made for, in place: the rows the masks read are copied into the engine's
    /// buffers and the rows they write copied back, in the one submission. Nothing crosses to
    /// the host and nothing is waited for; the queue orders it before later work. `Ok(false)`:
    /// nothing to write.
    pub fn process_resident(&mut self, frame: &wgpu::Buffer, job: &Blur) -> Result<bool, String> {
        if frame.size() < self.resident_len() {
            return Err("GPU frame smaller than the negotiated caps".into());
        }
        let ctx = self.ctx;
        ctx.checked(|| self.record(Io::Resident(frame), job))
            .map(|r| matches!(r, Recorded::Resident))
    }

    /// Bytes of a frame as the engine lays it out (the span its ranges can reach).
    fn resident_len(&self) -> u64 {
        let len = match &self.yuv {
            Some(y) => y.raw_len,
            None => self.stride * self.height as usize,
        };
        (len as u64).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT)
    }

    /// Waits for `pending` and writes its rows into `frame` (the frame it was submitted with).
    pub fn finish(&mut self, pending: Pending, frame: &mut Frame) -> Result<(), String> {
        let data: &mut [u8] = match frame {
            Frame::Packed(f) => f.data,
            Frame::Yuv { data, .. } => data,
        };
        let Pending { readback, down } = pending;
        let (ctx, staging) = (self.ctx, &mut self.staging);
        ctx.checked(|| {
            staging.finish(readback, |bytes| {
                let mut at = 0usize;
                for &(a, b) in down.iter().filter(|r| r.1 > r.0) {
                    data[a..b].copy_from_slice(&bytes[at..at + b - a]);
                    at += (b - a).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT as usize);
                }
            })
        })
    }

    /// Drops a submitted frame's readback (flushing): its slot is free again.
    pub fn abandon(&mut self, pending: Pending) {
        self.staging.abandon(pending.readback);
    }

    fn record(&mut self, io: Io, job: &Blur) -> Result<Recorded, String> {
        let Blur {
            regions,
            shape,
            op,
            weights,
            weights_generation,
            alpha_index,
            feather,
        } = *job;
        let regions = &regions[..regions.len().min(MAX_REGIONS)];
        let Some(bands) = bands(regions, op, self.height) else {
            return Ok(Recorded::Nothing);
        };
        let queue = &self.ctx.queue;
        let (radius, block) = match op {
            BlurOp::Gaussian { radius } => (radius, 1),
            BlurOp::Mosaic { block } => (0, block.max(1)),
            BlurOp::Solid => (0, 1),
            BlurOp::Pyramid { factor, radius } => (radius, factor.max(2)),
            BlurOp::Bokeh { factor, disc } => (disc.ceil() as u32, factor.max(2)),
        };
        let disc = match op {
            BlurOp::Bokeh { disc, .. } => disc,
            _ => 0.0,
        };
        let params = Params {
            width: self.width,
            height: self.height,
            stride: (self.stride / 4) as u32,
            n_regions: regions.len() as u32,
            radius,
            block,
            alpha_index,
            shape: shape as u32,
            blocks_w: self.width.div_ceil(block),
            feather,
            blocks_h: self.height.div_ceil(block),
            disc,
            black: u32::from_le_bytes(self.black),
            pad: [0; 3],
        };
        queue.write_buffer(&self.params, 0, bytemuck::bytes_of(&params));
        queue.write_buffer(&self.regions, 0, bytemuck::cast_slice(regions));
        if self.weights_generation != Some(weights_generation) {
            queue.write_buffer(&self.weights, 0, bytemuck::cast_slice(weights));
            self.weights_generation = Some(weights_generation);
        }
        let mut encoder = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("gpublur frame"),
            });
        let aligned = |(a, b): (usize, usize)| {
            (
                a as u64,
                ((b - a) as u64).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT),
            )
        };
        // Byte ranges of the frame the masks read (brought in) and write (taken out): the rows
        // of the packed frame, or the rows of each plane.
        let frame_len = match io {
            Io::Host(Frame::Packed(f)) => f.data.len(),
            Io::Host(Frame::Yuv { data, .. }) => data.len(),
            Io::Resident(_) => self.resident_len() as usize,
        };
        let (up, down, target) = match &self.yuv {
            None => {
                let rows = |(a, b): (u32, u32)| {
                    let (a, b) = (
                        a as usize * self.stride,
                        (b as usize * self.stride).min(frame_len),
                    );
                    [(a, b), (0, 0), (0, 0)]
                };
                (rows(bands.read), rows(bands.write), &self.frame)
            }
            Some(yuv) => {
                let l = &yuv.layout;
                let planes = Planes {
                    frame: frame_planes(l).words(),
                    read0: bands.read.0,
                    read1: bands.read.1,
                    write0: bands.write.0,
                    write1: bands.write.1,
                };
                queue.write_buffer(&yuv.planes, 0, bytemuck::bytes_of(&planes));
                (
                    l.row_ranges(bands.read),
                    l.row_ranges(bands.write),
                    &yuv.raw,
                )
            }
        };
        match io {
            Io::Host(Frame::Packed(PackedFrame { data, .. }) | Frame::Yuv { data, .. }) => {
                staging::upload_ranges(self.ctx, target, data, &up)
            }
            Io::Resident(src) => {
                for &r in up.iter().filter(|r| r.1 > r.0) {
                    let (offset, len) = aligned(r);
                    encoder.copy_buffer_to_buffer(src, offset, target, offset, len);
                }
            }
        }

        // The passes read the uploaded frame and write `out`; its rows start as a copy so pixels
        // outside every mask come back exactly as they went up (YUV: the unpack pass writes
        // both).
        if self.yuv.is_none() {
            let (d0, dl) = aligned(down[0]);
            encoder.copy_buffer_to_buffer(&self.frame, d0, &self.out, d0, dl);
        }
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("gpublur"),
                timestamp_writes: None,
            });
            if let Some(yuv) = &self.yuv {
                pass.set_pipeline(&self.pipelines.yuv_unpack);
                pass.set_bind_group(0, &yuv.bind_unpack, &[]);
                pass.dispatch_workgroups(
                    groups(self.width),
                    groups(bands.read.1 - bands.read.0),
                    1,
                );
            }
            self.blur_passes(&mut pass, op, regions, (radius, block));
            if let Some(yuv) = &self.yuv {
                // One invocation per 4-byte word of a plane row; luma rows are the widest.
                pass.set_pipeline(&self.pipelines.yuv_pack);
                pass.set_bind_group(0, &yuv.bind_pack, &[]);
                pass.dispatch_workgroups(
                    groups(self.width.div_ceil(4)),
                    groups(bands.write.1 - bands.write.0),
                    3,
                );
            }
        }
        let source = self.yuv.as_ref().map_or(&self.out, |y| &y.raw);
        if let Io::Resident(frame) = io {
            // Written rows straight back into the frame: no readback, no wait.
            for &r in down.iter().filter(|r| r.1 > r.0) {
                let (offset, len) = aligned(r);
                encoder.copy_buffer_to_buffer(source, offset, frame, offset, len);
            }
            queue.submit(Some(encoder.finish()));
            return Ok(Recorded::Resident);
        }
        // Every written range into this frame's staging buffer, one after another.
        let staging = self.staging.target()?;
        let mut staged = 0u64;
        for &r in down.iter().filter(|r| r.1 > r.0) {
            let (offset, len) = aligned(r);
            encoder.copy_buffer_to_buffer(source, offset, staging, staged, len);
            staged += len;
        }
        let submission = queue.submit(Some(encoder.finish()));
        Ok(Recorded::Staged(Pending {
            readback: self.staging.start(staged, submission),
            down,
        }))
    }

    /// The blur's passes over the regions (one workgroup layer each), into `pass`: `op` with
    /// its radius and block.
    fn blur_passes(
        &self,
        pass: &mut wgpu::ComputePass,
        op: BlurOp,
        regions: &[MaskRegion],
        (radius, block): (u32, u32),
    ) {
        let max_w = regions.iter().map(|r| r.width()).max().unwrap_or(1);
        let max_h = regions.iter().map(|r| r.height()).max().unwrap_or(1);
        let n = regions.len() as u32;
        match op {
            BlurOp::Gaussian { radius } => {
                pass.set_pipeline(&self.pipelines.gaussian_h);
                pass.set_bind_group(0, &self.bind_gaussian_h, &[]);
                pass.dispatch_workgroups(groups(max_w), groups(max_h + 2 * radius), n);
                pass.set_pipeline(&self.pipelines.gaussian_v);
                pass.set_bind_group(0, &self.bind_gaussian_v, &[]);
                pass.dispatch_workgroups(groups(max_w), groups(max_h), n);
            }
            BlurOp::Mosaic { .. } => {
                // Block means come from the pyramid's averaging pass (radius 0: the
                // region's blocks and a ring of one, which the fill never reads).
                let (gw, gh) = (self.width.div_ceil(block), self.height.div_ceil(block));
                let (bw, bh) = regions.iter().fold((1, 1), |(w, h), reg| {
                    let r = reg.block_range(block, 1, gw, gh);
                    (w.max((r[2] - r[0]) as u32), h.max((r[3] - r[1]) as u32))
                });
                pass.set_pipeline(&self.pipelines.pyramid_down);
                pass.set_bind_group(0, &self.bind_pyramid_down, &[]);
                pass.dispatch_workgroups(groups(bw), groups(bh), n);
                pass.set_pipeline(&self.pipelines.mosaic_fill);
                pass.set_bind_group(0, &self.bind_mosaic_fill, &[]);
                pass.dispatch_workgroups(groups(max_w), groups(max_h), n);
            }
            BlurOp::Solid => {
                pass.set_pipeline(&self.pipelines.solid);
                pass.set_bind_group(0, &self.bind_solid, &[]);
                pass.dispatch_workgroups(groups(max_w), groups(max_h), n);
            }
            BlurOp::Pyramid { .. } | BlurOp::Bokeh { .. } => {
                let (gw, gh) = (self.width.div_ceil(block), self.height.div_ceil(block));
                // Largest block extents over the regions for each pass's range.
                let extent = |cols: i32, rows: i32| {
                    regions.iter().fold((1, 1), |(w, h), reg| {
                        let c = reg.block_range(block, cols, gw, gh);
                        let r = reg.block_range(block, rows, gw, gh);
                        (w.max((c[2] - c[0]) as u32), h.max((r[3] - r[1]) as u32))
                    })
                };
                let e = radius as i32 + 1;
                let p = &self.pipelines;
                let down = (&p.pyramid_down, &self.bind_pyramid_down, extent(e, e));
                let up = (&p.pyramid_up, &self.bind_pyramid_up, (max_w, max_h));
                let passes: &[(&wgpu::ComputePipeline, &wgpu::BindGroup, (u32, u32))] =
                    if matches!(op, BlurOp::Bokeh { .. }) {
                        &[
                            down,
                            (&p.bokeh_disc, &self.bind_bokeh_disc, extent(1, 1)),
                            up,
                        ]
                    } else {
                        &[
                            down,
                            (&p.pyramid_h, &self.bind_pyramid_h, extent(1, e)),
                            (&p.pyramid_v, &self.bind_pyramid_v, extent(1, 1)),
                            up,
                        ]
                    };
                for (pipeline, bind, (w, h)) in passes {
                    pass.set_pipeline(pipeline);
                    pass.set_bind_group(0, *bind, &[]);
                    pass.dispatch_workgroups(groups(*w), groups(*h), n);
                }
            }
        }
    }
}

/// The readback ring, each buffer `len` bytes.
fn staging_ring(ctx: &'static GpuContext, len: u64) -> ReadbackRing {
    ReadbackRing::frames(ctx, "gpublur readback", len, STAGING_RING)
}
