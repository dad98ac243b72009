//! Helpers of the upscale test binaries.
#![allow(dead_code)]

use mediaai_testing::{load_frame, media};

pub fn init() {
    gst::init().unwrap();
    gstupscale::plugin_register_static().expect("plugin registers");
}

/// The astronaut as one `format` frame of `w`x`h`, and its caps.
pub fn astronaut(format: &str, w: u32, h: u32) -> (Vec<u8>, gst::Caps) {
    let sample = load_frame(&media("astronaut.png"), format, Some((w, h)));
    let data = sample.buffer().unwrap().map_readable().unwrap().to_vec();
    let mut caps = sample.caps().unwrap().to_owned();
    caps.make_mut().set("framerate", gst::Fraction::new(25, 1));
    (data, caps)
}

/// Five different frames: the astronaut at `w`x`h`, brighter by 20 levels each frame.
pub fn five_frames(format: &str, w: u32, h: u32) -> (Vec<Vec<u8>>, gst::Caps) {
    let (data, caps) = astronaut(format, w, h);
    let frames = (0..5u8)
        .map(|k| data.iter().map(|v| v.saturating_add(20 * k)).collect())
        .collect();
    (frames, caps)
}

pub fn bytes(b: &gst::Buffer) -> Vec<u8> {
    b.map_readable().unwrap().to_vec()
}
