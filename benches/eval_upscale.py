"""`make eval-upscale`: super-resolution quality of upscale's network and spatial path beside
GStreamer's `videoscale method=lanczos` and `method=bilinear`, on the same inputs in the same
run.

Each real photograph of the media set (models/media.toml) is cropped to a multiple of 4,
averaged down by the factor (each 2x2 or 4x4 block: the low-pass of a camera or a good
scaler), and brought back up by each method; PSNR (all RGB channels) and SSIM (luma)
against the original.

    eval_upscale.py PLUGIN_DIR
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from metrics import psnr, ssim

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / ".deps" / "media"
PHOTOS = ["astronaut.png", "coffee.png", "chelsea.png", "camera.png", "rocket.jpg", "coins.png"]


def upscale(small: np.ndarray, w: int, h: int, element: str, tmp: Path, env) -> np.ndarray:
    """`small` (BGR) through `element` (a gst-launch fragment) to a w x h BGR frame."""
    sh, sw = small.shape[:2]
    src, dst = tmp / "in.raw", tmp / "out.raw"
    src.write_bytes(cv2.cvtColor(small, cv2.COLOR_BGR2RGBA).tobytes())
    cmd = ["gst-launch-1.0", "-q", "filesrc", f"location={src}", f"blocksize={sw * sh * 4}",
           "!", "rawvideoparse", "format=rgba", f"width={sw}", f"height={sh}",
           "framerate=25/1", "!", *element.split(), "!",
           f"video/x-raw,format=RGBA,width={w},height={h}", "!", "filesink", f"location={dst}"]
    subprocess.run(cmd, check=True, env=env, stderr=subprocess.DEVNULL)
    out = np.frombuffer(dst.read_bytes(), np.uint8).reshape(h, w, 4)
    return cv2.cvtColor(out, cv2.COLOR_RGBA2BGR)


def main() -> None:
    env = dict(os.environ, GST_PLUGIN_PATH=sys.argv[1])
    methods = {
        "upscale (neural)": "upscale method=neural scale={s}",
        "upscale (spatial)": "upscale method=spatial scale={s}",
        "videoscale lanczos": "videoscale method=lanczos",
        "videoscale bilinear": "videoscale method=bilinear",
    }
    print(f"\nsuper-resolution, {len(PHOTOS)} photographs averaged down and brought back")
    for s in (2, 4):
        print(f"\n{s}x{'':<22} {'PSNR':>8} {'SSIM Y':>8}   (mean over the photographs)")
        scores = {name: [] for name in methods}
        with tempfile.TemporaryDirectory() as tmp:
            for photo in PHOTOS:
                img = cv2.imread(str(MEDIA / photo))
                h, w = img.shape[0] // 4 * 4, img.shape[1] // 4 * 4
                img = img[:h, :w]
                small = cv2.resize(img, (w // s, h // s), interpolation=cv2.INTER_AREA)
                y_ref = cv2.cvtColor(img, cv2.COLOR_BGR2YUV)[:, :, 0].astype(np.float64)
                for name, element in methods.items():
                    out = upscale(small, w, h, element.format(s=s), Path(tmp), env)
                    y = cv2.cvtColor(out, cv2.COLOR_BGR2YUV)[:, :, 0].astype(np.float64)
                    scores[name].append((psnr(out, img), ssim(y, y_ref)))
        for name, values in scores.items():
            p, q = np.mean(values, axis=0)
            print(f"{name:<24} {p:>8.2f} {q:>8.4f}")


if __name__ == "__main__":
    main()
