//! Pixel conversions the CPU paths share.

/// Writes `floor(v + 0.5)` of each value clamped to 0..=255 (NaN gives 0) into `out`, as the
/// shaders round: `out[i] = (values[i] + 0.5).clamp(0.0, 255.0) as u8` for every `i` both hold.
#[inline]
pub fn quantize(out: &mut [u8], values: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    let wide = if lanes() >= Lanes::Avx2 {
        // SAFETY: the CPU has AVX2 (`lanes` gives no more than it has).
        unsafe { quantize_avx2(out, values) }
    } else {
        0
    };
    #[cfg(not(target_arch = "x86_64"))]
    let wide = 0;
    let done = wide + quantize_simd(&mut out[wide..], &values[wide..]);
    for (o, v) in out[done..].iter_mut().zip(&values[done..]) {
        *o = (v + 0.5).clamp(0.0, 255.0) as u8;
    }
}

/// The sum of absolute differences of two rows of bytes, over the length both hold: AVX2's
/// SAD instruction 32 bytes at a time where the CPU has it, SSE2's 16 and 8 bytes at a time
/// (block matching's inner loop), the rest one by one.
#[inline]
pub fn sad(a: &[u8], b: &[u8]) -> u32 {
    let n = a.len().min(b.len());
    sad_rows((a, n), (b, n), n, 1)
}

/// The sum of absolute differences of two blocks of `width` x `rows` bytes, rows `stride`
/// apart in each (`(bytes, stride)`): [`sad`] of each pair of rows, in one loop. Panics when a
/// block reaches past its bytes.
#[inline]
pub fn sad_rows(a: (&[u8], usize), b: (&[u8], usize), width: usize, rows: usize) -> u32 {
    if width == 0 || rows == 0 {
        return 0;
    }
    let reach = |(data, stride): (&[u8], usize)| {
        assert!(
            (rows - 1) * stride + width <= data.len(),
            "block past its plane"
        );
        (data.as_ptr(), stride)
    };
    let (a, b) = (reach(a), reach(b));
    #[cfg(target_arch = "x86_64")]
    if width >= 16 && lanes() >= Lanes::Avx2 {
        // SAFETY: the CPU has AVX2 (`lanes` gives no more than it has), and every byte read
        // lies inside its slice (checked by `reach`).
        return unsafe { sad_rows_avx2(a, b, width, rows) };
    }
    sad_rows_simd(a, b, width, rows)
}

