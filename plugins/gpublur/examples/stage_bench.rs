//! The GPU blur stage alone, against the floor every system-memory frame pays for a GPU pass:
//! one upload and one readback of the whole frame, measured with a plain copy in the same run.
//!
//!     cargo run --release -p gst-plugin-gpublur --example stage_bench [ITERATIONS]
//!
//! Prints milliseconds per frame for 1080p and 4K frames, RGBA and I420, with 1, 3 and 10
//! face-sized regions and the whole frame, gaussian sigma 24 (the element's default) through the
//! pyramid (the element's default) and directly: synchronous (median of submit-and-wait) and
//! pipelined as the element runs by default (frame N+1 submitted before frame N is read back;
//! mean over the run), each with its ratio to the floor. GStreamer is not involved,
//! so it runs where only a Vulkan driver is installed.

use mediaai_testing::bench::median;
use std::time::Instant;

use gstgpublur::gpu::WgpuBlur;
use gstgpublur::kernel::{pyramid_for, GaussianKernel};
use gstgpublur::planar::YuvLayout;
use gstgpublur::planar::{Frame, PackedFrame};
use gstgpublur::regions::{Blur, BlurOp, MaskRegion, MaskShape};
use mediaai_common::gpu;
use mediaai_common::staging::{self, ReadbackRing};

