//! The spatial path on the shared GPU device, frame bytes in and frame bytes out: the frame
//! as it came (packed 8-bit RGB or I420) is uploaded, turned into planar RGB, interpolated
//! (edge-adaptive, [`crate::easu`]), sharpened (RCAS) and packed into the output format on
//! the GPU, so only the frames' own bytes cross to and from the device and the CPU does no
//! pixel work. The arithmetic is the CPU path's (common's `TensorSampler` at identity size,
//! [`crate::easu`] and [`crate::spatial`] with the same sample places, the element's frame
//! writer), in the same order: equal but for a level where a driver fuses a multiply and an
//! add. Up to `batch` frames go in one submission and come back in one readback (the element
//! sends one; `upscale_gpu_bench` measures more). Buffers, pipelines and bind groups are made
//! once per caps.

use mediaai_common::gpu::{self, GpuContext};
use mediaai_common::planes::{self, FramePlanes, PlaneRows};
use mediaai_common::sampler::YuvMatrix;
use mediaai_common::staging::{self, ReadbackRing};

use crate::easu::Place;

const PASS_WGSL: &str = include_str!("../../../shaders/upscale_spatial.wgsl");
/// `Params` in the shader: 40 words.
const PARAMS_WORDS: usize = 40;
/// `Place` in the shader: four indices, the fraction, three words of padding.
const PLACE_BYTES: usize = 32;
/// The shader's workgroup side.
const GROUP: u32 = 16;

/// The planes of `format` frames of `width`x`height` as GStreamer lays them out, for the
/// formats this path reads and writes (packed 8-bit RGB, I420); and the frame's bytes.
fn layout(
    format: gst_video::VideoFormat,
    width: usize,
    height: usize,
) -> Result<(FramePlanes, Vec<PlaneRows>, usize), String> {
    let info = gst_video::VideoInfo::builder(format, width as u32, height as u32)
        .build()
        .map_err(|e| format!("{format:?} {width}x{height}: {e}"))?;
    let planes = FramePlanes::of(&info)
        .filter(|p| p.kind != 2 && format != gst_video::VideoFormat::Yv12)
        .ok_or_else(|| format!("no GPU path for {format:?}"))?;
    Ok((planes, planes.rows(width, height), info.size()))
}

/// Where upscaled frames go.
enum Sink<'a, F> {
    /// Read back and handed to the function.
    Read(F),
    /// Copied into frames that stay on the GPU.
    Gpu(&'a [&'a wgpu::Buffer]),
}

/// Frames of one size and layout upscaled on the GPU, `batch` per submission.
pub struct GpuSpatial {
    ctx: &'static GpuContext,
    pipelines: [wgpu::ComputePipeline; 4],
    /// Per frame slot: the bind groups of the four passes.
    binds: Vec<[wgpu::BindGroup; 4]>,
    /// Per frame slot: its input bytes, and its output bytes (copied into `readback` at
    /// slot · `out_bytes`).
    inputs: Vec<wgpu::Buffer>,
    outputs: Vec<wgpu::Buffer>,
    readback: ReadbackRing,
    in_places: Vec<PlaneRows>,
    out_places: Vec<PlaneRows>,
    in_bytes: usize,
    out_bytes: usize,
    size: (u32, u32),
    out_size: (u32, u32),
    /// Output words per row a pack invocation writes, and planes.
    pack_words: u32,
    pack_planes: u32,
    sharpen: bool,
}

fn place_bytes(places: &[Place]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(places.len() * PLACE_BYTES);
    for p in places {
        for a in p.at {
            bytes.extend_from_slice(&(a as u32).to_le_bytes());
        }
        bytes.extend_from_slice(&p.frac.to_le_bytes());
        bytes.extend_from_slice(&[0; 12]);
    }
    bytes
}