/// [`sad_rows_simd`] with AVX2's SAD, 32 bytes at a time, for rows of 16 bytes or more (block
/// matching's blocks): half the instructions per row. Rows of exactly 32 or 16 bytes (the
/// search's blocks at every level) go two rows a turn, 16-byte rows two to a register.
/// Otherwise the columns past the last whole 32 are summed by the SSE2 version, all rows in
/// one call.
///
/// # Safety
/// The CPU has AVX2, and rows `0..rows` of `width` bytes, `stride` apart, lie inside the
/// allocations `a` and `b` point into.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sad_rows_avx2(
    a: (*const u8, usize),
    b: (*const u8, usize),
    width: usize,
    rows: usize,
) -> u32 {
    use std::arch::x86_64::*;
    // The sum of a register's four 64-bit lanes (each at most 32 · 255 · rows).
    let total = |acc: __m256i| {
        let lanes = _mm_add_epi64(
            _mm256_castsi256_si128(acc),
            _mm256_extracti128_si256::<1>(acc),
        );
        let high = _mm_unpackhi_epi64(lanes, lanes);
        _mm_cvtsi128_si32(_mm_add_epi64(lanes, high)) as u32
    };
    if width == 32 || width == 16 {
        // SAFETY: the caller's contract: each load reads the first `width` bytes of a row
        // inside its allocation (rows `row` and `row + 1` with `row + 1 < rows`).
        unsafe {
            let pair = |row: usize| {
                let (p, q) = (a.0.add(row * a.1), b.0.add(row * b.1));
                let (x, y) = if width == 32 {
                    (_mm256_loadu_si256(p.cast()), _mm256_loadu_si256(q.cast()))
                } else {
                    (
                        _mm256_loadu2_m128i(p.add(a.1).cast(), p.cast()),
                        _mm256_loadu2_m128i(q.add(b.1).cast(), q.cast()),
                    )
                };
                _mm256_sad_epu8(x, y)
            };
            let (mut acc, mut acc2) = (_mm256_setzero_si256(), _mm256_setzero_si256());
            let mut row = 0;
            if width == 32 {
                while row + 2 <= rows {
                    acc = _mm256_add_epi64(acc, pair(row));
                    acc2 = _mm256_add_epi64(acc2, pair(row + 1));
                    row += 2;
                }
            } else {
                while row + 2 <= rows {
                    acc = _mm256_add_epi64(acc, pair(row));
                    row += 2;
                }
            }
            let last = if row < rows {
                sad_rows_simd(
                    (a.0.add(row * a.1), a.1),
                    (b.0.add(row * b.1), b.1),
                    width,
                    1,
                )
            } else {
                0
            };
            return total(_mm256_add_epi64(acc, acc2)) + last;
        }
    }
    let whole = width / 32 * 32;
    // SAFETY: the caller's contract: each 32-byte load reads i..i + 32 with i + 32 <= whole <=
    // width of a row inside its allocation; the columns whole..width of every row go to the
    // SSE2 version, which reads only those bytes.
    unsafe {
        let mut acc = _mm256_setzero_si256();
        for row in 0..rows {
            let (p, q) = (a.0.add(row * a.1), b.0.add(row * b.1));
            let mut i = 0;
            while i < whole {
                let x = _mm256_loadu_si256(p.add(i).cast());
                let y = _mm256_loadu_si256(q.add(i).cast());
                acc = _mm256_add_epi64(acc, _mm256_sad_epu8(x, y));
                i += 32;
            }
        }
        let rest = if whole < width {
            sad_rows_simd(
                (a.0.add(whole), a.1),
                (b.0.add(whole), b.1),
                width - whole,
                rows,
            )
        } else {
            0
        };
        total(acc) + rest
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn sad_rows_simd(a: (*const u8, usize), b: (*const u8, usize), width: usize, rows: usize) -> u32 {
    use std::arch::x86_64::*;
    let wide = width / 8 * 8;
    let mut tail = 0u32;
    // SAFETY: SSE2 is in the x86-64 baseline, so these intrinsics exist on every CPU this code
    // runs on. `sad_rows` checked that row `rows - 1` of each block ends inside its slice, so
    // every byte read here, at `row · stride + i` with `i < width`, lies inside it: the 16-byte
    // loads read i..i + 16 with i + 16 <= wide, the 8-byte loads i..i + 8 with i + 8 <= wide,
    // `wide` at most `width`.
    unsafe {
        let mut acc = _mm_setzero_si128();
        for row in 0..rows {
            let (p, q) = (a.0.add(row * a.1), b.0.add(row * b.1));
            let mut i = 0;
            while i + 16 <= wide {
                let x = _mm_loadu_si128(p.add(i).cast());
                let y = _mm_loadu_si128(q.add(i).cast());
                acc = _mm_add_epi64(acc, _mm_sad_epu8(x, y));
                i += 16;
            }
            if i < wide {
                let x = _mm_loadl_epi64(p.add(i).cast());
                let y = _mm_loadl_epi64(q.add(i).cast());
                acc = _mm_add_epi64(acc, _mm_sad_epu8(x, y));
            }
            for j in wide..width {
                tail += (*p.add(j)).abs_diff(*q.add(j)) as u32;
            }
        }
        let high = _mm_unpackhi_epi64(acc, acc);
        _mm_cvtsi128_si32(_mm_add_epi64(acc, high)) as u32 + tail
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn sad_rows_simd(a: (*const u8, usize), b: (*const u8, usize), width: usize, rows: usize) -> u32 {
    let mut total = 0u32;
    for row in 0..rows {
        for j in 0..width {
            // SAFETY: as in the x86-64 version: `sad_rows` checked every byte read is inside
            // its slice.
            total += unsafe { (*a.0.add(row * a.1 + j)).abs_diff(*b.0.add(row * b.1 + j)) } as u32;
        }
    }
    total
}

/// Sixteen values at a time with SSE2 (part of every x86-64): truncating `v + 0.5` capped at
/// 255 and packing with signed then unsigned saturation gives exactly the scalar rounding
/// above, NaN included (it converts to i32::MIN, which saturates to 0; uncapped, so did
/// values past i32's range, infinity among them). Returns how many values it wrote.
#[cfg(target_arch = "x86_64")]
#[inline]
fn quantize_simd(out: &mut [u8], values: &[f32]) -> usize {
    use std::arch::x86_64::*;
    let n = values.len().min(out.len()) / 16 * 16;
    for (o, v) in out[..n]
        .chunks_exact_mut(16)
        .zip(values[..n].chunks_exact(16))
    {
        // SAFETY: SSE2 is in the x86-64 baseline, so these intrinsics exist on every CPU this
        // code runs on; the four unaligned loads read v[0..16] and the unaligned store writes
        // o[0..16], both inside the 16-element chunks zipped above.
        unsafe {
            let (half, top) = (_mm_set1_ps(0.5), _mm_set1_ps(255.0));
            // Capped first: a value past i32's range converts to i32::MIN, which would pack to
            // 0 (the cap keeps NaN, the second operand's).
            let q = |i: usize| {
                let x = _mm_add_ps(_mm_loadu_ps(v.as_ptr().add(i)), half);
                _mm_cvttps_epi32(_mm_min_ps(top, x))
            };
            let lo = _mm_packs_epi32(q(0), q(4));
            let hi = _mm_packs_epi32(q(8), q(12));
            _mm_storeu_si128(o.as_mut_ptr().cast(), _mm_packus_epi16(lo, hi));
        }
    }
    n
}

/// [`quantize_simd`] 32 values at a time with AVX2: the same truncation and saturating packs
/// (which pack within each 128-bit half; one permutation puts the bytes back in order).
/// Returns how many values it wrote.
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn quantize_avx2(out: &mut [u8], values: &[f32]) -> usize {
    use std::arch::x86_64::*;
    let n = values.len().min(out.len()) / 32 * 32;
    for (o, v) in out[..n]
        .chunks_exact_mut(32)
        .zip(values[..n].chunks_exact(32))
    {
        // SAFETY: the four unaligned loads read v[0..32] and the unaligned store writes
        // o[0..32], both inside the 32-element chunks zipped above.
        unsafe {
            let (half, top) = (_mm256_set1_ps(0.5), _mm256_set1_ps(255.0));
            // Capped first, as in `quantize_simd`.
            let q = |i: usize| {
                let x = _mm256_add_ps(_mm256_loadu_ps(v.as_ptr().add(i)), half);
                _mm256_cvttps_epi32(_mm256_min_ps(top, x))
            };
            // Per 128-bit half: values 0-3 and 8-11, then 4-7 and 12-15 (and 16-31 alike).
            let ab = _mm256_packs_epi32(q(0), q(8));
            let cd = _mm256_packs_epi32(q(16), q(24));
            // Four-byte groups 0-3, 8-11, 16-19, 24-27 | 4-7, 12-15, 20-23, 28-31.
            let bytes = _mm256_packus_epi16(ab, cd);
            let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
            _mm256_storeu_si256(
                o.as_mut_ptr().cast(),
                _mm256_permutevar8x32_epi32(bytes, order),
            );
        }
    }
    n
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn quantize_simd(_out: &mut [u8], _values: &[f32]) -> usize {
    0
}

/// One 8-bit plane, read-only: `height` rows of `width` bytes, `stride` bytes apart. A padded
/// plane (see [`Padded`]) can also be read `pad` bytes past either end of every row, where the
/// row's end pixels repeat: its `data` starts `pad` bytes before the first row's first pixel.
#[derive(Clone, Copy, Debug)]
pub struct Plane<'a> {
    pub data: &'a [u8],
    pub stride: usize,
    pub width: usize,
    pub height: usize,
    pub pad: usize,
}

impl<'a> Plane<'a> {
    /// Row `y`.
    #[inline]
    pub fn row(&self, y: usize) -> &'a [u8] {
        let at = self.pad + y * self.stride;
        &self.data[at..at + self.width]
    }

    /// Row `y` with `reach` more pixels at either end: the end pixels repeated (`reach` at most
    /// `pad`).
    #[inline]
    pub fn reach(&self, y: usize, reach: usize) -> &'a [u8] {
        debug_assert!(
            reach <= self.pad,
            "{reach} pixels past a row padded by {}",
            self.pad
        );
        let at = self.pad + y * self.stride - reach;
        &self.data[at..at + self.width + 2 * reach]
    }

    /// The bytes from the first row's first pixel on (rows `stride` apart).
    pub fn pixels(&self) -> &'a [u8] {
        &self.data[self.pad..]
    }

    /// `width`×`height` bytes with no padding between rows.
    pub fn tight(data: &'a [u8], width: usize, height: usize) -> Self {
        Plane {
            data,
            stride: width,
            width,
            height,
            pad: 0,
        }
    }

    /// Plane `p` of a mapped frame of a planar 8-bit format (`None`: no such plane).
    pub fn of<T>(frame: &'a gst_video::VideoFrameRef<T>, p: u32) -> Option<Self> {
        use gst_video::prelude::*;
        Some(Plane {
            data: frame.plane_data(p).ok()?,
            stride: *frame.plane_stride().get(p as usize)? as usize,
            width: frame.comp_width(p) as usize,
            height: frame.comp_height(p) as usize,
            pad: 0,
        })
    }
}

/// An owned copy of a plane padded at both ends of every row (the end pixels repeated), for
/// passes that read rows past their ends (along a motion) in straight loops. The buffer is
/// kept between frames of one size.
#[derive(Debug, Default)]
pub struct Padded {
    buf: Vec<u8>,
    stride: usize,
    width: usize,
    height: usize,
    pad: usize,
}

impl Padded {
    /// Copies `p` with `pad` pixels repeated at both ends of each row.
    pub fn fill(&mut self, p: Plane, pad: usize) {
        let (w, h) = (p.width, p.height);
        let stride = w + 2 * pad;
        (self.stride, self.width, self.height, self.pad) = (stride, w, h, pad);
        // Allocates only when the size changes.
        self.buf.resize(stride * h, 0);
        if w == 0 {
            return;
        }
        for (y, row) in self.buf.chunks_exact_mut(stride).enumerate() {
            let src = p.row(y);
            let (left, rest) = row.split_at_mut(pad);
            let (middle, right) = rest.split_at_mut(w);
            left.fill(src[0]);
            middle.copy_from_slice(src);
            right.fill(src[w - 1]);
        }
    }

    /// The copy as a plane readable `pad` pixels past its rows' ends.
    pub fn plane(&self) -> Plane<'_> {
        Plane {
            data: &self.buf,
            stride: self.stride,
            width: self.width,
            height: self.height,
            pad: self.pad,
        }
    }
}

