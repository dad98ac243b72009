//! Keeping chosen people visible, as an editor does it: pipelines/face-groups.sh finds the two
//! people of a clip (two real photographs side by side) and writes a thumbnail of each; with
//! one thumbnail in KEEP_FACES, pipelines/anonymize.sh leaves that person untouched in every
//! frame and blurs the other in every frame.

use std::path::Path;
use std::process::Command;

use mediaai_pipelines::{root, sh, work_dir};

const W: usize = 960;
const H: usize = 480;

/// The frames of `file` as 8-bit grey, `W`x`H` each.
fn grey_frames(file: &Path) -> Vec<Vec<u8>> {
    let out = sh(Command::new("ffmpeg")
        .args(["-loglevel", "error", "-i"])
        .arg(file)
        .args(["-f", "rawvideo", "-pix_fmt", "gray", "-"]));
    out.stdout.chunks(W * H).map(<[u8]>::to_vec).collect()
}

/// The largest mean difference of a 16x16 block between `a` and `b` in columns `x0..x1`.
fn worst_block(a: &[u8], b: &[u8], x0: usize, x1: usize) -> f64 {
    let mut worst: f64 = 0.0;
    for by in (0..H - 15).step_by(16) {
        for bx in (x0..x1 - 15).step_by(16) {
            let mut sum = 0u32;
            for y in by..by + 16 {
                for x in bx..bx + 16 {
                    sum += a[y * W + x].abs_diff(b[y * W + x]) as u32;
                }
            }
            worst = worst.max(sum as f64 / 256.0);
        }
    }
    worst
}

/// How far from grey a PNG is (mean |R - G| + |G - B|): the astronaut's portrait is in colour,
/// the photographer's in black and white.
fn colourfulness(png: &Path) -> f64 {
    let raw = png.with_extension("rgb");
    sh(Command::new("gst-launch-1.0").args([
        "-q",
        "filesrc",
        &format!("location={}", png.display()),
        "!",
        "pngdec",
        "!",
        "videoconvert",
        "!",
        "video/x-raw,format=RGB",
        "!",
        "filesink",
        &format!("location={}", raw.display()),
    ]));
    let px = std::fs::read(raw).unwrap();
    let sum: u64 = px
        .chunks(3)
        .map(|p| (p[0].abs_diff(p[1]) + p[1].abs_diff(p[2])) as u64)
        .sum();
    sum as f64 / (px.len() / 3) as f64
}

#[test]
fn face_groups_finds_both_people_and_keeping_one_blurs_only_the_other() {
    let dir = work_dir("face-groups");
    let media = root().join(".deps/media");
    let clip = dir.join("two.mp4");
    sh(Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-loop", "1", "-framerate", "25", "-i"])
        .arg(media.join("astronaut.png"))
        .args(["-loop", "1", "-framerate", "25", "-i"])
        .arg(media.join("camera.png"))
        .args([
            "-filter_complex",
            "[0]scale=480:480,format=yuv420p[a];[1]scale=480:480,format=yuv420p[b];[a][b]hstack,format=yuv420p[v]",
            "-map",
            "[v]",
            "-t",
            "3",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "18",
        ])
        .arg(&clip));

    let groups = dir.join("groups");
    let _ = std::fs::remove_dir_all(&groups);
    sh(Command::new(root().join("pipelines/face-groups.sh"))
        .arg(&clip)
        .arg(&groups));
    let json = std::fs::read_to_string(groups.join("groups.json")).unwrap();
    let people = json.matches("\"person\":").count();
    assert_eq!(people, 2, "{json}");
    // Each person on screen from the start to the end of the 3 s clip.
    let times = |key: &str| -> Vec<f64> {
        json.split(&format!("\"{key}\": "))
            .skip(1)
            .map(|t| {
                t.split(|c: char| c != '.' && !c.is_ascii_digit())
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect()
    };
    assert!(times("start").iter().all(|&t| t < 0.2), "{json}");
    assert!(times("end").iter().all(|&t| t > 2.8), "{json}");
    let thumbs = [1, 2].map(|n| groups.join(format!("person-{n}.png")));
    let colour = thumbs.each_ref().map(|t| colourfulness(t));
    let astronaut = if colour[0] > colour[1] {
        &thumbs[0]
    } else {
        &thumbs[1]
    };
    assert!(
        colour[0].max(colour[1]) > 10.0 && colour[0].min(colour[1]) < 2.0,
        "{colour:?}"
    );

    let keep = dir.join("keep");
    let _ = std::fs::remove_dir_all(&keep);
    std::fs::create_dir_all(&keep).unwrap();
    std::fs::copy(astronaut, keep.join("astronaut.png")).unwrap();
    let result = dir.join("anonymized.mp4");
    sh(Command::new(root().join("pipelines/anonymize.sh"))
        .env("KEEP_FACES", &keep)
        .arg(&clip)
        .arg(&result));
    let (before, after) = (grey_frames(&clip), grey_frames(&result));
    assert_eq!(before.len(), 75);
    assert_eq!(after.len(), 75);
    for (i, (a, b)) in before.iter().zip(&after).enumerate() {
        let kept = worst_block(a, b, 0, W / 2);
        let hidden = worst_block(a, b, W / 2, W);
        assert!(
            kept < 6.0,
            "frame {i}: the kept astronaut changed ({kept:.1})"
        );
        assert!(
            hidden > 30.0,
            "frame {i}: the photographer was not blurred ({hidden:.1})"
        );
    }
}