impl GpuSpatial {
    /// For `width`x`height` frames of `format` (packed 8-bit RGB or I420, laid out as
    /// GStreamer lays them out) upscaled by `scale` with RCAS at `sharpness`, up to `batch`
    /// frames per [`Self::run`]; `matrix` is the Y'CbCr matrix of I420 frames. `Err` says why
    /// not: no adapter, a format this path does not take, or frames too large for the
    /// device's buffers.
    pub fn new(
        width: usize,
        height: usize,
        scale: usize,
        sharpness: f32,
        batch: usize,
        format: gst_video::VideoFormat,
        matrix: YuvMatrix,
    ) -> Result<Self, String> {
        let ctx = gpu::context().map_err(str::to_string)?;
        let (ow, oh) = (width * scale, height * scale);
        let batch = batch.max(1);
        let largest = (3 * ow * oh * 4) as u64;
        let limit = ctx.limits.max_storage_buffer_binding_size;
        if largest > limit {
            return Err(format!(
                "frames of {ow}x{oh} need {largest} bytes per GPU buffer, the device allows {limit}"
            ));
        }
        let (in_planes, in_places, in_bytes) = layout(format, width, height)?;
        let (out_planes, out_places, out_bytes) = layout(format, ow, oh)?;
        let readback_bytes = (batch * out_bytes) as u64;
        if readback_bytes > ctx.limits.max_buffer_size {
            return Err(format!(
                "{batch} frames of {ow}x{oh} need a {readback_bytes}-byte GPU buffer, the device allows {}; lower batch-size",
                ctx.limits.max_buffer_size
            ));
        }
        let sharpness = sharpness.clamp(0.0, 1.0);
        let mut words: Vec<u32> = vec![
            width as u32,
            height as u32,
            ow as u32,
            oh as u32,
            sharpness.to_bits(),
            0,
            0,
            0,
        ];
        words.extend(in_planes.words());
        words.extend(out_planes.words());
        words.extend(planes::matrix_words(&matrix));
        debug_assert_eq!(words.len(), PARAMS_WORDS);
        // A pack invocation writes a pixel of 4-byte formats, else a word of a plane's row.
        let (pack_words, pack_planes) = match (out_planes.kind, out_planes.pixel_stride) {
            (0, 4) => (ow as u32, 1),
            (0, _) => (out_planes.strides[0] / 4, 1),
            _ => (out_planes.strides[0] / 4, 3),
        };
        let uniform = ctx.uniform_buffer("upscale params", &words);
        use wgpu::BufferUsages as U;
        let places = |label, places: &[Place]| {
            let bytes = place_bytes(places);
            let b = ctx.create_buffer(label, bytes.len() as u64, U::STORAGE | U::COPY_DST);
            ctx.queue.write_buffer(&b, 0, &bytes);
            b
        };
        let xs = places("upscale xs", &crate::easu::places(width, scale));
        let ys = places("upscale ys", &crate::easu::places(height, scale));
        let storage = |label: &str, bytes: usize| {
            ctx.create_buffer(label, bytes as u64, U::STORAGE | U::COPY_DST | U::COPY_SRC)
        };
        // The float steps serve every slot: the passes of a submission run in order.
        let src = storage("upscale src", 3 * width * height * 4);
        let scaled = storage(
            "upscale scaled",
            if sharpness > 0.0 { 3 * ow * oh * 4 } else { 4 },
        );
        let dst = storage("upscale dst", 3 * ow * oh * 4);
        let wgsl = format!("{}\n{PASS_WGSL}", planes::WGSL);
        let pipelines = ["unpack", "easu", "rcas", "pack"]
            .map(|entry| ctx.create_compute_pipeline(&format!("upscale {entry}"), &wgsl, entry));
        let (mut inputs, mut outputs, mut binds) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..batch {
            let input = storage("upscale frame in", in_bytes);
            let output = storage("upscale frame out", out_bytes);
            let [unpack, easu, rcas, pack] = &pipelines;
            binds.push([
                ctx.create_bind_group(
                    "upscale unpack",
                    unpack,
                    &[(0, &uniform), (3, &src), (6, &input)],
                ),
                ctx.create_bind_group(
                    "upscale easu",
                    easu,
                    &[
                        (0, &uniform),
                        (1, &xs),
                        (2, &ys),
                        (3, &src),
                        (4, &scaled),
                        (5, &dst),
                    ],
                ),
                ctx.create_bind_group(
                    "upscale rcas",
                    rcas,
                    &[(0, &uniform), (4, &scaled), (5, &dst)],
                ),
                ctx.create_bind_group(
                    "upscale pack",
                    pack,
                    &[(0, &uniform), (5, &dst), (7, &output)],
                ),
            ]);
            inputs.push(input);
            outputs.push(output);
        }
        let readback = ReadbackRing::frames(ctx, "upscale readback", readback_bytes, 1);
        Ok(GpuSpatial {
            ctx,
            pipelines,
            binds,
            inputs,
            outputs,
            readback,
            in_places,
            out_places,
            in_bytes,
            out_bytes,
            size: (width as u32, height as u32),
            out_size: (ow as u32, oh as u32),
            pack_words,
            pack_planes,
            sharpen: sharpness > 0.0,
        })
    }

    /// Frames the GPU takes per [`Self::run`].
    pub fn batch(&self) -> usize {
        self.inputs.len()
    }

    /// Where each plane of an output frame lies in the bytes [`Self::run`] hands over.
    pub fn out_places(&self) -> &[PlaneRows] {
        &self.out_places
    }

