//! The fuzz targets' bodies: each takes arbitrary bytes and drives one of the project's pure
//! parsing or decoding paths with them; none may panic, hang or allocate without bound.
//! `fuzz/` runs them under libFuzzer (`make fuzz`); `tests/fuzz_smoke.rs` runs them over a
//! seed corpus and generated inputs in `make test`.

use std::str::FromStr;
use std::sync::{Mutex, Once};

use gst::prelude::*;

/// Face model outputs: CenterFace maps or a YOLO tensor made of the bytes (after a small
/// header: map width and height, layout, threshold), decoded, suppressed and tracked.
pub fn model_output(data: &[u8]) {
    use gstfacedetect::centerface::CenterFaceMaps;
    use gstfacedetect::yolo::{YoloLayout, YoloOutput};
    let [w, h, kind, threshold, rest @ ..] = data else {
        return;
    };
    let floats: Vec<f32> = rest
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let (map_w, map_h) = (*w as usize % 17, *h as usize % 17);
    let threshold = *threshold as f32 / 255.0;
    let (in_w, in_h) = (4.0 * map_w as f32, 4.0 * map_h as f32);
    let mut dets = Vec::new();
    if kind % 2 == 0 {
        let plane = map_w * map_h;
        let part = |k: usize, n: usize| floats.get(k * plane..(k + n) * plane).unwrap_or(&[]);
        let maps = CenterFaceMaps {
            heatmap: part(0, 1),
            scale: part(1, 2),
            offset: part(3, 2),
            landmarks: part(5, 10),
            map_w,
            map_h,
        };
        maps.decode(threshold, in_w, in_h, &mut dets);
    } else {
        let dims = [
            1,
            if kind % 4 == 1 { 5 } else { 20 },
            map_w as i64 * map_h as i64,
        ];
        let dims = if kind % 8 >= 4 {
            [1, dims[2], dims[1]]
        } else {
            dims
        };
        if let Some(layout) = YoloLayout::from_shape(&dims) {
            if let Some(anchors) = layout.anchors(&dims) {
                let output = YoloOutput {
                    data: &floats,
                    layout,
                    anchors,
                };
                output.decode(threshold, in_w.max(1.0), in_h.max(1.0), &mut dets);
            }
        }
    }
    gstfacedetect::nms::suppress(&mut dets, 0.3);
    let mut tracker = gstfacedetect::tracker::FaceTracker::new(8, 16);
    let mut out = Vec::new();
    for frames in [1, 3] {
        tracker.predict(frames);
        tracker.update(&dets, frames);
        tracker.current(&mut out);
    }
}

/// DeepFilterNet model archives (`.tar.gz`), checked as audiodenoise checks them before
/// libDF sees them.
pub fn deepfilter_archive(data: &[u8]) {
    let _ = mediaai_common::deepfilter::check_model_archive(data);
}

/// qcfingerprint reports as a `reference`: their fingerprints read and matched.
pub fn qc_report(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let entries = gstqc::report::read_fingerprints(&text);
    let hashes: Vec<u64> = entries.iter().map(|e| e.1).collect();
    let window = &hashes[..hashes.len().min(5)];
    let _ = gstqc::fingerprint::best_match(&hashes, window);
}

/// The last GStreamer or GLib critical logged in this process: a critical is a broken
/// contract (an invalid range, a bad argument), so the caps target fails on one.
static CRITICAL: Mutex<Option<String>> = Mutex::new(None);

fn register_plugins() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        gst::init().expect("GStreamer initialises");
        for domain in ["GStreamer", "GLib-GObject", "GLib"] {
            gst::glib::log_set_handler(
                Some(domain),
                gst::glib::LogLevels::LEVEL_CRITICAL,
                false,
                false,
                |domain, _, message| {
                    *CRITICAL.lock().expect("critical lock") =
                        Some(format!("{}: {message}", domain.unwrap_or("")));
                },
            );
        }
        gstfacedetect::plugin_register_static().expect("facedetect registers");
        gstgpublur::plugin_register_static().expect("gpublur registers");
        gstvhsrestore::plugin_register_static().expect("vhsrestore registers");
        gstqc::plugin_register_static().expect("qcfingerprint registers");
        gstupscale::plugin_register_static().expect("upscale registers");
    });
}

/// Caps as text, offered to every video element's pads both ways: the caps each would
/// accept and what it would make of them (transform_caps, fixation of sizes and formats).
pub fn caps(data: &[u8]) {
    register_plugins();
    // GStreamer's caps parser is slow on deep nesting and keeps every field name it meets for
    // the life of the process (quarks): short inputs, shallow lists, as a pipeline would have.
    let depth = data
        .iter()
        .filter(|b| matches!(b, b'[' | b'{' | b'<'))
        .count();
    if data.len() > 512 || depth > 16 {
        return;
    }
    let text = String::from_utf8_lossy(data);
    // A C string ends at its first NUL (gstreamer-rs's parser refuses, by panicking, to cut it).
    if text.contains('\0') {
        return;
    }
    let parsed = gst::Caps::from_str(&text);
    // GStreamer's own parser logs criticals for some texts (a range of one value): those
    // caps are its problem, not the elements'.
    if CRITICAL.lock().expect("critical lock").take().is_some() {
        return;
    }
    let Ok(caps) = parsed else {
        return;
    };
    // GStreamer 1.22 compares a list mixing types ({RGBA, 20}) as if all were strings and
    // crashes in gst_caps_is_subset, in its own elements (videoscale) as in ours: passed over.
    let mixed = |v: &gst::glib::SendValue| {
        let items: Vec<gst::glib::Type> = if let Ok(l) = v.get::<gst::List>() {
            l.iter().map(|i| i.type_()).collect()
        } else if let Ok(a) = v.get::<gst::Array>() {
            a.iter().map(|i| i.type_()).collect()
        } else {
            return false;
        };
        items.windows(2).any(|w| w[0] != w[1])
    };
    if caps.iter().any(|s| s.iter().any(|(_, v)| mixed(v))) {
        return;
    }
    for name in [
        "onnxfacedetect",
        "gpublur",
        "vhsrestore",
        "qcfingerprint",
        "upscale",
    ] {
        let Ok(element) = gst::ElementFactory::make(name).build() else {
            continue;
        };
        for pad in ["sink", "src"] {
            if let Some(pad) = element.static_pad(pad) {
                let _ = pad.query_caps(Some(&caps));
                if caps.is_fixed() {
                    let _ = pad.query_accept_caps(&caps);
                }
            }
            if let Some(critical) = CRITICAL.lock().expect("critical lock").take() {
                panic!("{name} {pad} pad, caps {caps}: {critical}");
            }
        }
    }
}
