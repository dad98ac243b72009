//! Video frames that stay on the GPU between elements: a `GstMemory` whose bytes live in a
//! buffer of the process's one wgpu device ([`crate::gpu`]), negotiated as
//! `video/x-raw(memory:WgpuBuffer)`.
//!
//! The GPU buffer holds the frame exactly as system memory would (the `GstVideoInfo` plane
//! offsets and strides), so an element's GPU passes read and write it where they would read an
//! upload. Each memory also keeps a host copy, made on the first CPU map and kept with the
//! memory (the pool recycles both), and two flags say which side is current:
//!
//! * a CPU map for reading downloads the GPU bytes first when the host copy is stale, so a
//!   stock element (`videoconvert`, `filesink`, an encoder) that maps a GPU frame always reads
//!   the right pixels, whatever the caps said;
//! * a CPU map for writing makes the GPU side stale, and the next GPU user uploads the host
//!   bytes ([`GpuFrame::gpu_buffer`]) before its passes run;
//! * GPU work that writes the buffer calls [`GpuFrame::written_on_gpu`].
//!
//! Ordering comes from the one queue: an element records its passes after the previous
//! element's and never waits for them; only a CPU map waits. [`uploads`] and [`downloads`]
//! count the transfers this module makes, so a benchmark can show how many a chain costs.

use std::ffi::CStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, OnceLock};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use crate::gpu::{self, GpuContext};
use crate::staging::{self, ReadbackRing};

/// The caps feature of frames whose memory is a [`GpuFrame`].
pub const CAPS_FEATURE: &str = "memory:WgpuBuffer";

const MEMORY_TYPE: &CStr = c"MediaAiWgpuBuffer";

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediaai-gpumemory",
        gst::DebugColorFlags::empty(),
        Some("gst-media-ai frames in GPU buffers"),
    )
});

static UPLOADS: AtomicU64 = AtomicU64::new(0);
static DOWNLOADS: AtomicU64 = AtomicU64::new(0);

/// Host-to-GPU copies of frames made so far in this process: every one goes through
/// [`crate::staging`], which counts it (a CPU writer's bytes going up here, an element's
/// system-memory input there).
pub fn uploads() -> u64 {
    UPLOADS.load(Ordering::Relaxed)
}

/// GPU-to-host copies of whole frames made so far in this process, counted as [`uploads`].
pub fn downloads() -> u64 {
    DOWNLOADS.load(Ordering::Relaxed)
}

/// Counts one frame uploaded (by [`crate::staging`]).
pub(crate) fn count_upload() {
    UPLOADS.fetch_add(1, Ordering::Relaxed);
}

/// Counts one frame read back (by [`crate::staging`]).
pub(crate) fn count_download() {
    DOWNLOADS.fetch_add(1, Ordering::Relaxed);
}

/// The GPU side of one frame: its buffer and the host copy.
pub struct GpuFrame {
    buffer: wgpu::Buffer,
    /// Bytes of the frame (the memory's maxsize); the GPU buffer and host copy are rounded up
    /// to wgpu's copy alignment.
    len: usize,
    sides: Mutex<Sides>,
}

struct Sides {
    /// Empty until the first CPU map, then the frame's bytes (never reallocated, so a mapped
    /// pointer stays valid).
    host: Vec<u8>,
    /// Where downloads land before the host copy, made on the first download.
    readback: Option<ReadbackRing>,
    host_current: bool,
    gpu_current: bool,
}

