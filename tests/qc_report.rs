//! pipelines/qc-report.sh end to end: a clip with a black stretch gives a complete JSON
//! report with an entry per frame and the black run.

use std::process::Command;

use mediaai_pipelines::{root, sh, work_dir};

#[test]
fn qc_report_finds_the_black_run_and_writes_every_frame() {
    let dir = work_dir("qc-report");
    let clip = dir.join("clip.mp4");
    // 1 s of test pattern, 1 s of black (videotestsrc's black pattern), 1 s of pattern.
    sh(Command::new("gst-launch-1.0").args(["-q", "-e"]).args(
        format!(
            "concat name=c ! x264enc ! h264parse ! mp4mux ! filesink location={} \
             videotestsrc num-buffers=25 pattern=smpte ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 ! c. \
             videotestsrc num-buffers=25 pattern=black ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 ! c. \
             videotestsrc num-buffers=25 pattern=smpte ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 ! c.",
            clip.display()
        )
        .split_whitespace(),
    ));
    let report = dir.join("report.json");
    sh(Command::new(root().join("pipelines/qc-report.sh"))
        .env("QC_OPTS", "black-min-duration=0.5")
        .arg(&clip)
        .arg(&report));
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.ends_with("\n]}\n"), "a finished report is complete");
    assert_eq!(text.matches("\"pts\":").count(), 75, "an entry per frame");
    let black: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\"event\":\"black\""))
        .collect();
    assert_eq!(black.len(), 1, "one black run: {black:?}");
    // Times as the stream carries them (the MP4's first frame need not be at 0).
    let number = |l: &str, key: &str| -> f64 {
        let at = l.find(key).unwrap() + key.len();
        l[at..].split([',', '}']).next().unwrap().parse().unwrap()
    };
    let first = text.lines().find(|l| l.contains("\"pts\":")).unwrap();
    let first = number(first, "\"pts\":");
    let (start, end) = (number(black[0], "\"start\":"), number(black[0], "\"end\":"));
    assert!(
        (start - first - 1.0).abs() < 0.05,
        "black from 1 s: {start} (first frame {first})"
    );
    assert!((end - start - 1.0).abs() < 0.05, "for 1 s: {start}..{end}");
}
