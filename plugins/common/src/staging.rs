//! Frames crossing between the host and the GPU, written once for every GPU path of the
//! collection: uploads through the queue (a whole frame, or planes row by row into a layout
//! of [`PlaneRows`]), and a ring of readback buffers, so that an element can submit frame N
//! while frame N−1's bytes come back. Every frame crossing is counted
//! ([`crate::gpumemory::uploads`] / [`crate::gpumemory::downloads`]): that count is how the
//! tests and the bench show one upload and one readback per frame.

use std::cell::Cell;
use std::num::NonZeroU64;

use crate::gpu::GpuContext;
use crate::gpumemory;
use crate::pixels::Plane;
use crate::planes::PlaneRows;
use rayon::prelude::*;

/// Writes `bytes` at the start of `target` (at most its size): one upload, queued. A length
/// that is not a multiple of 4 (wgpu's copy unit) is padded with zeros.
pub fn upload_bytes(ctx: &GpuContext, target: &wgpu::Buffer, bytes: &[u8]) {
    write_padded(
        ctx,
        target,
        0,
        &bytes[..bytes.len().min(target.size() as usize)],
    );
    gpumemory::count_upload();
}

/// Writes the byte ranges `ranges` (start, end; empty ones skipped; starts a multiple of 4) of
/// a frame's `data` to the same places in `target`: one upload of the part of a frame a pass
/// reads, queued.
pub fn upload_ranges(
    ctx: &GpuContext,
    target: &wgpu::Buffer,
    data: &[u8],
    ranges: &[(usize, usize)],
) {
    for &(a, b) in ranges.iter().filter(|r| r.1 > r.0) {
        write_padded(ctx, target, a as u64, &data[a..b]);
    }
    gpumemory::count_upload();
}

/// `bytes` into `target` at `at` (a multiple of 4), the last partial word padded with zeros.
fn write_padded(ctx: &GpuContext, target: &wgpu::Buffer, at: u64, bytes: &[u8]) {
    let whole = bytes.len() / 4 * 4;
    if whole > 0 {
        ctx.queue.write_buffer(target, at, &bytes[..whole]);
    }
    if whole < bytes.len() {
        let mut last = [0u8; 4];
        last[..bytes.len() - whole].copy_from_slice(&bytes[whole..]);
        ctx.queue.write_buffer(target, at + whole as u64, &last);
    }
}

/// Writes one frame into `target[at..at + len]`, laid out as `places` says, from `planes`
/// (each plane's bytes and row stride, in the order of `places`): one upload, queued, the
/// rows copied straight into the queue's staging memory. `Err` for a plane smaller than its
/// place (nothing is written then).
pub fn upload_rows(
    ctx: &GpuContext,
    target: &wgpu::Buffer,
    at: u64,
    len: usize,
    places: &[PlaneRows],
    planes: &[(&[u8], usize)],
) -> Result<(), String> {
    if planes.len() < places.len() {
        return Err("a frame with too few planes".into());
    }
    for (place, (data, stride)) in places.iter().zip(planes) {
        if place.rows == 0 {
            continue;
        }
        let needed = stride * (place.rows - 1) + place.row_bytes;
        if *stride < place.row_bytes || data.len() < needed {
            return Err("a frame smaller than its caps".into());
        }
        if place.offset + place.stride * (place.rows - 1) + place.row_bytes > len {
            return Err("a plane outside the GPU frame".into());
        }
    }
    let size = NonZeroU64::new(len as u64).ok_or("empty frame")?;
    let mut view = ctx
        .queue
        .write_buffer_with(target, at, size)
        .ok_or("GPU upload refused")?;
    gpumemory::count_upload();
    for (place, (data, stride)) in places.iter().zip(planes) {
        if place.rows > 0 {
            let end = place.offset + place.stride * (place.rows - 1) + place.row_bytes;
            let rows = Rows {
                place,
                data,
                stride: *stride,
            };
            rows.copy(view.slice(place.offset..end), 0..place.rows);
        }
    }
    Ok(())
}

/// Bytes of rows one task copies at least: a frame's rows go up split among the thread pool's
/// threads when called on one of them (one core's copy into the staging memory is a large
/// share of an SD frame's GPU path), small planes on the calling thread.
const BYTES_PER_TASK: usize = 64 * 1024;