impl GpuFrame {
    fn aligned_len(&self) -> usize {
        self.len
            .max(1)
            .next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT as usize)
    }

    fn sides(&self) -> std::sync::MutexGuard<'_, Sides> {
        // A panic while the lock was held left plain data; the flags stay meaningful.
        self.sides.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a CPU map would read without a download (the host copy is current): a reader
    /// that can work on either side picks the one that moves no frame.
    pub fn host_current(&self) -> bool {
        self.sides().host_current
    }

    /// The frame's bytes on the GPU, current: what a CPU writer left is uploaded first (the
    /// upload is queued, so passes recorded after this call see it).
    pub fn gpu_buffer(&self, ctx: &GpuContext) -> &wgpu::Buffer {
        let mut sides = self.sides();
        if !sides.gpu_current {
            staging::upload_bytes(ctx, &self.buffer, &sides.host);
            sides.gpu_current = true;
        }
        &self.buffer
    }

    /// The frame's buffer for GPU work that writes every byte of it: nothing is uploaded, and
    /// the host copy is stale from now on.
    pub fn overwrite_on_gpu(&self) -> &wgpu::Buffer {
        self.written_on_gpu();
        &self.buffer
    }

    /// Says that the CPU is about to write every byte through a map: that map downloads
    /// nothing, and the GPU side is stale from then on.
    pub fn overwrite_on_host(&self) {
        let mut sides = self.sides();
        sides.host_current = true;
        sides.gpu_current = false;
    }

    /// Says that GPU work recorded on the shared queue writes the buffer: the host copy is
    /// stale from now on.
    pub fn written_on_gpu(&self) {
        let mut sides = self.sides();
        sides.gpu_current = true;
        sides.host_current = false;
    }

    /// Replaces the frame's bytes with `bytes` (at most the frame's length) on the GPU: one
    /// upload, queued.
    pub fn upload(&self, ctx: &GpuContext, bytes: &[u8]) {
        staging::upload_bytes(ctx, &self.buffer, &bytes[..bytes.len().min(self.len)]);
        self.written_on_gpu();
    }

    /// Host pointer for a CPU map: downloads first when reading a stale host copy.
    fn map_host(&self, read: bool, write: bool) -> Result<*mut u8, String> {
        let mut sides = self.sides();
        let Sides {
            host,
            readback,
            host_current,
            gpu_current,
        } = &mut *sides;
        if host.is_empty() {
            // Once per memory: the pool hands the same memory out again.
            *host = vec![0; self.aligned_len()];
        }
        if read && !*host_current {
            let ctx = gpu::context().map_err(str::to_string)?;
            let len = self.aligned_len() as u64;
            let readback = readback
                .get_or_insert_with(|| ReadbackRing::frames(ctx, "gpu frame readback", len, 1));
            ctx.checked(|| {
                let mut enc = ctx
                    .device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                        label: Some("gpu frame download"),
                    });
                enc.copy_buffer_to_buffer(&self.buffer, 0, readback.target()?, 0, len);
                let submission = ctx.queue.submit([enc.finish()]);
                readback.read_now(len, submission, |bytes| host.copy_from_slice(bytes))
            })?;
        }
        *host_current = true;
        if write {
            *gpu_current = false;
        }
        Ok(host.as_mut_ptr())
    }
}

/// The memory GStreamer sees: its header, then ours.
#[repr(C)]
struct RawGpuMemory {
    parent: gst::ffi::GstMemory,
    frame: GpuFrame,
}

/// The [`GpuFrame`] behind `mem`, when `mem` is one of ours.
pub fn gpu_frame(mem: &gst::MemoryRef) -> Option<&GpuFrame> {
    if !mem.allocator().is_some_and(|a| a.is::<GpuAllocator>()) {
        return None;
    }
    // SAFETY: memories of `GpuAllocator` are `RawGpuMemory` (made in its `alloc`), and the
    // frame lives as long as the memory `mem` borrows.
    Some(unsafe { &(*(mem.as_ptr() as *const RawGpuMemory)).frame })
}

/// The [`GpuFrame`] holding `buffer`'s bytes: a buffer of exactly one of our memories.
pub fn buffer_gpu_frame(buffer: &gst::BufferRef) -> Option<&GpuFrame> {
    if buffer.n_memory() != 1 {
        return None;
    }
    gpu_frame(buffer.peek_memory(0))
}

/// For an element about to write every byte of `buffer` on the CPU (an output frame from its
/// pool): when it is a GPU frame, its coming map downloads nothing (see
/// [`GpuFrame::overwrite_on_host`]).
pub fn overwrite_on_host(buffer: &gst::BufferRef) {
    if let Some(frame) = buffer_gpu_frame(buffer) {
        frame.overwrite_on_host();
    }
}

/// Whether caps (the first structure) carry [`CAPS_FEATURE`].
pub fn caps_on_gpu(caps: &gst::CapsRef) -> bool {
    caps.features(0).is_some_and(|f| f.contains(CAPS_FEATURE))
}

/// `caps`' structures in GPU memory ([`CAPS_FEATURE`]) or, `gpu` false, in system memory,
/// whatever memory they named.
pub fn in_memory(caps: &gst::Caps, gpu: bool) -> gst::Caps {
    caps.iter()
        .map(|st| {
            let features = if gpu {
                gst::CapsFeatures::new([CAPS_FEATURE])
            } else {
                gst::CapsFeatures::new_empty()
            };
            (st.to_owned(), features)
        })
        .collect()
}

