//! Helpers the test suites of every plugin share: real media from the project's manifest and
//! real pipelines run to the end. Not used by the elements themselves.

use std::path::PathBuf;

use gst::prelude::*;

/// A file fetched by `make media` (models/media.toml); panics with the fix when it is absent.
pub fn media(name: &str) -> PathBuf {
    let p = std::path::Path::new(crate::SOURCE_TREE_ROOT)
        .join(".deps/media")
        .join(name);
    assert!(
        p.is_file(),
        "{} missing: run `make media` first",
        p.display()
    );
    p
}

/// Decodes an image file into one video frame of `format` (e.g. "RGBA"), optionally scaled
/// to `size`, through a real GStreamer pipeline.
pub fn load_frame(path: &std::path::Path, format: &str, size: Option<(u32, u32)>) -> gst::Sample {
    gst::init().expect("GStreamer initialises");
    let scale = size
        .map(|(w, h)| {
            format!("! videoscale ! video/x-raw,width={w},height={h},pixel-aspect-ratio=1/1 ")
        })
        .unwrap_or_default();
    let desc = format!(
        "filesrc location=\"{}\" ! decodebin ! videoconvert {scale}! videoconvert ! video/x-raw,format={format} ! fakesink name=sink enable-last-sample=true",
        path.display()
    );
    let (pipeline, _) = run_to_end(&desc).expect("image pipeline runs");
    let sink = pipeline
        .by_name("sink")
        .expect("sink is in the description");
    let sample = sink
        .property::<Option<gst::Sample>>("last-sample")
        .expect("one frame decoded");
    pipeline.set_state(gst::State::Null).expect("to NULL");
    sample
}

/// Runs a `gst-launch` style description to EOS and returns the pipeline (still PLAYING, for
/// inspection) with the structures of the element messages posted on the way, or the first
/// error message's text and debug string.
pub fn run_to_end(desc: &str) -> Result<(gst::Pipeline, Vec<gst::Structure>), String> {
    gst::init().expect("GStreamer initialises");
    let pipeline = gst::parse::launch(desc)
        .map_err(|e| format!("parse: {e}"))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| "not a pipeline".to_string())?;
    let bus = pipeline.bus().expect("pipelines have a bus");
    let mut elements = Vec::new();
    let result = match pipeline.set_state(gst::State::Playing) {
        Err(_) => {
            Err(first_error(&bus).unwrap_or_else(|| "state change failed without a message".into()))
        }
        Ok(_) => loop {
            let Some(msg) = bus.timed_pop(gst::ClockTime::from_seconds(120)) else {
                break Err("pipeline timed out".into());
            };
            match msg.view() {
                gst::MessageView::Eos(_) => break Ok(()),
                gst::MessageView::Error(e) => {
                    break Err(format!("{} ({:?})", e.error(), e.debug()))
                }
                gst::MessageView::Element(e) => {
                    if let Some(s) = e.structure() {
                        elements.push(s.to_owned());
                    }
                }
                _ => {}
            }
        },
    };
    match result {
        Ok(()) => Ok((pipeline, elements)),
        Err(e) => {
            let _ = pipeline.set_state(gst::State::Null);
            Err(e)
        }
    }
}

fn first_error(bus: &gst::Bus) -> Option<String> {
    while let Some(msg) = bus.pop() {
        if let gst::MessageView::Error(e) = msg.view() {
            return Some(format!("{} ({:?})", e.error(), e.debug()));
        }
    }
    None
}
