//! The measurements' GPU path, on the shared device, in one submission per frame: the three
//! planes' histograms (from which the statistics follow exactly as on the CPU path), the
//! fingerprint's 32x32 grid of luma sums, and the freeze detector's per-row differences
//! against the reference frame, which stays on the GPU; and the delivery checks: the pixels out
//! of the legal range and the flash grid's cell sums. About 54 KiB plus 12 bytes per row come
//! back per frame; the frame itself is uploaded once (system memory) or copied on the GPU
//! (`memory:WgpuBuffer`), never read back.

use crate::flashes::{FlashDetector, CELL_WORDS, COLUMNS, ROWS};
use crate::gamut::Gamut;
use mediaai_common::gpu::{self, GpuContext};
use mediaai_common::planes::PlaneRows;
use mediaai_common::staging::{self, Readback, ReadbackRing};

const HISTOGRAM_WGSL: &str = include_str!("../../../shaders/qc_histogram.wgsl");
const GRID_WGSL: &str = include_str!("../../../shaders/qc_grid.wgsl");
const DIFFERENCE_WGSL: &str = include_str!("../../../shaders/qc_difference.wgsl");
const COMPLIANCE_WGSL: &str = include_str!("../../../shaders/qc_compliance.wgsl");
/// The out-of-range count (and padding to a binding's alignment), then the cell sums.
const COUNT_BYTES: u64 = 256;
const CELL_BYTES: u64 = (COLUMNS * ROWS * CELL_WORDS * 4) as u64;
const HIST_BYTES: u64 = 768 * 4;
const GRID_BYTES: u64 = 1024 * 4;

/// The planes of a tightly packed I420 frame of `width`x`height` (even sizes).
pub fn i420_planes(width: usize, height: usize) -> [PlaneRows; 3] {
    let chroma = (width / 2, height / 2);
    PlaneRows::consecutive([(width, height), chroma, chroma], 1)
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
    /// Pixels out of the legal range, and the flash grid's cell sums (see
    /// `FlashDetector::frame_from_sums`).
    pub out_of_range: u32,
    pub cells: &'a [u32],
}

/// How the fingerprint samples the luma plane (see `Fingerprinter::sampling`).
pub struct GridSampling<'a> {
    pub column_cell: &'a [u8],
    pub row_cell: &'a [u8],
    pub steps: (usize, usize),
}

/// A frame submitted and not yet read back.
struct InFlight {
    slot: usize,
    readback: Readback,
    /// What its difference passes had: a reference, a previous frame.
    had_reference: bool,
    had_previous: bool,
    /// The reference was replaced by the frame before it after it was submitted: its
    /// difference against that frame is the one that counts.
    reference_moved: bool,
}

/// The bind groups of one frame slot.
struct SlotBinds {
    histogram: wgpu::BindGroup,
    grid: wgpu::BindGroup,
    gamut: wgpu::BindGroup,
    cells: wgpu::BindGroup,
    /// Against the reference, and against the other slot's frame (the frame before).
    against_reference: wgpu::BindGroup,
    against_previous: wgpu::BindGroup,
}

/// Buffers, pipelines and bind groups for frames of one layout, made once.
///
/// Frames go through a pipeline one deep: [`Self::submit`] queues a frame's measuring and
/// [`Self::finish`] reads back the oldest frame's results, so an element can submit frame N and
/// then wait for frame N−1, whose work the GPU has done meanwhile, and the CPU never idles
/// waiting for the GPU. Exactness is kept for the freeze detector, which decides after a frame's
/// results whether it becomes the reference: each frame is measured against the reference and
/// against the frame before, and the one that is right once the decision is known is used.
pub struct GpuAnalysis {
    ctx: &'static GpuContext,
    histogram: wgpu::ComputePipeline,
    grid: wgpu::ComputePipeline,
    difference: wgpu::ComputePipeline,
    gamut: wgpu::ComputePipeline,
    cells: wgpu::ComputePipeline,
    binds: [SlotBinds; 2],
    /// Two frame slots, alternating.
    frames: [wgpu::Buffer; 2],
    reference: wgpu::Buffer,
    /// Histograms, grid, row differences against the reference and against the previous
    /// frame, back to back (the order read back).
    results: wgpu::Buffer,
    readbacks: ReadbackRing,
    /// Frame bytes (a multiple of 4), rows dispatched per plane, sampled rows, bytes of one
    /// difference set.
    frame_len: u64,
    rows: u32,
    luma_rows: u32,
    sampled_rows: u32,
    difference_bytes: u64,
    /// Where the checks' results start in `results`.
    checks_at: u64,
    has_reference: bool,
    has_previous: bool,
    next_slot: usize,
    /// Submitted, oldest first; and the slot of the frame last finished.
    in_flight: [Option<InFlight>; 2],
    finished_slot: usize,
    /// What the last frame measured, as read back.
    out_histograms: [[u64; 256]; 3],
    out_grid: Vec<u32>,
    out_differences: Vec<u32>,
    out_of_range: u32,
    out_cells: Vec<u32>,
}

