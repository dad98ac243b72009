//! What a face model is to the element, apart from GStreamer: its kind and the input
//! dimensions it fixes, found from the session at start ([`model_spec`]), and the decoding of
//! its outputs into detections in network-input pixels, slot by slot of a batch.

use mediaai_common::inference::InputKind;
use mediaai_common::roi::Detection;

use crate::centerface::{CenterFaceMaps, CenterFacePeaks, STRIDE};
use crate::yolo::{YoloLayout, YoloOutput};

/// Which output decoder a model needs, found from its output shapes at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModelKind {
    /// Four maps: heatmap, scale, offset, landmarks; input 0–255 RGB of any 32-aligned size.
    CenterFace,
    /// CenterFace giving back the heatmap's best cells and the values there instead of the
    /// maps (five outputs: scores, cells, scale, offset, landmarks; see `CenterFacePeaks`), as
    /// `make models` builds it for GPU providers.
    CenterFacePeaks,
    /// One `[N, C, anchors]` tensor (or its transpose); input 0–1 RGB, letterboxed when the
    /// model's input size is fixed.
    Yolo(YoloLayout),
}

/// What start learnt about the model: its kind, its input values and the input dimensions it
/// fixes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ModelSpec {
    pub kind: ModelKind,
    /// Floats, or 8-bit levels the network scales itself (the kind's gain not applied).
    pub input: InputKind,
    pub fixed_batch: Option<usize>,
    pub fixed_size: Option<(u32, u32)>,
}

/// The `len` values of batch slot `slot` (empty when the output is shorter than expected).
fn slot_part(data: &[f32], slot: usize, len: usize) -> &[f32] {
    data.get(slot * len..(slot + 1) * len).unwrap_or(&[])
}

/// Output `i` of an inference as its shape and values, if it is a float tensor.
pub(crate) type OutputPart<'a> = Option<(&'a [i64], &'a [f32])>;

/// The outputs of a session run, as [`decode`] takes them.
pub(crate) fn session_output<'a>(
    outputs: &'a ort::session::SessionOutputs,
    i: usize,
) -> OutputPart<'a> {
    if i >= outputs.len() {
        return None;
    }
    outputs[i]
        .try_extract_tensor::<f32>()
        .ok()
        .map(|(shape, values)| (&**shape, values))
}

/// Decodes the outputs (`output(i)`: the i-th, in the session's order) of a `batch`-image
/// inference of a `kind` model into the first `slots.len()` images' detections.
pub(crate) fn decode<'a>(
    kind: ModelKind,
    output: impl Fn(usize) -> OutputPart<'a>,
    batch: usize,
    threshold: f32,
    size: (f32, f32),
    slots: &mut [Vec<Detection>],
) -> Result<(), String> {
    match kind {
        ModelKind::CenterFace => decode_centerface(output, batch, threshold, size, slots),
        ModelKind::CenterFacePeaks => decode_peaks(output, batch, threshold, size, slots),
        ModelKind::Yolo(layout) => decode_yolo(output, layout, batch, threshold, size, slots),
    }
}

/// Decodes the four CenterFace maps of every slot (`slots.len()` of a `batch`-image output).
fn decode_centerface<'a>(
    output: impl Fn(usize) -> OutputPart<'a>,
    batch: usize,
    threshold: f32,
    (tw, th): (f32, f32),
    slots: &mut [Vec<Detection>],
) -> Result<(), String> {
    let (Some((hs, heat)), Some((_, scale)), Some((_, offset)), Some((_, lms))) =
        (output(0), output(1), output(2), output(3))
    else {
        return Err("gave outputs that are not float tensors".into());
    };
    let (map_h, map_w) = match *hs {
        [n, 1, h, w] if n as usize == batch && h > 0 && w > 0 => (h as usize, w as usize),
        _ => {
            return Err(format!(
                "gave a heatmap of shape {hs:?}, expected [{batch}, 1, H, W]"
            ))
        }
    };
    let plane = map_w * map_h;
    for (slot, faces) in slots.iter_mut().enumerate() {
        let maps = CenterFaceMaps {
            heatmap: slot_part(heat, slot, plane),
            scale: slot_part(scale, slot, 2 * plane),
            offset: slot_part(offset, slot, 2 * plane),
            landmarks: slot_part(lms, slot, 10 * plane),
            map_w,
            map_h,
        };
        faces.clear();
        maps.decode(threshold, tw, th, faces);
    }
    Ok(())
}