/// The widest vector instructions [`wide`] compiles row kernels for, narrowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lanes {
    /// As built: SSE2 on x86-64 (4 floats), the target's own elsewhere.
    Baseline,
    /// AVX2: 8 floats.
    Avx2,
    /// AVX-512 (F, BW and VL): 16 floats, 32 registers, masked tails.
    Avx512,
}

/// The environment variable that caps [`lanes`]: `avx2` or `sse2` (also `baseline`) keep the
/// CPU paths' vector code to those instructions (the row kernels [`wide`] and [`widest`] build,
/// and the hand-written [`quantize`] and [`sad_rows`]), e.g. on a host whose cores slow down
/// under AVX-512 while other work shares them; unset or `avx512`, the widest the CPU has.
pub const LANES_VAR: &str = "MEDIAAI_SIMD";

/// The widest vector instructions this CPU has, capped by [`LANES_VAR`]; decided once per
/// process and logged in the `mediaai-simd` debug category (an unknown value of the variable
/// is ignored there with a warning).
pub fn lanes() -> Lanes {
    static LANES: std::sync::OnceLock<Lanes> = std::sync::OnceLock::new();
    *LANES.get_or_init(|| {
        let cat = gst::DebugCategory::new(
            "mediaai-simd",
            gst::DebugColorFlags::empty(),
            Some("Vector instructions of the CPU paths"),
        );
        let cap = match std::env::var(LANES_VAR) {
            Err(_) => Lanes::Avx512,
            Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
                "" | "avx512" => Lanes::Avx512,
                "avx2" => Lanes::Avx2,
                "sse2" | "baseline" => Lanes::Baseline,
                other => {
                    gst::warning!(
                        cat,
                        "{LANES_VAR}={other:?} is not avx512, avx2 or sse2: ignored"
                    );
                    Lanes::Avx512
                }
            },
        };
        let lanes = cpu_lanes().min(cap);
        gst::info!(cat, "CPU paths' vector instructions: up to {lanes:?}");
        lanes
    })
}

