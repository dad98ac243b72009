//! The spatial path's throughput on the GPU at batch 1, 8 and 16 (frames per submission: each
//! frame's bytes uploaded as they came, converted, upscaled, sharpened and packed on the GPU,
//! one submission and one readback per batch) beside the CPU path's maths (frame to floats,
//! EASU, RCAS; not the packing), on RGBx frames; frames per second over the same frames.
//! `cargo run --release -p gst-plugin-upscale --example upscale_gpu_bench [FRAMES]`.
//! Needs only a Vulkan driver, not GStreamer.

use gstupscale::gpu::GpuSpatial;
use gstupscale::spatial::Spatial;
use mediaai_common::sampler::{PixelSource, TensorSampler, YuvMatrix};
use mediaai_testing::bench::adapter_line;
use std::time::Instant;

fn main() {
    let frames: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(96);
    println!("{}", adapter_line());
    println!(
        "2x spatial (EASU + RCAS), RGBx, {frames} frames; {} CPU threads",
        rayon::current_num_threads()
    );
    println!(
        "{:<22} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "frame", "cpu fps", "gpu b1", "gpu b8", "gpu b16", "b16/b1", "b16/cpu"
    );
    let matrix = YuvMatrix::new(0.299, 0.114, false);
    for (w, h) in [(720, 576), (960, 540), (1920, 1080)] {
        let (ow, oh) = (2 * w, 2 * h);
        // Four textured RGBx frames, cycled as the stream.
        let inputs: Vec<Vec<u8>> = (0..4)
            .map(|k| {
                (0..4 * w * h)
                    .map(|i| ((i / 4 % w + k * 7) * 255 / w + (i / 4 / w % 5) * 9) as u8)
                    .collect()
            })
            .collect();
        let sampler = TensorSampler::new(w as u32, h as u32, w as u32, h as u32, matrix)
            .with_gain(1.0 / 255.0);
        let mut planar = vec![0f32; 3 * w * h];
        let mut cpu = Spatial::new(w, h, 2, 0.2);
        let mut out = vec![0f32; 3 * ow * oh];
        let cpu_frames = frames.min(32);
        let t = Instant::now();
        for f in 0..cpu_frames {
            let source = PixelSource::Packed {
                data: &inputs[f % 4],
                stride: 4 * w,
                pixel_stride: 4,
                offsets: [0, 1, 2],
            };
            assert!(sampler.fill(&source, &mut planar));
            cpu.run(&planar, &mut out);
        }
        let cpu_fps = cpu_frames as f64 / t.elapsed().as_secs_f64();
        let mut fps = Vec::new();
        for batch in [1usize, 8, 16] {
            let gpu =
                match GpuSpatial::new(w, h, 2, 0.2, batch, gst_video::VideoFormat::Rgbx, matrix) {
                    Ok(g) => g,
                    Err(e) => {
                        println!("{w}x{h}: no GPU path at batch {batch}: {e}");
                        break;
                    }
                };
            let mut result = vec![0u8; 4 * ow * oh];
            let mut run = |start: usize| {
                for k in 0..batch {
                    gpu.upload(k, &[(&inputs[(start + k) % 4], 4 * w)])
                        .expect("upload");
                }
                gpu.run(batch, |_, bytes| {
                    result.copy_from_slice(&bytes[..4 * ow * oh])
                })
                .expect("GPU run");
            };
            run(0);
            let runs = frames.div_ceil(batch);
            let t = Instant::now();
            for r in 0..runs {
                run(r * batch);
            }
            fps.push((runs * batch) as f64 / t.elapsed().as_secs_f64());
        }
        let cell = |i: usize| fps.get(i).map_or("-".to_string(), |f| format!("{f:.1}"));
        let ratio =
            |a: Option<&f64>, b: f64| a.map_or("-".to_string(), |a| format!("{:.2}x", a / b));
        println!(
            "{:<22} {cpu_fps:>10.1} {:>10} {:>10} {:>10} {:>9} {:>9}",
            format!("{w}x{h} -> {ow}x{oh}"),
            cell(0),
            cell(1),
            cell(2),
            ratio(fps.get(2), fps.first().copied().unwrap_or(f64::NAN)),
            ratio(fps.get(2), cpu_fps),
        );
    }
}
