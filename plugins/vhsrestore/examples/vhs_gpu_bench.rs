//! The whole restoring pass on interlaced I420 frames (SD and 1080), GPU path beside CPU path,
//! median ms per frame: each GPU frame uploads one new input frame, restores it (deinterlace,
//! dropouts, denoise, levels, chroma shift) in one submission and reads it back; the GPU's
//! time split into upload, record and submit, and wait and readback, and with one frame in
//! flight (each frame read back once the next is submitted).
//! `cargo run --release -p gst-plugin-vhsrestore --example vhs_gpu_bench [FRAMES]`.
//! Needs only a Vulkan driver, not GStreamer.

use gstvhsrestore::gpu::{GpuRestore, PlaneJob, Slots};
use gstvhsrestore::stages::{self, Denoise, Dropouts, Finish, Levels, Linear, Plane, Source};
use mediaai_testing::bench::{adapter_line, median};
use rayon::prelude::*;
use std::time::Instant;

/// Plane `p` as the GPU restored it, into `outs`, as the element copies it out.
fn keep(outs: &mut [Vec<u8>; 3], p: usize, plane: Plane) {
    mediaai_common::staging::copy_plane_out(plane, &mut outs[p], plane.width);
}

fn main() {
    let frames: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    println!("{}", adapter_line());
    println!(
        "{:<12} {:>10} {:>10} {:>8}   ({} CPU threads)",
        "frame",
        "gpu ms",
        "cpu ms",
        "cpu/gpu",
        rayon::current_num_threads()
    );
    for (w, h) in [(720, 576), (1920, 1080)] {
        let sizes = [(w, h), (w / 2, h / 2), (w / 2, h / 2)];
        let mut seed = 1u32;
        // Four noisy frames, cycled as the stream.
        let inputs: Vec<[Vec<u8>; 3]> = (0..4)
            .map(|_| {
                sizes.map(|(pw, ph)| {
                    (0..pw * ph)
                        .map(|i| {
                            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                            ((i % pw) as u32 / 3 + (seed >> 28)) as u8
                        })
                        .collect()
                })
            })
            .collect();
        let planes = |f: usize| -> [Plane; 3] {
            std::array::from_fn(|p| Plane::tight(&inputs[f % 4][p], sizes[p].0, sizes[p].1))
        };
        let finish = |p: usize| Finish {
            dropouts: Some(Dropouts {
                threshold: 40,
                min_run: if p == 0 { 8 } else { 4 },
            }),
            shift: if p == 0 { 0 } else { -2 * stages::SHIFT_ONE },
            map: if p == 0 {
                Linear::levels(Levels {
                    black: 30.0,
                    white: 215.0,
                })
            } else {
                Linear::saturation(1.1)
            },
        };
        let strength = |p: usize| if p == 0 { 10.0 } else { 16.0 };
        let mut outs: [Vec<u8>; 3] = sizes.map(|(pw, ph)| vec![0u8; pw * ph]);
        let mut gpu_outs = outs.clone();

        // Synchronous (each frame read back before the next is submitted), then with one
        // frame in flight (`pipelined`: frame f submitted before frame f − 1 is read back).
        let mut gpu_ms = Vec::new();
        let (mut upload_ms, mut submit_ms) = (Vec::new(), Vec::new());
        let (mut finish_ms, mut flight_ms) = (Vec::new(), Vec::new());
        // On a thread of the pool, as the element restores (its uploads split among the pool's
        // threads there).
        rayon::scope(|_| {
            for pipelined in [false, true] {
                let mut gpu = match GpuRestore::new(sizes, pipelined) {
                    Ok(g) => g,
                    Err(e) => {
                        println!("no GPU path: {e}");
                        break;
                    }
                };
                let mut in_flight = None;
                for f in 1..frames + 1 {
                    let t = Instant::now();
                    let slots = gpu
                        .frames([
                            (f - 1, planes(f - 1)),
                            (f, planes(f)),
                            (f + 1, planes(f + 1)),
                        ])
                        .unwrap();
                    let uploaded = t.elapsed();
                    // Top field kept: the missing one lies in the frame before and this one.
                    let source = Slots::of(slots, true, (0, 0, 1), [0; 2]);
                    let jobs = [std::array::from_fn(|p| PlaneJob {
                        source,
                        denoise: strength(p),
                        spatial_share: stages::SPATIAL,
                        finish: finish(p),
                        motion: [0.0; 2],
                        blocks: None,
                    })];
                    let pending = gpu.submit(&jobs, None).unwrap();
                    let submitted = t.elapsed();
                    let done = if pipelined {
                        in_flight.replace(pending)
                    } else {
                        Some(pending)
                    };
                    if let Some(done) = done {
                        gpu.finish(done, |_, p, plane| keep(&mut gpu_outs, p, plane))
                            .unwrap();
                    }
                    gpu.retain(&[f, f + 1]);
                    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
                    if pipelined {
                        flight_ms.push(ms(t.elapsed()));
                    } else {
                        gpu_ms.push(ms(t.elapsed()));
                        upload_ms.push(ms(uploaded));
                        submit_ms.push(ms(submitted - uploaded));
                        finish_ms.push(ms(t.elapsed() - submitted));
                    }
                }
                if let Some(done) = in_flight {
                    gpu.finish(done, |_, p, plane| keep(&mut gpu_outs, p, plane))
                        .unwrap();
                }
            }
        });
        let mut denoise: [Denoise; 3] =
            std::array::from_fn(|p| Denoise::new(strength(p), sizes[p].0, sizes[p].1));
        let mut cpu_ms = Vec::new();
        for f in 1..frames + 1 {
            let t = Instant::now();
            let (pv, c, nx) = (planes(f - 1), planes(f), planes(f + 1));
            outs.par_iter_mut()
                .zip(denoise.par_iter_mut())
                .enumerate()
                .for_each(|(p, (out, dn))| {
                    let source = Source::of([pv[p], c[p], nx[p]], true, (0, 0, 1), [0; 2]);
                    stages::restore(source, out, sizes[p].0, dn, finish(p));
                });
            cpu_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let cpu = median(cpu_ms);
        let label = format!("{w}x{h}");
        if gpu_ms.is_empty() {
            println!("{label:<12} {:>10} {cpu:>10.3}", "-");
        } else {
            // The last frame of both paths, after the same stream: how far apart they are.
            let pairs = || outs.iter().flatten().zip(gpu_outs.iter().flatten());
            let most = pairs().map(|(a, b)| a.abs_diff(*b)).max().unwrap_or(0);
            let equal = pairs().filter(|(a, b)| a == b).count() as f64 / pairs().count() as f64;
            let g = median(gpu_ms);
            println!(
                "{label:<12} {g:>10.3} {cpu:>10.3} {:>7.2}x   gpu = cpu: {:.4}% of bytes, at most {most} apart",
                cpu / g,
                100.0 * equal
            );
            println!(
                "{:<12} upload {:.3}, submit {:.3}, wait and read back {:.3}; one frame in flight {:.3} ms a frame",
                "",
                median(upload_ms),
                median(submit_ms),
                median(finish_ms),
                median(flight_ms)
            );
        }
    }
}