/// The widest vector instructions the CPU has.
fn cpu_lanes() -> Lanes {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx2")
        {
            return Lanes::Avx512;
        }
        if std::is_x86_feature_detected!("avx2") {
            return Lanes::Avx2;
        }
    }
    Lanes::Baseline
}

/// Runs `f` compiled for AVX2 when the CPU has it, else as built (SSE2 on x86-64): plain
/// loops over rows that the compiler vectorises get twice the lanes without a second source.
/// `f` and what it calls must be inlined into it to profit (mark row kernels
/// `#[inline(always)]`); results are the same either way, as the compiler never contracts or
/// reorders float arithmetic. AVX-512 is [`widest`]'s: upscale's spatial pass ran 1.5 times
/// as long built for it (an AMD EPYC with AVX-512; the compiler gathers where AVX2 loads).
#[inline(always)]
pub fn wide<R>(f: impl FnOnce() -> R) -> R {
    wide_as(Lanes::Avx2, f)
}

/// [`wide`] with AVX-512 where the CPU has it, for kernels measured faster so: vhsrestore's
/// passes ran 1.2 times as fast (2 cores of an AMD EPYC; deinterlacing a 720x576 luma plane
/// 0.19 ms against 0.27, denoising it 0.35 against 0.47). The same results as [`wide`].
#[inline(always)]
pub fn widest<R>(f: impl FnOnce() -> R) -> R {
    wide_as(Lanes::Avx512, f)
}

