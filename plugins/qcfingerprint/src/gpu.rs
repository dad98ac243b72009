//! The statistics' GPU path: the three planes' histograms as a GPU reduction through the
//! shared device (one upload, one submission, 3 KiB read back per frame); the statistics then
//! follow from them exactly as on the CPU path.

use mediaai_common::gpu::{self, GpuContext};

const WGSL: &str = include_str!("../../../shaders/qc_histogram.wgsl");
const HIST_BYTES: u64 = 768 * 4;

/// Where one plane lies in a frame: byte offset, row stride, width, height.
pub type PlaneLayout = [u32; 4];

/// The layout of a tightly packed I420 frame of `width`x`height` (even sizes).
pub fn i420_layout(width: usize, height: usize) -> [PlaneLayout; 3] {
    let (w, h) = (width as u32, height as u32);
    let (y, c) = (w * h, w * h / 4);
    [
        [0, w, w, h],
        [y, w / 2, w / 2, h / 2],
        [y + c, w / 2, w / 2, h / 2],
    ]
}

/// Buffers, pipeline and bind group for frames of one layout, made once.
pub struct GpuHistograms {
    ctx: &'static GpuContext,
    pipeline: wgpu::ComputePipeline,
    bind: wgpu::BindGroup,
    frame: wgpu::Buffer,
    histograms: wgpu::Buffer,
    readback: wgpu::Buffer,
    /// Frame bytes uploaded (a multiple of 4) and rows dispatched.
    frame_len: u64,
    rows: u32,
}

impl GpuHistograms {
    /// For frames of `frame_size` bytes with these planes; `Err` says why not (no adapter).
    pub fn new(frame_size: usize, planes: [PlaneLayout; 3]) -> Result<Self, String> {
        let ctx = gpu::context().map_err(str::to_string)?;
        use wgpu::BufferUsages as U;
        let frame_len = (frame_size as u64).next_multiple_of(4);
        let params = ctx.create_buffer("qc planes", 48, U::UNIFORM | U::COPY_DST);
        let frame = ctx.create_buffer("qc frame", frame_len, U::STORAGE | U::COPY_DST);
        let histograms = ctx.create_buffer(
            "qc histograms",
            HIST_BYTES,
            U::STORAGE | U::COPY_SRC | U::COPY_DST,
        );
        let readback = ctx.create_buffer("qc readback", HIST_BYTES, U::MAP_READ | U::COPY_DST);
        let pipeline = ctx.create_compute_pipeline("qc histogram", WGSL, "main");
        let bind = ctx.create_bind_group(
            "qc histogram",
            &pipeline,
            &[(0, &params), (1, &frame), (2, &histograms)],
        );
        let words: Vec<u8> = planes
            .iter()
            .flatten()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        ctx.queue.write_buffer(&params, 0, &words);
        let rows = planes.iter().map(|p| p[3]).max().unwrap_or(0);
        Ok(GpuHistograms {
            ctx,
            pipeline,
            bind,
            frame,
            histograms,
            readback,
            frame_len,
            rows,
        })
    }

    /// The histograms of `frame` (its bytes as mapped) into `out`.
    pub fn histograms(&self, frame: &[u8], out: &mut [[u64; 256]; 3]) -> Result<(), String> {
        let ctx = self.ctx;
        ctx.checked(|| {
            let whole = frame.len().min(self.frame_len as usize) / 4 * 4;
            ctx.queue.write_buffer(&self.frame, 0, &frame[..whole]);
            let rest = &frame[whole..frame.len().min(self.frame_len as usize)];
            if !rest.is_empty() {
                let mut last = [0u8; 4];
                last[..rest.len()].copy_from_slice(rest);
                ctx.queue.write_buffer(&self.frame, whole as u64, &last);
            }
            let mut enc = ctx
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("qc") });
            enc.clear_buffer(&self.histograms, 0, None);
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("qc histogram"),
                    timestamp_writes: None,
                });
                pass.set_pipeline(&self.pipeline);
                pass.set_bind_group(0, &self.bind, &[]);
                pass.dispatch_workgroups(1, self.rows.max(1), 3);
            }
            enc.copy_buffer_to_buffer(&self.histograms, 0, &self.readback, 0, HIST_BYTES);
            let submission = ctx.queue.submit([enc.finish()]);
            ctx.begin_read(&self.readback, HIST_BYTES);
            ctx.finish_read(&self.readback, HIST_BYTES, Some(submission), |bytes| {
                for (i, c) in bytes.chunks_exact(4).enumerate() {
                    out[i / 256][i % 256] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as u64;
                }
            })
        })
    }
}