/// Upload, copy to a mappable buffer, map and read back the whole frame: the floor.
fn round_trip_ms(ctx: &'static gpu::GpuContext, data: &mut [u8], iterations: usize) -> f64 {
    use wgpu::BufferUsages as U;
    let len = data.len() as u64;
    let frame = ctx.create_buffer("floor frame", len, U::STORAGE | U::COPY_DST | U::COPY_SRC);
    let staging = ReadbackRing::frames(ctx, "floor staging", len, 1);
    let mut times = Vec::new();
    for i in 0..iterations + 5 {
        let t = Instant::now();
        staging::upload_bytes(ctx, &frame, data);
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(&frame, 0, staging.target().unwrap(), 0, len);
        let submission = ctx.queue.submit(Some(enc.finish()));
        staging
            .read_now(len, submission, |bytes| data.copy_from_slice(bytes))
            .unwrap();
        if i >= 5 {
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    median(times)
}

/// `data` as the engine takes it: I420 planes of `layout`, or packed RGBA.
fn view(data: &mut [u8], layout: Option<YuvLayout>, width: u32, height: u32) -> Frame<'_> {
    match layout {
        Some(layout) => Frame::Yuv { data, layout },
        None => Frame::Packed(PackedFrame {
            data,
            stride: width as usize * 4,
            width,
            height,
        }),
    }
}

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let ctx = gpu::context().expect("a GPU adapter");
    println!(
        "adapter: {} ({:?}, {:?})",
        ctx.adapter_info.name, ctx.adapter_info.device_type, ctx.adapter_info.backend
    );
    let mut direct = GaussianKernel::default();
    direct.set_sigma(24.0);
    let (factor, grid_sigma) = pyramid_for(24.0).expect("sigma 24 uses the pyramid");
    let mut grid = GaussianKernel::default();
    grid.set_sigma(grid_sigma);
    let ops = [
        (
            "pyramid",
            BlurOp::Pyramid {
                factor,
                radius: grid.radius(),
            },
            grid.weights().to_vec(),
        ),
        (
            "direct",
            BlurOp::Gaussian {
                radius: direct.radius(),
            },
            direct.weights().to_vec(),
        ),
    ];
    println!(
        "{:<16} {:<8} {:<12} {:>8} {:>8} {:>9} {:>7} {:>7}",
        "frame", "blur", "regions", "sync ms", "pipe ms", "floor ms", "sync/fl", "pipe/fl"
    );
    for (w, h) in [(1920u32, 1080u32), (3840, 2160)] {
        for yuv in [false, true] {
            let (y, c) = ((w * h) as usize, (w * h / 4) as usize);
            let layout = YuvLayout::new(
                w,
                h,
                (0, w as usize),
                [(y, w as usize / 2), (y + c, w as usize / 2)],
                false,
            );
            let stride = w as usize * 4;
            let len = if yuv {
                (w * h * 3 / 2) as usize
            } else {
                stride * h as usize
            };
            // Two frames in turn, as a pipelined element has two buffers between submit and
            // finish.
            let mut frames: [Vec<u8>; 2] =
                std::array::from_fn(|k| (0..len).map(|i| ((i * 7 + k) % 251) as u8).collect());
            let floor = round_trip_ms(ctx, &mut frames[0], iterations);
            let mut blur = if yuv {
                WgpuBlur::new_yuv(layout)
            } else {
                WgpuBlur::new(w, h, stride)
            }
            .expect("GPU resources for the frame");
            let yuv_layout = yuv.then_some(layout);
            // Face boxes about a tenth of the frame height, spread over the frame.
            let face = h / 10;
            let faces = |n: u32| -> Vec<MaskRegion> {
                (0..n)
                    .filter_map(|i| {
                        let x = (i * 7919 % (w - 2 * face)) + face / 2;
                        let y = (i * 104_729 % (h - 2 * face)) + face / 2;
                        MaskRegion::from_box(x, y, face, face * 13 / 10, 1.3, w, h)
                    })
                    .collect()
            };
            let cases: Vec<(String, Vec<MaskRegion>, MaskShape)> = vec![
                ("1".into(), faces(1), MaskShape::Ellipse),
                ("3".into(), faces(3), MaskShape::Ellipse),
                ("10".into(), faces(10), MaskShape::Ellipse),
                (
                    "whole frame".into(),
                    vec![MaskRegion::whole_frame(w, h)],
                    MaskShape::Box,
                ),
            ];
            for (generation, (kind, op, weights)) in ops.iter().enumerate() {
                for (name, masks, shape) in &cases {
                    let job = Blur {
                        regions: masks,
                        shape: *shape,
                        op: *op,
                        weights,
                        weights_generation: generation as u64,
                        alpha_index: 3,
                        feather: 0.0,
                    };
                    // Synchronous: submit and wait for each frame.
                    let mut times = Vec::new();
                    for i in 0..iterations + 5 {
                        let mut frame = view(&mut frames[0], yuv_layout, w, h);
                        let t = Instant::now();
                        blur.process(&mut frame, &job).expect("blur runs");
                        if i >= 5 {
                            times.push(t.elapsed().as_secs_f64() * 1e3);
                        }
                    }
                    let sync = median(times);
                    // Pipelined as the element runs it: submit frame i, then finish frame i-1.
                    let mut pending = None;
                    let mut t = Instant::now();
                    for i in 0..iterations + 5 {
                        if i == 5 {
                            t = Instant::now();
                        }
                        let k = i % 2;
                        let next = blur
                            .submit(&view(&mut frames[k], yuv_layout, w, h), &job)
                            .expect("blur runs");
                        if let Some(p) = std::mem::replace(&mut pending, next) {
                            blur.finish(p, &mut view(&mut frames[1 - k], yuv_layout, w, h))
                                .expect("readback");
                        }
                    }
                    let pipe = t.elapsed().as_secs_f64() * 1e3 / iterations as f64;
                    if let Some(p) = pending {
                        let k = (iterations + 4) % 2;
                        blur.finish(p, &mut view(&mut frames[k], yuv_layout, w, h))
                            .expect("readback");
                    }
                    println!(
                        "{:<16} {:<8} {:<12} {:>8.2} {:>8.2} {:>9.2} {:>6.2}x {:>6.2}x",
                        format!("{w}x{h} {}", if yuv { "I420" } else { "RGBA" }),
                        kind,
                        name,
                        sync,
                        pipe,
                        floor,
                        sync / floor,
                        pipe / floor
                    );
                }
            }
        }
    }
}