/// Decodes the best cells of every slot (`slots.len()` of a `batch`-image output): see
/// [`ModelKind::CenterFacePeaks`]; the maps are `size` / [`STRIDE`] cells.
fn decode_peaks<'a>(
    output: impl Fn(usize) -> OutputPart<'a>,
    batch: usize,
    threshold: f32,
    (tw, th): (f32, f32),
    slots: &mut [Vec<Detection>],
) -> Result<(), String> {
    let (Some((ss, scores)), Some((_, cells)), Some((_, scale)), Some((_, offset)), Some((_, lms))) =
        (output(0), output(1), output(2), output(3), output(4))
    else {
        return Err("gave outputs that are not float tensors".into());
    };
    let k = match *ss {
        [n, k] if n as usize == batch && k >= 0 => k as usize,
        _ => {
            return Err(format!(
                "gave scores of shape {ss:?}, expected [{batch}, K]"
            ))
        }
    };
    let map_w = (tw / STRIDE).round() as usize;
    for (slot, faces) in slots.iter_mut().enumerate() {
        let peaks = CenterFacePeaks {
            scores: slot_part(scores, slot, k),
            cells: slot_part(cells, slot, k),
            scale: slot_part(scale, slot, 2 * k),
            offset: slot_part(offset, slot, 2 * k),
            landmarks: slot_part(lms, slot, 10 * k),
            map_w,
        };
        faces.clear();
        peaks.decode(threshold, tw, th, faces);
    }
    Ok(())
}

/// Decodes a YOLO face output of every slot, read in place.
fn decode_yolo<'a>(
    output: impl Fn(usize) -> OutputPart<'a>,
    layout: YoloLayout,
    batch: usize,
    threshold: f32,
    (tw, th): (f32, f32),
    slots: &mut [Vec<Detection>],
) -> Result<(), String> {
    let Some((shape, data)) = output(0) else {
        return Err("gave an output that is not a float tensor".into());
    };
    let anchors = layout
        .anchors(shape)
        .filter(|_| shape[0] as usize == batch)
        .ok_or_else(|| {
            format!(
                "gave an output of shape {shape:?}, expected [{batch}, {c}, anchors] or [{batch}, anchors, {c}]",
                c = layout.channels
            )
        })?;
    for (slot, faces) in slots.iter_mut().enumerate() {
        let output = YoloOutput {
            data: slot_part(data, slot, anchors * layout.channels),
            layout,
            anchors,
        };
        faces.clear();
        output.decode(threshold, tw, th, faces);
    }
    Ok(())
}

/// A positive dimension, or None for a dynamic one.
fn fixed_dim(d: i64) -> Option<u32> {
    u32::try_from(d).ok().filter(|&d| d > 0)
}

/// Finds the model's kind from its outputs and the input dimensions it fixes: one image input
/// `[N, 3, H, W]`, and either the four CenterFace maps or one YOLO face tensor.
pub(crate) fn model_spec(session: &ort::session::Session) -> Result<ModelSpec, String> {
    let [input] = session.inputs() else {
        return Err(format!(
            "expected one image input, found {}",
            session.inputs().len()
        ));
    };
    let shape = |o: &ort::value::Outlet| {
        o.dtype()
            .tensor_shape()
            .map(|s| s.to_vec())
            .unwrap_or_default()
    };
    let dims = shape(input);
    let [n, c, h, w] = dims[..] else {
        return Err(format!(
            "expected an image input [N, 3, H, W], found {dims:?}"
        ));
    };
    if c != 3 && c >= 0 {
        return Err(format!("expected 3 input channels, found {c}"));
    }
    let input_kind = InputKind::of(input.dtype().tensor_type())?;
    let kind = match session.outputs() {
        [_, _, _, _] => ModelKind::CenterFace,
        [_, _, _, _, _] => ModelKind::CenterFacePeaks,
        [out] => {
            let dims = shape(out);
            ModelKind::Yolo(YoloLayout::from_shape(&dims).ok_or_else(|| {
                format!("its output {dims:?} is not a YOLO face layout ([N, 5 or 20, anchors] or its transpose)")
            })?)
        }
        other => {
            return Err(format!(
                "expected the four CenterFace outputs (or their five best-cell outputs) or one YOLO face output, found {} outputs",
                other.len()
            ))
        }
    };
    Ok(ModelSpec {
        kind,
        input: input_kind,
        fixed_batch: fixed_dim(n).map(|n| n as usize),
        fixed_size: fixed_dim(w).zip(fixed_dim(h)),
    })
}
