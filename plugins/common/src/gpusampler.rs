//! [`TensorSampler`] on the GPU, for frames that are there already (`memory:WgpuBuffer`): one
//! pass resamples and colour-converts the frame into the network's RGB input as 8-bit samples,
//! and only those come back (3 bytes per input pixel), never the frame. Its values are those of
//! the CPU sampler [`TensorSampler::in_levels`]: same taps, matrix, placement and rounding.

use crate::gpu::{self, GpuContext};
use crate::gpumemory::GpuFrame;
use crate::inference::InputValues;
use crate::planes::{self, FramePlanes};
use crate::sampler::{TensorSampler, TensorValue, LETTERBOX_GREY};
use crate::staging::{self, ReadbackRing};

/// Where a frame to sample lies: on the GPU (copied there), or in system memory (uploaded:
/// worth it where the network runs on the GPU anyway and the CPU would otherwise resample
/// every pixel). Either is laid out as the planes the sampler was made for.
#[derive(Clone, Copy)]
pub enum FrameSource<'a> {
    Gpu(&'a GpuFrame),
    Host(&'a [u8]),
}

const PASS_WGSL: &str = include_str!("../../../shaders/tensor_sample.wgsl");

/// The GPU side of one [`TensorSampler`]: its pipeline, buffers and bind group, made once per
/// caps; sampling a frame creates nothing.
pub struct GpuTensorSampler {
    ctx: &'static GpuContext,
    pipeline: wgpu::ComputePipeline,
    bind: wgpu::BindGroup,
    /// The frame's bytes, copied on the GPU from the frame's own buffer.
    frame: wgpu::Buffer,
    frame_len: u64,
    samples: wgpu::Buffer,
    readback: ReadbackRing,
    samples_len: u64,
    dst_w: usize,
    dst_h: usize,
    row_bytes: usize,
    gain: f32,
}

impl GpuTensorSampler {
    /// For `sampler`'s sizes, reading frames of `frame_size` bytes laid out as `planes`; `Err`
    /// says why not (no adapter).
    pub fn new(
        sampler: &TensorSampler,
        planes: FramePlanes,
        frame_size: usize,
    ) -> Result<Self, String> {
        let ctx = gpu::context().map_err(str::to_string)?;
        use wgpu::BufferUsages as U;
        let (dst_w, dst_h) = (sampler.dst_w as usize, sampler.dst_h as usize);
        let row_bytes = dst_w.next_multiple_of(4);
        let samples_len = (3 * row_bytes * dst_h) as u64;
        let frame_len = (frame_size as u64).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT);
        let mut words: Vec<u32> = planes.words().to_vec();
        words.extend(planes::matrix_words(&sampler.matrix()));
        words.extend([
            sampler.src_w,
            sampler.src_h,
            sampler.dst_w,
            sampler.dst_h,
            row_bytes as u32,
            sampler.inner_x,
            sampler.inner_y,
            sampler.inner_w,
            sampler.inner_h,
            LETTERBOX_GREY.to_bits(),
            0,
            0,
        ]);
        let uniform = ctx.uniform_buffer("tensor sampling", &words);
        let frame = ctx.create_buffer("tensor frame", frame_len, U::STORAGE | U::COPY_DST);
        let samples = ctx.create_buffer("tensor samples", samples_len, U::STORAGE | U::COPY_SRC);
        let readback = ReadbackRing::results(ctx, "tensor readback", samples_len, 1);
        let wgsl = format!("{}\n{PASS_WGSL}", planes::WGSL);
        let pipeline = ctx.create_compute_pipeline("tensor sample", &wgsl, "main");
        let bind = ctx.create_bind_group(
            "tensor sample",
            &pipeline,
            &[(0, &uniform), (1, &frame), (2, &samples)],
        );
        Ok(GpuTensorSampler {
            ctx,
            pipeline,
            bind,
            frame,
            frame_len,
            samples,
            readback,
            samples_len,
            dst_w,
            dst_h,
            row_bytes,
            gain: sampler.gain(),
        })
    }

    /// Samples `frame` (laid out as the planes given at construction) into `out` (the
    /// sampler's tensor length): one copy (a GPU frame, whose host copy is neither read nor
    /// made) or one upload (a frame in system memory), one pass on the GPU, one submission,
    /// one readback of the samples.
    pub fn sample<T: TensorValue>(&self, frame: FrameSource, out: &mut [T]) -> Result<(), String> {
        self.run(Some(frame), out)
    }

    /// [`Self::sample`] into a network input of either kind.
    pub fn sample_values(&self, frame: FrameSource, out: InputValues) -> Result<(), String> {
        match out {
            InputValues::F32(v) => self.sample(frame, v),
            InputValues::F16(v) => self.sample(frame, v),
            InputValues::U8(v) => self.sample(frame, v),
        }
    }

    /// One pass over whatever the sampler's frame buffer holds, read back into `out`: the
    /// first submission, mapping and readback done before a frame needs them, with no frame
    /// copied in.
    pub fn prime(&self, out: InputValues) -> Result<(), String> {
        match out {
            InputValues::F32(v) => self.run(None, v),
            InputValues::F16(v) => self.run(None, v),
            InputValues::U8(v) => self.run(None, v),
        }
    }

    fn run<T: TensorValue>(&self, frame: Option<FrameSource>, out: &mut [T]) -> Result<(), String> {
        if out.len() != 3 * self.dst_w * self.dst_h {
            return Err(format!(
                "tensor of {} values for a {}x{} input",
                out.len(),
                self.dst_w,
                self.dst_h
            ));
        }
        let ctx = self.ctx;
        ctx.checked(|| {
            let mut enc = ctx
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("tensor sample"),
                });
            match frame {
                Some(FrameSource::Gpu(frame)) => {
                    let frame = frame.gpu_buffer(ctx);
                    let len = self.frame_len.min(frame.size());
                    enc.copy_buffer_to_buffer(frame, 0, &self.frame, 0, len);
                }
                Some(FrameSource::Host(bytes)) => staging::upload_bytes(ctx, &self.frame, bytes),
                None => {}
            }
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("tensor sample"),
                    timestamp_writes: None,
                });
                pass.set_pipeline(&self.pipeline);
                pass.set_bind_group(0, &self.bind, &[]);
                let words = (self.row_bytes / 4) as u32;
                pass.dispatch_workgroups(words.div_ceil(16), (self.dst_h as u32).div_ceil(16), 1);
            }
            let target = self.readback.target()?;
            enc.copy_buffer_to_buffer(&self.samples, 0, target, 0, self.samples_len);
            let submission = ctx.queue.submit([enc.finish()]);
            let (w, row, gain) = (self.dst_w, self.row_bytes, self.gain);
            self.readback
                .read_now(self.samples_len, submission, |bytes| {
                    for (dst, src) in out.chunks_exact_mut(w).zip(bytes.chunks_exact(row)) {
                        for (d, &s) in dst.iter_mut().zip(src) {
                            *d = T::from_level(s, gain);
                        }
                    }
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpumemory::{gpu_frame, GpuAllocator};
    use crate::sampler::{PixelSource, YuvMatrix};
    use gst::prelude::*;

    #[test]
    fn the_sampling_shader_is_valid_wgsl() {
        mediaai_testing::validate_wgsl(&format!("{}\n{PASS_WGSL}", planes::WGSL));
    }

    /// The GPU's samples against the CPU's, for every layout the sampler reads, stretched and
    /// letterboxed, down and up: equal levels but for float rounding at a half (at most one
    /// level, on a few samples).
    #[test]
    fn gpu_samples_are_the_cpu_samples() {
        let _serial = crate::gpumemory::serial_transfers();
        gst::init().unwrap();
        let ctx = gpu::test_context();
        use gst_video::VideoFormat as F;
        let matrix = YuvMatrix::new(0.2126, 0.0722, false);
        for format in [F::I420, F::Yv12, F::Nv12, F::Bgrx, F::Rgb, F::Rgba] {
            for (sw, sh, dw, dh, letterbox) in [
                (61, 37, 32, 32, false),
                (64, 48, 40, 40, true),
                (20, 14, 36, 30, false),
            ] {
                let info = gst_video::VideoInfo::builder(format, sw, sh)
                    .build()
                    .unwrap();
                let bytes: Vec<u8> = (0..info.size()).map(|i| ((i * 7919) % 251) as u8).collect();
                let sampler = if letterbox {
                    TensorSampler::letterboxed(sw, sh, dw, dh, matrix).with_gain(1.0 / 255.0)
                } else {
                    TensorSampler::new(sw, sh, dw, dh, matrix)
                }
                .in_levels();
                let buffer = gst::Buffer::from_slice(bytes.clone());
                let frame =
                    gst_video::VideoFrameRef::from_buffer_ref_readable(&buffer, &info).unwrap();
                let mut on_cpu = vec![0.0; sampler.tensor_len()];
                assert!(sampler.fill(&PixelSource::from_frame(&frame).unwrap(), &mut on_cpu));

                let mem = GpuAllocator::get().alloc(info.size(), None).unwrap();
                let gpu_side = gpu_frame(&mem).unwrap();
                // Written straight to the GPU buffer.
                let aligned = bytes.len().next_multiple_of(4);
                let mut padded = bytes.clone();
                padded.resize(aligned, 0);
                ctx.queue
                    .write_buffer(gpu_side.overwrite_on_gpu(), 0, &padded);
                let planes = FramePlanes::of(&info).unwrap();
                let gpu = GpuTensorSampler::new(&sampler, planes, info.size()).unwrap();
                let mut on_gpu = vec![-1.0; sampler.tensor_len()];
                gpu.sample(FrameSource::Gpu(gpu_side), &mut on_gpu).unwrap();
                // The same frame from system memory (uploaded) gives the same samples.
                let mut from_host = vec![-2.0; sampler.tensor_len()];
                gpu.sample(FrameSource::Host(&bytes), &mut from_host)
                    .unwrap();
                assert_eq!(
                    from_host, on_gpu,
                    "{format:?} {sw}x{sh}: from system memory"
                );

                let step = sampler.gain();
                let mut off = 0;
                for (i, (c, g)) in on_cpu.iter().zip(&on_gpu).enumerate() {
                    let levels = ((c - g) / step).abs();
                    assert!(
                        levels < 1.01,
                        "{format:?} {sw}x{sh}->{dw}x{dh}: value {i} {c} on the CPU, {g} on the GPU"
                    );
                    off += (levels > 0.01) as usize;
                }
                assert!(
                    off * 100 <= on_cpu.len(),
                    "{format:?} {sw}x{sh}->{dw}x{dh}: {off} of {} values differ",
                    on_cpu.len()
                );

                // A network taking 8-bit levels gets the levels themselves, from either side.
                let mut levels_gpu = vec![0u8; sampler.tensor_len()];
                gpu.sample_values(
                    FrameSource::Gpu(gpu_side),
                    crate::inference::InputValues::U8(&mut levels_gpu),
                )
                .unwrap();
                let expected: Vec<u8> = on_gpu.iter().map(|g| (g / step).round() as u8).collect();
                assert_eq!(levels_gpu, expected, "{format:?} {sw}x{sh}: GPU levels");
                let mut levels_cpu = vec![0u8; sampler.tensor_len()];
                assert!(sampler.fill(&PixelSource::from_frame(&frame).unwrap(), &mut levels_cpu));
                let expected: Vec<u8> = on_cpu.iter().map(|c| (c / step).round() as u8).collect();
                assert_eq!(levels_cpu, expected, "{format:?} {sw}x{sh}: CPU levels");
            }
        }
    }
}