impl GpuAnalysis {
    /// For frames of `frame_size` bytes with these planes, fingerprinted by `sampling`, checked
    /// as `gamut` and `flashes` check on the CPU; `Err` says why not (no adapter).
    pub fn new(
        frame_size: usize,
        planes: [PlaneRows; 3],
        sampling: GridSampling,
        gamut: &Gamut,
        flashes: &FlashDetector,
    ) -> Result<Self, String> {
        let ctx = gpu::context().map_err(str::to_string)?;
        use wgpu::BufferUsages as U;
        let frame_len = (frame_size as u64).next_multiple_of(4);
        let rows = planes
            .iter()
            .map(|p| p.rows as u32)
            .max()
            .unwrap_or(0)
            .max(1);
        let difference_bytes = 3 * rows as u64 * 4;
        let checks_at = (HIST_BYTES + GRID_BYTES + 2 * difference_bytes).next_multiple_of(256);
        let results_len = checks_at + COUNT_BYTES + CELL_BYTES;
        let uniform = |label: &str, words: &[u32]| ctx.uniform_buffer(label, words);
        let storage = |label: &str, words: &[u32]| {
            let b = ctx.create_buffer(label, (words.len() * 4) as u64, U::STORAGE | U::COPY_DST);
            ctx.queue.write_buffer(&b, 0, &gpu::words_bytes(words));
            b
        };
        let plane_words: Vec<u32> = planes.iter().flat_map(PlaneRows::words).collect();
        let params = uniform("qc planes", &plane_words);
        let luma = uniform("qc luma", &planes[0].words());
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
        let frame = |label: &str| {
            ctx.create_buffer(label, frame_len, U::STORAGE | U::COPY_DST | U::COPY_SRC)
        };
        let frames = [frame("qc frame 0"), frame("qc frame 1")];
        let reference = ctx.create_buffer("qc reference", frame_len, U::STORAGE | U::COPY_DST);
        let results = ctx.create_buffer(
            "qc results",
            results_len,
            U::STORAGE | U::COPY_SRC | U::COPY_DST,
        );
        let readbacks = ReadbackRing::results(ctx, "qc readback", results_len, 2);
        let histogram = ctx.create_compute_pipeline("qc histogram", HISTOGRAM_WGSL, "main");
        let grid = ctx.create_compute_pipeline("qc grid", GRID_WGSL, "main");
        let difference = ctx.create_compute_pipeline("qc difference", DIFFERENCE_WGSL, "main");
        let gamut_pipeline = ctx.create_compute_pipeline("qc gamut", COMPLIANCE_WGSL, "gamut");
        let cells = ctx.create_compute_pipeline("qc flash cells", COMPLIANCE_WGSL, "cells_main");
        let bounds = storage("qc gamut bounds", &gamut.packed_bounds());
        let (lut, weights) = flashes.gpu_constants();
        let lut = storage("qc luminance", &lut.map(f32::to_bits));
        let weights = uniform("qc chroma weights", &weights.map(f32::to_bits));
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
        let differences = HIST_BYTES + GRID_BYTES;
        let slot = |k: usize| {
            let (this, other) = (&frames[k], &frames[1 - k]);
            let against = |label: &str, than: &wgpu::Buffer, at: u64| {
                bind(
                    label,
                    &difference,
                    &[
                        (0, params.as_entire_binding()),
                        (1, this.as_entire_binding()),
                        (2, than.as_entire_binding()),
                        (
                            3,
                            wgpu::BindingResource::Buffer(slice(at, difference_bytes)),
                        ),
                    ],
                )
            };
            SlotBinds {
                histogram: bind(
                    "qc histogram",
                    &histogram,
                    &[
                        (0, params.as_entire_binding()),
                        (1, this.as_entire_binding()),
                        (2, wgpu::BindingResource::Buffer(slice(0, HIST_BYTES))),
                    ],
                ),
                grid: bind(
                    "qc grid",
                    &grid,
                    &[
                        (0, luma.as_entire_binding()),
                        (1, steps.as_entire_binding()),
                        (2, this.as_entire_binding()),
                        (3, column_cell.as_entire_binding()),
                        (4, row_cell.as_entire_binding()),
                        (
                            5,
                            wgpu::BindingResource::Buffer(slice(HIST_BYTES, GRID_BYTES)),
                        ),
                    ],
                ),
                gamut: bind(
                    "qc gamut",
                    &gamut_pipeline,
                    &[
                        (0, params.as_entire_binding()),
                        (1, this.as_entire_binding()),
                        (2, bounds.as_entire_binding()),
                        (3, wgpu::BindingResource::Buffer(slice(checks_at, 16))),
                    ],
                ),
                cells: bind(
                    "qc flash cells",
                    &cells,
                    &[
                        (0, params.as_entire_binding()),
                        (1, this.as_entire_binding()),
                        (4, lut.as_entire_binding()),
                        (5, weights.as_entire_binding()),
                        (
                            6,
                            wgpu::BindingResource::Buffer(slice(
                                checks_at + COUNT_BYTES,
                                CELL_BYTES,
                            )),
                        ),
                    ],
                ),
                against_reference: against("qc difference", &reference, differences),
                against_previous: against(
                    "qc difference to the previous frame",
                    other,
                    differences + difference_bytes,
                ),
            }
        };
        let binds = [slot(0), slot(1)];
        Ok(GpuAnalysis {
            ctx,
            histogram,
            grid,
            difference,
            gamut: gamut_pipeline,
            cells,
            binds,
            frames,
            reference,
            results,
            readbacks,
            frame_len,
            rows,
            luma_rows: planes[0].rows as u32,
            sampled_rows,
            difference_bytes,
            checks_at,
            has_reference: false,
            has_previous: false,
            next_slot: 0,
            in_flight: [None, None],
            finished_slot: 0,
            out_histograms: [[0; 256]; 3],
            out_grid: vec![0; 1024],
            out_differences: vec![0; 3 * rows as usize],
            out_of_range: 0,
            out_cells: vec![0; COLUMNS * ROWS * CELL_WORDS],
        })
    }

