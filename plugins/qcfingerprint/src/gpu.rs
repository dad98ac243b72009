//! The measurements' GPU path, on the shared device, in one submission per frame: the three
//! planes' histograms (from which the statistics follow exactly as on the CPU path), the
//! fingerprint's 32x32 grid of luma sums, and the freeze detector's per-row differences
//! against the reference frame, which stays on the GPU. About 8 KiB plus 12 bytes per row come
//! back per frame; the frame itself is uploaded once (system memory) or copied on the GPU
//! (`memory:WgpuBuffer`), never read back.

use mediaai_common::gpu::{self, GpuContext};
use mediaai_common::gpumemory;
use mediaai_common::planes;

const HISTOGRAM_WGSL: &str = include_str!("../../../shaders/qc_histogram.wgsl");
const GRID_WGSL: &str = include_str!("../../../shaders/qc_grid.wgsl");
const DIFFERENCE_WGSL: &str = include_str!("../../../shaders/qc_difference.wgsl");
const HIST_BYTES: u64 = 768 * 4;
const GRID_BYTES: u64 = 1024 * 4;

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

/// Where a frame's bytes come from.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// Mapped in system memory: uploaded.
    Host(&'a [u8]),
    /// On the GPU already: copied there.
    Gpu(&'a wgpu::Buffer),
}

/// What one frame measured: its histograms, fingerprint grid, and (when a reference was
/// set) the per-row differences, plane after plane.
pub struct Measured<'a> {
    pub histograms: &'a [[u64; 256]; 3],
    pub grid: &'a [u32],
    pub differences: Option<&'a [u32]>,
}

/// How the fingerprint samples the luma plane (see `Fingerprinter::sampling`).
pub struct GridSampling<'a> {
    pub column_cell: &'a [u8],
    pub row_cell: &'a [u8],
    pub steps: (usize, usize),
}

/// Buffers, pipelines and bind groups for frames of one layout, made once.
pub struct GpuAnalysis {
    ctx: &'static GpuContext,
    histogram: wgpu::ComputePipeline,
    grid: wgpu::ComputePipeline,
    difference: wgpu::ComputePipeline,
    bind_histogram: wgpu::BindGroup,
    bind_grid: wgpu::BindGroup,
    bind_difference: wgpu::BindGroup,
    frame: wgpu::Buffer,
    reference: wgpu::Buffer,
    /// Histograms, grid and row differences, back to back (the order read back).
    results: wgpu::Buffer,
    readback: wgpu::Buffer,
    /// Frame bytes (a multiple of 4), rows dispatched per plane, sampled rows.
    frame_len: u64,
    rows: u32,
    sampled_rows: u32,
    has_reference: bool,
    /// What the last frame measured, as read back.
    out_histograms: [[u64; 256]; 3],
    out_grid: Vec<u32>,
    out_differences: Vec<u32>,
}

impl GpuAnalysis {
    /// For frames of `frame_size` bytes with these planes, fingerprinted by `sampling`; `Err`
    /// says why not (no adapter).
    pub fn new(
        frame_size: usize,
        planes: [PlaneLayout; 3],
        sampling: GridSampling,
    ) -> Result<Self, String> {
        let ctx = gpu::context().map_err(str::to_string)?;
        use wgpu::BufferUsages as U;
        let frame_len = (frame_size as u64).next_multiple_of(4);
        let rows = planes.iter().map(|p| p[3]).max().unwrap_or(0).max(1);
        let difference_bytes = 3 * rows as u64 * 4;
        let results_len = HIST_BYTES + GRID_BYTES + difference_bytes;
        let uniform = |label: &str, words: &[u32]| ctx.uniform_buffer(label, words);
        let storage = |label: &str, words: &[u32]| {
            let b = ctx.create_buffer(label, (words.len() * 4) as u64, U::STORAGE | U::COPY_DST);
            ctx.queue.write_buffer(&b, 0, &planes::words_bytes(words));
            b
        };
        let plane_words: Vec<u32> = planes.iter().flatten().copied().collect();
        let params = uniform("qc planes", &plane_words);
        let luma = uniform("qc luma", &planes[0]);
        let cells = |c: &[u8]| -> Vec<u32> { c.iter().map(|&v| v as u32).collect() };
        let (columns, sampled_rows) = (
            sampling.column_cell.len() as u32,
            sampling.row_cell.len() as u32,
        );
        let steps = uniform(
            "qc steps",
            &[
                sampling.steps.0 as u32,
                sampling.steps.1 as u32,
                columns,
                sampled_rows,
            ],
        );
        let column_cell = storage("qc column cells", &cells(sampling.column_cell));
        let row_cell = storage("qc row cells", &cells(sampling.row_cell));
        let frame = ctx.create_buffer(
            "qc frame",
            frame_len,
            U::STORAGE | U::COPY_DST | U::COPY_SRC,
        );
        let reference = ctx.create_buffer("qc reference", frame_len, U::STORAGE | U::COPY_DST);
        let results = ctx.create_buffer(
            "qc results",
            results_len,
            U::STORAGE | U::COPY_SRC | U::COPY_DST,
        );
        let readback = ctx.create_buffer("qc readback", results_len, U::MAP_READ | U::COPY_DST);
        let histogram = ctx.create_compute_pipeline("qc histogram", HISTOGRAM_WGSL, "main");
        let grid = ctx.create_compute_pipeline("qc grid", GRID_WGSL, "main");
        let difference = ctx.create_compute_pipeline("qc difference", DIFFERENCE_WGSL, "main");
        let slice = |offset: u64, size: u64| wgpu::BufferBinding {
            buffer: &results,
            offset,
            size: wgpu::BufferSize::new(size),
        };
        let bind = |label: &str,
                    pipeline: &wgpu::ComputePipeline,
                    entries: &[(u32, wgpu::BindingResource)]| {
            ctx.create_bind_group_of(label, pipeline, entries)
        };
        let bind_histogram = bind(
            "qc histogram",
            &histogram,
            &[
                (0, params.as_entire_binding()),
                (1, frame.as_entire_binding()),
                (2, wgpu::BindingResource::Buffer(slice(0, HIST_BYTES))),
            ],
        );
        let bind_grid = bind(
            "qc grid",
            &grid,
            &[
                (0, luma.as_entire_binding()),
                (1, steps.as_entire_binding()),
                (2, frame.as_entire_binding()),
                (3, column_cell.as_entire_binding()),
                (4, row_cell.as_entire_binding()),
                (
                    5,
                    wgpu::BindingResource::Buffer(slice(HIST_BYTES, GRID_BYTES)),
                ),
            ],
        );
        let bind_difference = bind(
            "qc difference",
            &difference,
            &[
                (0, params.as_entire_binding()),
                (1, frame.as_entire_binding()),
                (2, reference.as_entire_binding()),
                (
                    3,
                    wgpu::BindingResource::Buffer(slice(HIST_BYTES + GRID_BYTES, difference_bytes)),
                ),
            ],
        );
        Ok(GpuAnalysis {
            ctx,
            histogram,
            grid,
            difference,
            bind_histogram,
            bind_grid,
            bind_difference,
            frame,
            reference,
            results,
            readback,
            frame_len,
            rows,
            sampled_rows,
            has_reference: false,
            out_histograms: [[0; 256]; 3],
            out_grid: vec![0; 1024],
            out_differences: vec![0; 3 * rows as usize],
        })
    }