    /// Copies a frame into slot `slot` for the next [`Self::run`]: `planes` are each plane's
    /// bytes and row stride, in the layout's order.
    pub fn upload(&self, slot: usize, planes: &[(&[u8], usize)]) -> Result<(), String> {
        let buffer = self.inputs.get(slot).ok_or("no such frame slot")?;
        staging::upload_rows(self.ctx, buffer, 0, self.in_bytes, &self.in_places, planes)
    }

    /// Upscales the frames uploaded into slots `0..n` in one submission and hands each one's
    /// bytes to `read(slot, bytes)` (planes where [`Self::out_places`] says) from one readback.
    pub fn run(&self, n: usize, read: impl FnMut(usize, &[u8])) -> Result<(), String> {
        const UPLOADED: [Option<&wgpu::Buffer>; 1] = [None];
        match n.min(self.batch()) {
            0 => Ok(()),
            1 => self.run_frames(&UPLOADED, Sink::Read(read)),
            n => self.run_frames(&vec![None; n], Sink::Read(read)),
        }
    }

    /// As [`Self::run`] for frames that stay on the GPU: `inputs[k]` is slot k's frame where
    /// it lies (laid out as [`Self::in_places`]; `None`: uploaded), and each result is copied
    /// into `outputs[k]` (laid out as [`Self::out_places`]) in the same submission, nothing
    /// read back or waited for.
    pub fn run_on_gpu(
        &self,
        inputs: &[Option<&wgpu::Buffer>],
        outputs: &[&wgpu::Buffer],
    ) -> Result<(), String> {
        if outputs.len() < inputs.len() || outputs.iter().any(|o| o.size() < self.out_bytes as u64)
        {
            return Err("GPU output frames smaller than the upscaled frames".into());
        }
        self.run_frames(inputs, Sink::Gpu::<fn(usize, &[u8])>(outputs))
    }

    fn run_frames<F: FnMut(usize, &[u8])>(
        &self,
        inputs: &[Option<&wgpu::Buffer>],
        sink: Sink<F>,
    ) -> Result<(), String> {
        let n = inputs.len().min(self.batch());
        if n == 0 {
            return Ok(());
        }
        let in_bytes = (self.in_bytes as u64).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT);
        if inputs.iter().flatten().any(|b| b.size() < in_bytes) {
            return Err("a GPU input frame smaller than its caps".into());
        }
        let ctx = self.ctx;
        let (w, h) = self.size;
        let (ow, oh) = self.out_size;
        let groups = |a: u32| a.div_ceil(GROUP);
        let (pack_x, planes) = (self.pack_words, self.pack_planes);
        let out_bytes = self.out_bytes as u64;
        ctx.checked(|| {
            let mut enc = ctx
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("upscale"),
                });
            for (k, input) in inputs[..n].iter().enumerate() {
                if let Some(frame) = input {
                    enc.copy_buffer_to_buffer(frame, 0, &self.inputs[k], 0, in_bytes);
                }
            }
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("upscale"),
                    timestamp_writes: None,
                });
                let [unpack, easu, rcas, pack] = &self.pipelines;
                for binds in &self.binds[..n] {
                    pass.set_pipeline(unpack);
                    pass.set_bind_group(0, &binds[0], &[]);
                    pass.dispatch_workgroups(groups(w), groups(h), 1);
                    pass.set_pipeline(easu);
                    pass.set_bind_group(0, &binds[1], &[]);
                    pass.dispatch_workgroups(groups(ow), groups(oh), 1);
                    if self.sharpen {
                        pass.set_pipeline(rcas);
                        pass.set_bind_group(0, &binds[2], &[]);
                        pass.dispatch_workgroups(groups(ow), groups(oh), 1);
                    }
                    pass.set_pipeline(pack);
                    pass.set_bind_group(0, &binds[3], &[]);
                    pass.dispatch_workgroups(groups(pack_x), groups(oh), planes);
                }
            }
            let mut read = match sink {
                Sink::Gpu(frames) => {
                    for (output, frame) in self.outputs[..n].iter().zip(frames) {
                        enc.copy_buffer_to_buffer(output, 0, frame, 0, out_bytes);
                    }
                    ctx.queue.submit([enc.finish()]);
                    return Ok(());
                }
                Sink::Read(read) => read,
            };
            for (k, output) in self.outputs[..n].iter().enumerate() {
                let target = self.readback.target()?;
                enc.copy_buffer_to_buffer(output, 0, target, k as u64 * out_bytes, out_bytes);
            }
            let submission = ctx.queue.submit([enc.finish()]);
            let len = n as u64 * out_bytes;
            let frame = self.out_bytes;
            self.readback.read_now(len, submission, |bytes| {
                for k in 0..n {
                    read(k, &bytes[k * frame..][..frame]);
                }
            })
        })
    }
}