/// Write-only staging bytes handed to another thread of the pool.
struct Bytes<'a>(wgpu::WriteOnly<'a, [u8]>);

// SAFETY: a `WriteOnly<[u8]>` is an exclusive, write-only borrow of bytes (as `&mut [u8]`,
// which is `Send`); wgpu's own `Send` impl only misses it because its `T: Send` bound
// requires `T: Sized`. Each half of a split goes to one thread, and both end before the
// view they were split from is used again (`rayon::join`).
unsafe impl Send for Bytes<'_> {}

impl<'a> Bytes<'a> {
    /// The bytes, on the thread they were handed to (a method, so that a closure takes the
    /// whole `Bytes`, not only its field).
    fn into_inner(self) -> wgpu::WriteOnly<'a, [u8]> {
        self.0
    }
}

/// One plane's rows on their way into its place in the staging memory.
struct Rows<'a> {
    place: &'a PlaneRows,
    data: &'a [u8],
    stride: usize,
}

impl Rows<'_> {
    /// Rows `rows` into `to`, which starts at the first of them: halves in parallel while
    /// they are large, so nothing is allocated to split them.
    fn copy(&self, mut to: wgpu::WriteOnly<'_, [u8]>, rows: std::ops::Range<usize>) {
        let (place, stride) = (self.place, self.stride);
        // Split only on a thread of the pool: from outside, the split would wait for a pool
        // thread to wake and take it, longer than the copy.
        let large = rows.len() >= 2 && rows.len() * place.row_bytes >= 2 * BYTES_PER_TASK;
        if large && rayon::current_thread_index().is_some() {
            let mid = rows.start + rows.len() / 2;
            let (first, second) = to.split_at((mid - rows.start) * place.stride);
            let (first, second) = (Bytes(first), Bytes(second));
            rayon::join(
                move || self.copy(first.into_inner(), rows.start..mid),
                move || self.copy(second.into_inner(), mid..rows.end),
            );
            return;
        }
        for (i, y) in rows.enumerate() {
            let at = i * place.stride;
            to.slice(at..at + place.row_bytes)
                .copy_from_slice(&self.data[y * stride..][..place.row_bytes]);
        }
    }
}

/// Copies `plane` (as read back from the GPU) into `dst`, its rows `stride` apart (a mapped
/// frame): the readback's half of a frame's crossing, split among the pool's threads as
/// [`upload_rows`] is (in stripes of rows, on a pool thread, for large planes).
pub fn copy_plane_out(plane: Plane, dst: &mut [u8], stride: usize) {
    let w = plane.width;
    let copy = |(y, row): (usize, &mut [u8])| row[..w].copy_from_slice(plane.row(y));
    let (stride, h) = (stride.max(1), plane.height);
    if h * w >= 2 * BYTES_PER_TASK && rayon::current_thread_index().is_some() {
        dst.par_chunks_mut(stride)
            .take(h)
            .enumerate()
            .with_min_len((BYTES_PER_TASK / w.max(1)).max(1))
            .for_each(copy);
    } else {
        dst.chunks_mut(stride).take(h).enumerate().for_each(copy);
    }
}

/// A readback on its way: made by [`ReadbackRing::start`], ended by [`ReadbackRing::finish`]
/// or [`ReadbackRing::abandon`].
#[derive(Debug)]
#[must_use = "a started readback keeps its ring slot until finished or abandoned"]
pub struct Readback {
    slot: usize,
    len: u64,
    submission: wgpu::SubmissionIndex,
}

/// Host-mappable buffers that GPU results are copied into, used in turn; made once, so no
/// GPU object is made per frame. With two or more slots one readback can be mapped while
/// the next frame's commands copy into another slot. Used from one thread at a time (it is
/// `Send`, not `Sync`); the [`Readback`] a start returns is what owns a slot.
pub struct ReadbackRing {
    ctx: &'static GpuContext,
    buffers: Vec<wgpu::Buffer>,
    busy: Vec<Cell<bool>>,
    next: Cell<usize>,
    /// Frames come back (counted as downloads), or results that are not frames (a tensor,
    /// measurements), which are not.
    frames: bool,
}