/// `f` built for at most `lanes`, and never more than [`lanes`] gives (the CPU's, capped by
/// [`LANES_VAR`]): the same results on every build.
#[inline(always)]
pub fn wide_as<R>(lanes: Lanes, f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    match lanes.min(self::lanes()) {
        // SAFETY: each build needs only the instructions `cpu_lanes` found the CPU has
        // (`lanes` gives no more).
        Lanes::Avx512 => return unsafe { avx512_build(f) },
        Lanes::Avx2 => return unsafe { avx2_build(f) },
        Lanes::Baseline => {}
    }
    let _ = lanes;
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl")]
fn avx512_build<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn avx2_build<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_padded_plane_reads_past_its_rows_as_the_end_pixels() {
        // 5x3, rows 7 bytes apart (the last two bytes of each row not the plane's).
        let data: Vec<u8> = (0..21).map(|i| (i * 10) as u8).collect();
        let p = super::Plane {
            data: &data,
            stride: 7,
            width: 5,
            height: 3,
            pad: 0,
        };
        let mut padded = super::Padded::default();
        padded.fill(p, 3);
        let q = padded.plane();
        for y in 0..3 {
            assert_eq!(q.row(y), p.row(y));
            let row = p.row(y);
            let mut wanted = vec![row[0]; 3];
            wanted.extend_from_slice(row);
            wanted.extend([row[4]; 3]);
            assert_eq!(q.reach(y, 3), &wanted[..]);
            assert_eq!(q.reach(y, 1), &wanted[2..9]);
        }
        assert_eq!(&q.pixels()[..5], p.row(0));
    }

    #[test]
    fn sums_of_absolute_differences_equal_the_scalar_sums() {
        let mut seed = 3u32;
        let mut bytes = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 24) as u8
                })
                .collect()
        };
        let (a, b) = (bytes(40 * 77), bytes(40 * 81));
        // Widths around the 32-byte (AVX2), 16- and 8-byte steps, strides unlike each other.
        for width in [
            0, 1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 37, 40, 56, 63, 64, 72,
        ] {
            for rows in [1, 2, 5, 36] {
                let scalar: u32 = (0..rows)
                    .flat_map(|y| (0..width).map(move |x| (y, x)))
                    .map(|(y, x)| a[y * 77 + x].abs_diff(b[y * 81 + x + 3]) as u32)
                    .sum();
                assert_eq!(
                    super::sad_rows((&a, 77), (&b[3..], 81), width, rows),
                    scalar,
                    "{width}x{rows}"
                );
            }
            let row: u32 = (0..width).map(|x| a[x].abs_diff(b[x]) as u32).sum();
            assert_eq!(super::sad(&a[..width], &b[..width + 2]), row, "{width}");
        }
    }

    #[test]
    fn vector_and_scalar_rounding_agree() {
        let mut values: Vec<f32> = (-2000..2000).map(|i| i as f32 * 0.173).collect();
        values.extend([
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.5,
            1.5,
            254.5,
            255.49,
        ]);
        values.extend([-0.49, -0.5, -0.51, 3e9, -3e9, 1e-30]);
        // The same values at the start, where the vector passes (32 and 16 at a time) take
        // them, not only in the scalar tail.
        let ends: Vec<f32> = values[4000..].to_vec();
        values.splice(0..0, ends);
        let mut out = vec![0u8; values.len()];
        super::quantize(&mut out, &values);
        for (o, v) in out.iter().zip(&values) {
            assert_eq!(*o, (v + 0.5).clamp(0.0, 255.0) as u8, "value {v}");
        }
        // The SSE2 pass alone (where the CPU has AVX2, `quantize` leaves it the last few).
        let mut sse2 = vec![0u8; values.len()];
        let n = super::quantize_simd(&mut sse2, &values);
        assert!(n > 4000, "{n} values in the SSE2 pass");
        assert_eq!(sse2[..n], out[..n], "SSE2 pass");
    }
}
