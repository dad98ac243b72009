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

/// Squared Laplacian of `f` summed over the 16x16 block at (`bx`, `by`): the detail a viewer
/// could recognise a face by.
fn block_detail(f: &[u8], bx: usize, by: usize) -> f64 {
    let p = |x: usize, y: usize| f[y * W + x] as f64;
    let mut sum = 0.0;
    for y in by.max(1)..(by + 16).min(H - 1) {
        for x in bx.max(1)..(bx + 16).min(W - 1) {
            let l = 4.0 * p(x, y) - p(x - 1, y) - p(x + 1, y) - p(x, y - 1) - p(x, y + 1);
            sum += l * l;
        }
    }
    sum
}

/// What was hidden in columns `x0..x1` going from `a` to `b`: the 16x16 blocks inside the area
/// that changed (those whose eight neighbours changed too, a mean difference above 4 levels:
/// the mask's own edge is a new step, no hiding), and the share of their detail left.
fn hidden_area(a: &[u8], b: &[u8], x0: usize, x1: usize) -> (usize, f64) {
    let (cols, rows) = ((x1 - x0) / 16, H / 16);
    let changed: Vec<bool> = (0..rows * cols)
        .map(|i| {
            let (bx, by) = (x0 + 16 * (i % cols), 16 * (i / cols));
            let mut sum = 0u32;
            for y in by..by + 16 {
                for x in bx..bx + 16 {
                    sum += a[y * W + x].abs_diff(b[y * W + x]) as u32;
                }
            }
            sum as f64 / 256.0 > 4.0
        })
        .collect();
    let (mut blocks, mut before, mut after) = (0, 0.0, 0.0);
    for r in 1..rows.saturating_sub(1) {
        for c in 1..cols.saturating_sub(1) {
            let at = |r: usize, c: usize| changed[r * cols + c];
            let around = (r - 1..=r + 1).all(|rr| (c - 1..=c + 1).all(|cc| at(rr, cc)));
            if around {
                let (bx, by) = (x0 + 16 * c, 16 * r);
                blocks += 1;
                before += block_detail(a, bx, by);
                after += block_detail(b, bx, by);
            }
        }
    }
    (blocks, after / before.max(1.0))
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
        // The photographer's chip is grey but for what of the astronaut's half it reaches.
        colour[0].max(colour[1]) > 10.0 && colour[0].min(colour[1]) < 6.0,
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
        assert!(
            kept < 6.0,
            "frame {i}: the kept astronaut changed ({kept:.1})"
        );
        // The photographer's face (about 90 px at this size) is blurred: inside the area that
        // changed, at least six blocks of 16x16 (8 to 14 seen), at most 10% of the detail is
        // left (under 1% seen).
        let (blocks, left) = hidden_area(a, b, W / 2, W);
        assert!(
            blocks >= 6 && left <= 0.1,
            "frame {i}: the photographer was not blurred ({blocks} blocks changed, {:.0}% of their detail left)",
            100.0 * left
        );
    }
}