impl ReadbackRing {
    /// For frames (or batches of frames) coming back, each finish counted as one download:
    /// `slots` buffers (at least one) of `len` bytes (rounded up to wgpu's copy unit).
    pub fn frames(ctx: &'static GpuContext, label: &str, len: u64, slots: usize) -> Self {
        Self::new(ctx, label, len, slots, true)
    }

    /// As [`Self::frames`] for results that are not frames (network input, measurements):
    /// not counted as downloads.
    pub fn results(ctx: &'static GpuContext, label: &str, len: u64, slots: usize) -> Self {
        Self::new(ctx, label, len, slots, false)
    }

    fn new(ctx: &'static GpuContext, label: &str, len: u64, slots: usize, frames: bool) -> Self {
        let len = len.max(4).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT);
        let usage = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
        let slots = slots.max(1);
        ReadbackRing {
            ctx,
            buffers: (0..slots)
                .map(|_| ctx.create_buffer(label, len, usage))
                .collect(),
            busy: vec![Cell::new(false); slots],
            next: Cell::new(0),
            frames,
        }
    }

    /// Whether the next slot is free for [`Self::target`].
    pub fn can_start(&self) -> bool {
        !self.busy[self.next.get()].get()
    }

    /// Bytes each slot holds.
    pub fn slot_len(&self) -> u64 {
        self.buffers[0].size()
    }

    /// The buffer the next readback lands in: record copies into it, submit them, then
    /// [`Self::start`]. `Err` when every slot awaits its finish.
    pub fn target(&self) -> Result<&wgpu::Buffer, String> {
        if !self.can_start() {
            return Err(format!(
                "{} GPU readbacks in flight, none finished",
                self.buffers.len()
            ));
        }
        Ok(&self.buffers[self.next.get()])
    }

    /// Starts mapping the first `len` bytes of [`Self::target`] once `submission` (which
    /// copied into it) is done, without waiting; the slot is taken until the readback ends.
    pub fn start(&self, len: u64, submission: wgpu::SubmissionIndex) -> Readback {
        let slot = self.next.get();
        let len = len.min(self.slot_len());
        // The callback captures nothing, so boxing it allocates nothing; a failed map shows up
        // in the finish.
        self.buffers[slot]
            .slice(..len)
            .map_async(wgpu::MapMode::Read, |_| {});
        self.busy[slot].set(true);
        self.next.set((slot + 1) % self.buffers.len());
        Readback {
            slot,
            len,
            submission,
        }
    }

    /// Waits for `readback`, hands its bytes to `read` and frees its slot: one frame read
    /// back.
    pub fn finish<R>(
        &self,
        readback: Readback,
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, String> {
        let Readback {
            slot,
            len,
            submission,
        } = readback;
        self.busy[slot].set(false);
        if self.frames {
            gpumemory::count_download();
        }
        let buffer = &self.buffers[slot];
        self.ctx
            .device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(submission),
                timeout: None,
            })
            .map_err(|e| format!("GPU wait failed: {e}"))?;
        let out = {
            let view = buffer
                .slice(..len)
                .get_mapped_range()
                .map_err(|e| format!("GPU readback mapping failed: {e}"))?;
            read(&view)
        };
        buffer.unmap();
        Ok(out)
    }

    /// [`Self::start`] then [`Self::finish`]: for a path that waits for its results at once.
    pub fn read_now<R>(
        &self,
        len: u64,
        submission: wgpu::SubmissionIndex,
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, String> {
        let readback = self.start(len, submission);
        self.finish(readback, read)
    }

    /// Drops a readback whose bytes are no longer wanted (flushing): its slot is free again.
    pub fn abandon(&self, readback: Readback) {
        self.buffers[readback.slot].unmap();
        self.busy[readback.slot].set(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_go_up_and_results_come_back_in_turn() {
        let _serial = crate::gpumemory::serial_transfers();
        let ctx = crate::gpu::test_context();
        use wgpu::BufferUsages as U;
        let frame = ctx.create_buffer("test frame", 32, U::STORAGE | U::COPY_DST | U::COPY_SRC);
        // Two planes of 3x2 and 2x1 from strided host rows into rows of stride 8.
        let places = [
            PlaneRows {
                offset: 0,
                stride: 8,
                row_bytes: 3,
                rows: 2,
            },
            PlaneRows {
                offset: 16,
                stride: 8,
                row_bytes: 2,
                rows: 1,
            },
        ];
        let luma = [1, 2, 3, 99, 4, 5, 6];
        let chroma = [7, 8];
        let too_short = upload_rows(
            ctx,
            &frame,
            0,
            32,
            &places,
            &[(&luma[..5], 4), (&chroma, 2)],
        );
        assert!(too_short.is_err());
        upload_rows(ctx, &frame, 0, 32, &places, &[(&luma, 4), (&chroma, 2)]).unwrap();
        let ring = ReadbackRing::frames(ctx, "test readback", 32, 2);
        let mut started = Vec::new();
        for _ in 0..2 {
            let mut enc = ctx.device.create_command_encoder(&Default::default());
            enc.copy_buffer_to_buffer(&frame, 0, ring.target().unwrap(), 0, 32);
            started.push(ring.start(32, ctx.queue.submit([enc.finish()])));
        }
        assert!(ring.target().is_err(), "both slots wait for their finish");
        let second = started.pop().unwrap();
        let bytes = ring.finish(started.pop().unwrap(), |b| b.to_vec()).unwrap();
        assert_eq!(&bytes[..3], &[1, 2, 3]);
        assert_eq!(&bytes[8..11], &[4, 5, 6]);
        assert_eq!(&bytes[16..18], &[7, 8]);
        ring.abandon(second);
        assert!(ring.can_start());
        // A tail shorter than a word is padded, not refused.
        upload_bytes(ctx, &frame, &[9, 9, 9, 9, 9, 9]);
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(&frame, 0, ring.target().unwrap(), 0, 8);
        let head = ring
            .read_now(8, ctx.queue.submit([enc.finish()]), |b| b.to_vec())
            .unwrap();
        assert_eq!(head, [9, 9, 9, 9, 9, 9, 0, 0]);
    }

    #[test]
    fn large_frames_go_up_and_out_split_among_threads_row_for_row() {
        let _serial = crate::gpumemory::serial_transfers();
        let ctx = crate::gpu::test_context();
        // An SD luma plane (split many times) from rows of 736 bytes into rows padded to 4,
        // and an odd-sized plane after it (split unevenly; rows not a multiple of 4).
        let sizes = [(720, 576), (361, 363)];
        let places = PlaneRows::consecutive(sizes, 4);
        let len = places[1].end();
        let host: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(p, &(w, h))| {
                let stride = w + 16;
                (0..stride * h)
                    .map(|i| ((i % stride) * 7 + (i / stride) * 13 + p) as u8)
                    .collect()
            })
            .collect();
        let planes = [(&host[0][..], 736), (&host[1][..], 377)];
        use wgpu::BufferUsages as U;
        let frame = ctx.create_buffer(
            "test frame",
            len as u64,
            U::STORAGE | U::COPY_DST | U::COPY_SRC,
        );
        // On a thread of the pool, as the elements upload (from outside nothing is split).
        rayon::scope(|_| upload_rows(ctx, &frame, 0, len, &places, &planes)).unwrap();
        let ring = ReadbackRing::frames(ctx, "test readback", len as u64, 1);
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(&frame, 0, ring.target().unwrap(), 0, len as u64);
        let bytes = ring
            .read_now(len as u64, ctx.queue.submit([enc.finish()]), |b| b.to_vec())
            .unwrap();
        // The luma plane out again into rows of 740 bytes, on a pool thread (in stripes) and
        // off it (row by row): the same rows.
        let luma = Plane {
            data: &bytes,
            stride: places[0].stride,
            width: 720,
            height: 576,
            pad: 0,
        };
        let mut split = vec![0u8; 740 * 576];
        let mut whole = split.clone();
        rayon::scope(|_| copy_plane_out(luma, &mut split, 740));
        copy_plane_out(luma, &mut whole, 740);
        for y in 0..576 {
            assert_eq!(
                split[y * 740..][..720],
                host[0][y * 736..][..720],
                "row {y} out"
            );
        }
        assert_eq!(split, whole);
        for (place, (data, stride)) in places.iter().zip(planes) {
            for y in 0..place.rows {
                let at = place.offset + y * place.stride;
                assert_eq!(
                    bytes[at..at + place.row_bytes],
                    data[y * stride..y * stride + place.row_bytes],
                    "row {y} of a plane of {} bytes a row",
                    place.row_bytes
                );
            }
        }
    }
}