    /// Whether a frame was submitted and not yet finished.
    pub fn pending(&self) -> bool {
        self.in_flight[0].is_some()
    }

    /// Queues one frame's measuring: one upload or GPU copy and one submission, not waited
    /// for. At most two frames are in flight: finish the older first.
    pub fn submit(&mut self, source: Source) -> Result<(), String> {
        if self.in_flight[1].is_some() {
            return Err("two frames already in flight".into());
        }
        let ctx = self.ctx;
        let slot = self.next_slot;
        let results_len = self.results.size();
        let (with_reference, with_previous) = (self.has_reference, self.has_previous);
        let readbacks = &mut self.readbacks;
        let readback = ctx.checked(|| {
            let frame = &self.frames[slot];
            let mut enc = ctx
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("qc") });
            match source {
                Source::Host(bytes) => staging::upload_bytes(ctx, frame, bytes),
                Source::Gpu(buffer) => {
                    let len = self.frame_len.min(buffer.size());
                    enc.copy_buffer_to_buffer(buffer, 0, frame, 0, len);
                }
            }
            enc.clear_buffer(&self.results, 0, Some(HIST_BYTES + GRID_BYTES));
            enc.clear_buffer(
                &self.results,
                self.checks_at,
                Some(COUNT_BYTES + CELL_BYTES),
            );
            {
                let binds = &self.binds[slot];
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("qc measure"),
                    timestamp_writes: None,
                });
                pass.set_pipeline(&self.histogram);
                pass.set_bind_group(0, &binds.histogram, &[]);
                pass.dispatch_workgroups(1, self.rows, 3);
                pass.set_pipeline(&self.grid);
                pass.set_bind_group(0, &binds.grid, &[]);
                pass.dispatch_workgroups(self.sampled_rows.max(1), 1, 1);
                pass.set_pipeline(&self.gamut);
                pass.set_bind_group(0, &binds.gamut, &[]);
                pass.dispatch_workgroups(1, self.luma_rows, 1);
                pass.set_pipeline(&self.cells);
                pass.set_bind_group(0, &binds.cells, &[]);
                pass.dispatch_workgroups(COLUMNS as u32, ROWS as u32, 1);
                pass.set_pipeline(&self.difference);
                for (wanted, bind) in [
                    (with_reference, &binds.against_reference),
                    (with_previous, &binds.against_previous),
                ] {
                    if wanted {
                        pass.set_bind_group(0, bind, &[]);
                        pass.dispatch_workgroups(1, self.rows, 3);
                    }
                }
            }
            enc.copy_buffer_to_buffer(&self.results, 0, readbacks.target()?, 0, results_len);
            let submission = ctx.queue.submit([enc.finish()]);
            Ok(readbacks.start(results_len, submission))
        })?;
        let entry = InFlight {
            slot,
            readback,
            had_reference: with_reference,
            had_previous: with_previous,
            reference_moved: false,
        };
        let free = if self.in_flight[0].is_none() { 0 } else { 1 };
        self.in_flight[free] = Some(entry);
        self.next_slot = 1 - slot;
        self.has_previous = true;
        Ok(())
    }

    /// Waits for the oldest frame in flight and returns what it measured (`None`: nothing in
    /// flight). Its difference is against the reference as it stood when the frame before it
    /// was decided (see [`Self::keep_as_reference`]).
    pub fn finish(&mut self) -> Result<Option<Measured<'_>>, String> {
        let Some(done) = self.in_flight[0].take() else {
            return Ok(None);
        };
        self.in_flight[0] = self.in_flight[1].take();
        let ctx = self.ctx;
        let (differences_at, has_difference) = if done.reference_moved {
            (self.difference_bytes, done.had_previous)
        } else {
            (0, done.had_reference)
        };
        let first_difference = ((HIST_BYTES + GRID_BYTES + differences_at) / 4) as usize;
        let difference_words = (self.difference_bytes / 4) as usize;
        let (histograms, grid, differences, out_of_range, cells) = (
            &mut self.out_histograms,
            &mut self.out_grid,
            &mut self.out_differences,
            &mut self.out_of_range,
            &mut self.out_cells,
        );
        let count_word = (self.checks_at / 4) as usize;
        let first_cell = ((self.checks_at + COUNT_BYTES) / 4) as usize;
        let cell_words = cells.len();
        let readbacks = &mut self.readbacks;
        ctx.checked(|| {
            readbacks.finish(done.readback, |bytes| {
                let words = bytes
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
                for (i, w) in words.enumerate() {
                    match i {
                        0..768 => histograms[i / 256][i % 256] = w as u64,
                        768..1792 => grid[i - 768] = w,
                        _ if (first_difference..first_difference + difference_words)
                            .contains(&i) =>
                        {
                            differences[i - first_difference] = w
                        }
                        _ if i == count_word => *out_of_range = w,
                        _ if (first_cell..first_cell + cell_words).contains(&i) => {
                            cells[i - first_cell] = w
                        }
                        _ => {}
                    }
                }
            })
        })?;
        self.finished_slot = done.slot;
        Ok(Some(Measured {
            histograms: &self.out_histograms,
            grid: &self.out_grid,
            differences: has_difference.then_some(self.out_differences.as_slice()),
            out_of_range: self.out_of_range,
            cells: &self.out_cells,
        }))
    }

    /// Measures one frame when none is in flight: [`Self::submit`] then [`Self::finish`].
    pub fn measure(&mut self, source: Source) -> Result<Measured<'_>, String> {
        self.submit(source)?;
        self.finish()?.ok_or_else(|| "nothing measured".to_string())
    }

    /// Makes the frame last finished the reference later frames' differences are taken
    /// against: a copy on the GPU, queued, not waited for. A frame already in flight was
    /// measured against the frame before it too, and that difference is the one it gets.
    pub fn keep_as_reference(&mut self) {
        let ctx = self.ctx;
        let mut enc = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("qc reference"),
            });
        enc.copy_buffer_to_buffer(
            &self.frames[self.finished_slot],
            0,
            &self.reference,
            0,
            self.frame_len,
        );
        ctx.queue.submit([enc.finish()]);
        self.has_reference = true;
        if let Some(next) = self.in_flight[0].as_mut() {
            next.reference_moved = true;
        }
    }

    /// Forgets the reference and the frame before (flush), and any frame in flight.
    pub fn forget_reference(&mut self) {
        while self.pending() {
            // Read back and dropped: the readback buffers must not stay mapped.
            let _ = self.finish();
        }
        self.has_reference = false;
        self.has_previous = false;
    }

    /// Rows per plane in [`Measured::differences`].
    pub fn rows(&self) -> usize {
        self.rows as usize
    }
}
