//! The statistics stage alone on a 1080p and a 4K I420 frame: the GPU measurements (upload,
//! one submission, readback of histograms, fingerprint grid and differences, finalize) beside
//! the CPU statistics, median ms per frame:
//! `cargo run --release -p gst-plugin-qc --example gpu_bench [FRAMES]`.
//! Needs only a Vulkan driver, not GStreamer.

use gstqc::fingerprint::Fingerprinter;
use gstqc::gpu::{GpuAnalysis, GridSampling, Source};
use gstqc::stats::{finalize, Analyser, FrameStats, Plane};
use mediaai_testing::bench::{adapter_line, median};
use std::time::Instant;

fn main() {
    let frames: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    println!("{}", adapter_line());
    println!(
        "{:<12} {:>10} {:>10} {:>8}",
        "frame", "gpu ms", "cpu ms", "cpu/gpu"
    );
    for (w, h) in [(1920usize, 1080usize), (3840, 2160)] {
        let (y, c) = (w * h, w * h / 4);
        let frame: Vec<u8> = (0..y + 2 * c)
            .map(|i| ((i * 2_654_435_761) >> 13) as u8)
            .collect();
        let planes = [
            Plane::tight(&frame[..y], w, h),
            Plane::tight(&frame[y..y + c], w / 2, h / 2),
            Plane::tight(&frame[y + c..], w / 2, h / 2),
        ];
        let layout = gstqc::gpu::i420_planes(w, h);
        let fingerprinter = Fingerprinter::new(w, h);
        let (column_cell, row_cell, steps) = fingerprinter.sampling();
        let mut gpu = GpuAnalysis::new(
            frame.len(),
            layout,
            GridSampling {
                column_cell,
                row_cell,
                steps,
            },
            &gstqc::gamut::Gamut::new(0.2126, 0.0722, w, h),
            &gstqc::flashes::FlashDetector::new(0.2126, 0.0722),
        )
        .expect("a GPU adapter");
        let (mut a, mut b) = (FrameStats::default(), FrameStats::default());
        let g = median(
            (0..frames)
                .map(|_| {
                    let t = Instant::now();
                    let m = gpu.measure(Source::Host(&frame)).unwrap();
                    finalize(m.histograms, 37, &mut a);
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect(),
        );
        let mut analyser = Analyser::new(h);
        let cpu = median(
            (0..frames)
                .map(|_| {
                    let t = Instant::now();
                    analyser.measure(planes, 37, &mut b);
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect(),
        );
        assert_eq!(a, b, "GPU and CPU statistics agree");
        println!(
            "{:<12} {g:>10.3} {cpu:>10.3} {:>7.2}x",
            format!("{w}x{h}"),
            cpu / g
        );
    }
}