/// `caps` twice over: each structure with [`CAPS_FEATURE`] first, then as system memory, for
/// an element that can take or give either (GPU frames preferred, so two such elements side
/// by side keep frames on the GPU, and a stock element between them makes them fall back).
pub fn gpu_and_system(caps: &gst::Caps) -> gst::Caps {
    let mut both = in_memory(caps, true);
    both.merge(in_memory(caps, false));
    both
}

/// `transform_caps` of an element that works in place (or passes buffers through) and keeps
/// the frame's format and size: a frame leaves in the memory it came in, so GPU frames may go
/// on as GPU frames or under system-memory caps (read back when the next element maps them),
/// and system-memory frames stay system memory. GPU first, narrowed by `filter`.
pub fn transform_caps_in_place(
    direction: gst::PadDirection,
    caps: &gst::Caps,
    filter: Option<&gst::Caps>,
) -> gst::Caps {
    let mut out = gst::Caps::new_empty();
    let mut push = |st: &gst::StructureRef, gpu: bool| {
        let features = if gpu {
            gst::CapsFeatures::new([CAPS_FEATURE])
        } else {
            gst::CapsFeatures::new_empty()
        };
        out.merge_structure_full(st.to_owned(), Some(features));
    };
    for (st, features) in caps.iter_with_features() {
        let on_gpu = features.is_any() || features.contains(CAPS_FEATURE);
        let in_system = features.is_any() || !features.contains(CAPS_FEATURE);
        match direction {
            // From the input: GPU frames leave on the GPU or as system memory.
            gst::PadDirection::Sink => {
                if on_gpu {
                    push(st, true);
                }
                push(st, false);
            }
            // From the output: GPU output needs GPU input; system output takes either.
            _ => {
                push(st, true);
                if in_system {
                    push(st, false);
                }
            }
        }
    }
    crate::templates::filtered(out, filter)
}

/// `othercaps` with the structures that carry [`CAPS_FEATURE`] first, for `fixate_caps`: the
/// peers' intersections need not keep the GPU first, and an element that can hand frames on
/// where they lie should.
pub fn gpu_first(othercaps: gst::Caps) -> gst::Caps {
    if !othercaps
        .iter_with_features()
        .any(|(_, f)| f.contains(CAPS_FEATURE))
    {
        return othercaps;
    }
    let (gpu, system): (Vec<_>, Vec<_>) = othercaps
        .iter_with_features()
        .map(|(s, f)| (s.to_owned(), f.to_owned()))
        .partition(|(_, f)| f.contains(CAPS_FEATURE));
    gpu.into_iter().chain(system).collect()
}

/// `fixate_caps` for a `BaseTransformImpl` whose output may stay on the GPU: the parent's
/// fixation of [`gpu_first`] caps. Expands inside the `impl`.
#[macro_export]
macro_rules! fixate_gpu_first {
    () => {
        fn fixate_caps(
            &self,
            direction: gst::PadDirection,
            caps: &gst::Caps,
            othercaps: gst::Caps,
        ) -> gst::Caps {
            self.parent_fixate_caps(direction, caps, $crate::gpumemory::gpu_first(othercaps))
        }
    };
}

/// `transform_caps` ([`transform_caps_in_place`]) and `fixate_caps` ([`fixate_gpu_first`]) for
/// a `BaseTransformImpl` that works in place or passes buffers through, keeping format and
/// size. Expands inside the `impl`.
#[macro_export]
macro_rules! in_place_gpu_caps {
    () => {
        fn transform_caps(
            &self,
            direction: gst::PadDirection,
            caps: &gst::Caps,
            filter: Option<&gst::Caps>,
        ) -> Option<gst::Caps> {
            // A frame leaves in the memory it came in; GPU frames may also go on under
            // system-memory caps (read back when the next element maps them).
            Some($crate::gpumemory::transform_caps_in_place(
                direction, caps, filter,
            ))
        }

        $crate::fixate_gpu_first!();
    };
}