    /// Measures one frame: one upload or GPU copy, one submission, one small readback.
    pub fn measure(&mut self, source: Source) -> Result<Measured<'_>, String> {
        let ctx = self.ctx;
        let results_len = self.results.size();
        let with_difference = self.has_reference;
        ctx.checked(|| {
            let mut enc = ctx
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("qc") });
            match source {
                Source::Host(frame) => {
                    let n = frame.len().min(self.frame_len as usize);
                    let whole = n / 4 * 4;
                    ctx.queue.write_buffer(&self.frame, 0, &frame[..whole]);
                    if whole < n {
                        let mut last = [0u8; 4];
                        last[..n - whole].copy_from_slice(&frame[whole..n]);
                        ctx.queue.write_buffer(&self.frame, whole as u64, &last);
                    }
                    gpumemory::count_upload();
                }
                Source::Gpu(buffer) => {
                    let len = self.frame_len.min(buffer.size());
                    enc.copy_buffer_to_buffer(buffer, 0, &self.frame, 0, len);
                }
            }
            enc.clear_buffer(&self.results, 0, Some(HIST_BYTES + GRID_BYTES));
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("qc measure"),
                    timestamp_writes: None,
                });
                pass.set_pipeline(&self.histogram);
                pass.set_bind_group(0, &self.bind_histogram, &[]);
                pass.dispatch_workgroups(1, self.rows, 3);
                pass.set_pipeline(&self.grid);
                pass.set_bind_group(0, &self.bind_grid, &[]);
                pass.dispatch_workgroups(self.sampled_rows.max(1), 1, 1);
                if with_difference {
                    pass.set_pipeline(&self.difference);
                    pass.set_bind_group(0, &self.bind_difference, &[]);
                    pass.dispatch_workgroups(1, self.rows, 3);
                }
            }
            enc.copy_buffer_to_buffer(&self.results, 0, &self.readback, 0, results_len);
            let submission = ctx.queue.submit([enc.finish()]);
            ctx.begin_read(&self.readback, results_len);
            let (histograms, grid, differences) = (
                &mut self.out_histograms,
                &mut self.out_grid,
                &mut self.out_differences,
            );
            ctx.finish_read(&self.readback, results_len, Some(submission), |bytes| {
                let words = bytes
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
                for (i, w) in words.enumerate() {
                    match i {
                        0..768 => histograms[i / 256][i % 256] = w as u64,
                        768..1792 => grid[i - 768] = w,
                        _ => differences[i - 1792] = w,
                    }
                }
            })
        })?;
        Ok(Measured {
            histograms: &self.out_histograms,
            grid: &self.out_grid,
            differences: with_difference.then_some(self.out_differences.as_slice()),
        })
    }

    /// Makes the frame last measured the reference later frames' differences are taken
    /// against: a copy on the GPU, queued, not waited for.
    pub fn keep_as_reference(&mut self) {
        let ctx = self.ctx;
        let mut enc = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("qc reference"),
            });
        enc.copy_buffer_to_buffer(&self.frame, 0, &self.reference, 0, self.frame_len);
        ctx.queue.submit([enc.finish()]);
        self.has_reference = true;
    }

    /// Forgets the reference (flush).
    pub fn forget_reference(&mut self) {
        self.has_reference = false;
    }

    /// Rows per plane in [`Measured::differences`].
    pub fn rows(&self) -> usize {
        self.rows as usize
    }
}
