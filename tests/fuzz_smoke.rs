//! The fuzz targets (`fuzz/`, `make fuzz`) in short: each target's body runs over a seed corpus
//! of real and hand-made inputs and their mutations (bit flips, truncations, insertions,
//! splices, boundary values) from a fixed seed. Any panic fails the test; the counts of
//! executions are printed.

use mediaai_pipelines::fuzzing;

/// A fixed-seed xorshift generator: the same inputs on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `seed` changed once or a few times, as libFuzzer's mutators do.
fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(7) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = [0, 0xff, 0x7f, 0x80, b'"', b',', b'}', b'='][rng.below(8)];
            }
            2 => {
                let n = rng.below(v.len() + 1);
                v.truncate(n);
            }
            3 => {
                let i = rng.below(v.len() + 1);
                let b = rng.next() as u8;
                v.insert(i, b);
            }
            4 if !v.is_empty() => {
                let i = rng.below(v.len());
                let n = rng.below(v.len() - i + 1);
                v.drain(i..i + n);
            }
            5 if !other.is_empty() => {
                let i = rng.below(v.len() + 1);
                let (a, b) = (rng.below(other.len()), rng.below(other.len()));
                v.splice(i..i, other[a.min(b)..a.max(b)].iter().copied());
            }
            _ => {
                let n = rng.below(64);
                v.extend((0..n).map(|_| rng.next() as u8));
            }
        }
    }
    v
}

/// Runs `target` on every seed and on `rounds` mutations; returns the executions.
fn run(target: fn(&[u8]), seeds: &[Vec<u8>], rounds: usize, rng: &mut Rng) -> usize {
    for s in seeds {
        target(s);
    }
    for _ in 0..rounds {
        let a = &seeds[rng.below(seeds.len())];
        let b = &seeds[rng.below(seeds.len())];
        target(&mutate(rng, a, b));
    }
    seeds.len() + rounds
}

fn floats(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn face_model_outputs_never_panic_the_decoders() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut seeds = Vec::new();
    for kind in 0..8u8 {
        for (w, h) in [(4u8, 3u8), (1, 1), (16, 16), (0, 5)] {
            let n = w as usize * h as usize * 20;
            let mut v = vec![w, h, kind, 80];
            let vals: Vec<f32> = (0..n)
                .map(|i| match i % 11 {
                    0 => 0.9,
                    1 => f32::NAN,
                    2 => f32::INFINITY,
                    3 => -f32::INFINITY,
                    4 => 1e30,
                    5 => -1e30,
                    6 => 0.0,
                    _ => (rng.next() % 1000) as f32 / 100.0 - 2.0,
                })
                .collect();
            v.extend(floats(&vals));
            seeds.push(v);
        }
    }
    let n = run(fuzzing::model_output, &seeds, 4000, &mut rng);
    eprintln!("model_output: {n} executions");
}

#[test]
fn damaged_deepfilter_archives_are_refused_without_panicking() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    // A real archive when `make models` fetched it, and gzip-looking bytes either way.
    let real =
        std::fs::read(mediaai_pipelines::root().join("models/DeepFilterNet3_onnx.tar.gz")).ok();
    let mut seeds = vec![
        vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff],
        vec![0x1f, 0x8b],
        Vec::new(),
        b"not an archive".to_vec(),
    ];
    // What the checker is for: damaged archives refused, the real one taken.
    for (k, seed) in seeds.iter().enumerate() {
        assert!(
            mediaai_common::deepfilter::check_model_archive(seed.as_slice()).is_err(),
            "damaged archive {k} ({} bytes) accepted",
            seed.len()
        );
    }
    let mut rounds = 2000;
    if let Some(real) = real {
        assert_eq!(
            mediaai_common::deepfilter::check_model_archive(real.as_slice()),
            Ok(()),
            "the real archive"
        );
        // Cut anywhere its members' bytes are (only the gzip trailer's last byte missing,
        // every model file is whole: that one is taken).
        for cut in [10, 100, 1000, 5000, real.len() / 2] {
            assert!(
                mediaai_common::deepfilter::check_model_archive(&real[..cut]).is_err(),
                "the archive cut at {cut} bytes accepted"
            );
        }
        // Whole-archive mutations decompress megabytes each: fewer of them, and the archive's
        // first kilobytes (headers, the first member's start) mutated more often.
        for cut in [10, 100, 1000, 5000, real.len() / 2, real.len() - 1] {
            seeds.push(real[..cut.min(real.len())].to_vec());
        }
        let n = run(
            fuzzing::deepfilter_archive,
            std::slice::from_ref(&real),
            40,
            &mut rng,
        );
        eprintln!("deepfilter_archive (whole archive): {n} executions");
        rounds = 1500;
    }
    let n = run(fuzzing::deepfilter_archive, &seeds, rounds, &mut rng);
    eprintln!("deepfilter_archive: {n} executions");
}

#[test]
fn damaged_qc_reports_are_read_without_panicking() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut report = String::from("{\"width\":64,\"height\":48,\"framerate\":25,\"entries\":[\n");
    for k in 0..40 {
        report += &format!(
            "{{\"pts\":{:.6},\"fp\":\"{:x}\",\"mean\":[1,2,3]}},\n",
            k as f64 * 0.04,
            rng.next() >> 1
        );
    }
    report += "{\"pts\":-1e300,\"fp\":\"ffffffffffffffff\"},\n{\"pts\":inf,\"fp\":\"0\"},\n{\"pts\":NaN,\"fp\":\"zz\"}\n]}\n";
    let seeds = vec![
        report.into_bytes(),
        b"\"fp\":\"".to_vec(),
        b"\"pts\":\"fp\":".to_vec(),
        "\"fp\":\"\u{e9}\u{1F600}\"pts\":".as_bytes().to_vec(),
    ];
    let n = run(fuzzing::qc_report, &seeds, 4000, &mut rng);
    eprintln!("qc_report: {n} executions");
}

#[test]
fn odd_caps_never_panic_the_video_elements() {
    let mut rng = Rng(0x0dd_ca95);
    let seeds: Vec<Vec<u8>> = [
        "video/x-raw,format=I420,width=64,height=48,framerate=25/1",
        "video/x-raw,format=RGBx,width=[1,8192],height=[1,4320]",
        "video/x-raw,format={RGBA,BGRx,I420},width=3,height=1,interlace-mode=interleaved",
        "video/x-raw,width=0,height=0",
        "video/x-raw,width=-5,height=2147483647",
        "video/x-raw,width=2147483647,height=2147483647,framerate=0/1",
        "video/x-raw,width=[2147483600,2147483647],height=[1,2]",
        "video/x-raw,format=NV12,width=1,height=1,framerate=2147483647/1",
        "video/x-raw(memory:GLMemory),format=RGBA",
        "audio/x-raw,format=F32LE,rate=48000,channels=2",
        "video/x-raw,width=(string)wide,height=(double)1.5",
        "ANY",
        "EMPTY",
        "video/x-raw; video/x-raw,format=Y444,width=7,height=3",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let n = run(fuzzing::caps, &seeds, 600, &mut rng);
    eprintln!("caps: {n} executions");
}