/// A video buffer pool for `caps`: [`GpuFrame`]s when the caps carry [`CAPS_FEATURE`], system
/// memory otherwise; not started (a transform's allocation query starts it).
pub fn video_pool(
    caps: &gst::Caps,
    size: usize,
    min: u32,
    max: u32,
) -> Result<gst::BufferPool, glib::BoolError> {
    let pool = gst_video::VideoBufferPool::new();
    let mut config = pool.config();
    config.set_params(Some(caps), size as u32, min, max);
    if caps_on_gpu(caps) {
        config.set_allocator(
            Some(GpuAllocator::get().upcast_ref::<gst::Allocator>()),
            None,
        );
        config.add_option(gst_video::BUFFER_POOL_OPTION_VIDEO_META);
    }
    pool.set_config(config)?;
    Ok(pool.upcast())
}

/// A started [`video_pool`] of `min` or more buffers, for an element that takes its output
/// buffers itself; `Err` says why in words for an element error.
pub fn started_pool(caps: &gst::Caps, size: usize, min: u32) -> Result<gst::BufferPool, String> {
    let pool = video_pool(caps, size, min, 0)
        .map_err(|e| format!("output buffer pool refused its configuration: {e}"))?;
    pool.set_active(true)
        .map_err(|e| format!("could not allocate output buffers: {e}"))?;
    Ok(pool)
}

/// Whether `buffer`'s planes lie where `info` (its caps) puts them: no video meta, or one that
/// agrees. GPU passes made for the caps can then take the frame's buffer as it is.
pub fn lies_as_caps(buffer: &gst::BufferRef, info: &gst_video::VideoInfo) -> bool {
    buffer
        .meta::<gst_video::VideoMeta>()
        .is_none_or(|m| m.offset() == info.offset() && m.stride() == info.stride())
}

glib::wrapper! {
    /// Allocates [`GpuFrame`] memories on the shared device; one per process.
    pub struct GpuAllocator(ObjectSubclass<imp::GpuAllocator>)
        @extends gst::Allocator, gst::Object;
}

impl GpuAllocator {
    /// The process's allocator.
    pub fn get() -> &'static GpuAllocator {
        static ALLOCATOR: OnceLock<GpuAllocator> = OnceLock::new();
        ALLOCATOR.get_or_init(glib::Object::new)
    }
}

mod imp {
    use super::*;

    #[derive(Default)]
    pub struct GpuAllocator;

    #[glib::object_subclass]
    impl ObjectSubclass for GpuAllocator {
        const NAME: &'static str = "GstMediaAiGpuAllocator";
        type Type = super::GpuAllocator;
        type ParentType = gst::Allocator;
    }

    impl ObjectImpl for GpuAllocator {
        fn constructed(&self) {
            self.parent_constructed();
            let allocator: *mut gst::ffi::GstAllocator =
                self.obj().upcast_ref::<gst::Allocator>().as_ptr();
            // SAFETY: the instance is constructed and not yet shared; these fields are the
            // allocator's table of memory functions, which GStreamer reads on every map.
            unsafe {
                (*allocator).mem_type = MEMORY_TYPE.as_ptr();
                (*allocator).mem_map = Some(mem_map);
                (*allocator).mem_unmap = Some(mem_unmap);
                // Only for those who ask for it by name: never a default allocator.
                (*allocator).object.flags |= gst::ffi::GST_ALLOCATOR_FLAG_CUSTOM_ALLOC;
            }
        }
    }

    impl GstObjectImpl for GpuAllocator {}

    // SAFETY: `alloc` returns a memory initialised by `gst_memory_init` with this allocator,
    // and `free` releases exactly what `alloc` made.
    unsafe impl AllocatorImpl for GpuAllocator {
        unsafe fn alloc(
            &self,
            size: usize,
            params: &gst::AllocationParams,
        ) -> *mut gst::ffi::GstMemory {
            let ctx = match gpu::context() {
                Ok(ctx) => ctx,
                Err(e) => {
                    gst::error!(CAT, imp = self, "no GPU frame memory: {e}");
                    return std::ptr::null_mut();
                }
            };
            let maxsize = size + params.prefix() + params.padding();
            let buffer = ctx.create_buffer(
                "gpu frame",
                maxsize as u64,
                wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
            );
            let raw = Box::into_raw(Box::new(RawGpuMemory {
                // SAFETY: a plain C struct that gst_memory_init fills below.
                parent: unsafe { std::mem::zeroed() },
                frame: GpuFrame {
                    buffer,
                    len: maxsize,
                    sides: Mutex::new(Sides {
                        host: Vec::new(),
                        readback: None,
                        // A new buffer is zeroes on the GPU; the host copy does not exist.
                        host_current: false,
                        gpu_current: true,
                    }),
                },
            }));
            // Sharing would hand out a sub-memory whose map skips ours: copies are deep.
            let flags = params.flags().bits() | gst::ffi::GST_MEMORY_FLAG_NO_SHARE;
            // SAFETY: `raw` starts with a GstMemory; gst_memory_init takes its own reference
            // to the allocator.
            unsafe {
                gst::ffi::gst_memory_init(
                    raw as *mut gst::ffi::GstMemory,
                    flags,
                    self.obj().upcast_ref::<gst::Allocator>().as_ptr(),
                    std::ptr::null_mut(),
                    maxsize,
                    params.align(),
                    params.prefix(),
                    size,
                );
            }
            raw as *mut gst::ffi::GstMemory
        }

        unsafe fn free(&self, memory: *mut gst::ffi::GstMemory) {
            // SAFETY: `memory` was made by `alloc` above as a boxed RawGpuMemory.
            drop(unsafe { Box::from_raw(memory as *mut RawGpuMemory) });
        }
    }

    unsafe extern "C" fn mem_map(
        memory: *mut gst::ffi::GstMemory,
        _maxsize: usize,
        flags: gst::ffi::GstMapFlags,
    ) -> glib::ffi::gpointer {
        // SAFETY: GStreamer calls this only for memories of this allocator.
        let frame = unsafe { &(*(memory as *const RawGpuMemory)).frame };
        let read = flags & gst::ffi::GST_MAP_READ != 0;
        let write = flags & gst::ffi::GST_MAP_WRITE != 0;
        match frame.map_host(read, write) {
            Ok(p) => p as glib::ffi::gpointer,
            Err(e) => {
                gst::error!(CAT, "cannot map a GPU frame: {e}");
                std::ptr::null_mut()
            }
        }
    }

    unsafe extern "C" fn mem_unmap(_memory: *mut gst::ffi::GstMemory) {}
}

/// The transfer counters are process-wide: the unit tests that move frames (and those that
/// check the counts) take this first, so they run one at a time.
#[cfg(test)]
pub(crate) fn serial_transfers() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_bytes(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + 3) as u8).collect()
    }

    #[test]
    fn cpu_maps_see_gpu_writes_and_gpu_users_see_cpu_writes() {
        let _serial = serial_transfers();
        gst::init().unwrap();
        let ctx = gpu::test_context();
        let len = 4099;
        let mem = GpuAllocator::get()
            .alloc(len, None)
            .expect("GPU memory allocates");
        let frame = gpu_frame(&mem).expect("ours");
        assert!(gpu_frame(&gst::Memory::with_size(16)).is_none());

        // Written on the GPU: a read map downloads it.
        let bytes = frame_bytes(len);
        frame.upload(ctx, &bytes);
        let down = downloads();
        assert_eq!(&mem.map_readable().unwrap()[..], &bytes[..]);
        assert_eq!(downloads(), down + 1);
        // Still current: a second map downloads nothing.
        assert_eq!(&mem.map_readable().unwrap()[..], &bytes[..]);
        assert_eq!(downloads(), down + 1);

        // Written on the CPU: the next GPU user uploads it first.
        let mut mem = mem;
        {
            let mut map = mem.get_mut().unwrap().map_writable().unwrap();
            map[0] = 0xAB;
        }
        let up = uploads();
        let frame = gpu_frame(&mem).unwrap();
        let buffer = frame.gpu_buffer(ctx);
        assert_eq!(uploads(), up + 1);
        let readback = ReadbackRing::frames(ctx, "test readback", 8, 1);
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(buffer, 0, readback.target().unwrap(), 0, 8);
        let submission = ctx.queue.submit([enc.finish()]);
        let first = readback
            .read_now(8, submission, |b| b[..2].to_vec())
            .unwrap();
        assert_eq!(first, [0xAB, bytes[1]]);
    }

    #[test]
    fn copies_of_gpu_buffers_hold_the_pixels() {
        let _serial = serial_transfers();
        gst::init().unwrap();
        let ctx = gpu::test_context();
        let bytes = frame_bytes(1000);
        let mem = GpuAllocator::get().alloc(1000, None).unwrap();
        gpu_frame(&mem).unwrap().upload(ctx, &bytes);
        let mut buffer = gst::Buffer::new();
        buffer.get_mut().unwrap().append_memory(mem);
        // A writable copy of a shared buffer (what make_writable does) is deep.
        let copy = buffer.copy();
        assert_eq!(&copy.map_readable().unwrap()[..], &bytes[..]);
    }
}
