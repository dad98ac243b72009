"""`make eval-vhs`: analog tape restoration quality and speed, vhsrestore beside FFmpeg's
`yadif,hqdn3d,eq` and `bwdif,hqdn3d` chains and GStreamer's `deinterlace method=greedyh`, on the
same degraded clip in the same run.

Clean source: real photographs (scikit-image's astronaut, coffee, chelsea, camera; see
models/media.toml) panned and zoomed at 50 progressive frames per second, 720x576 (PAL SD).
Degradation (a documented VHS model, fixed seed):
  * interlace: frame k takes its top field from source frame 2k and its bottom from 2k+1
    (25 interlaced frames/s, top field first);
  * low chroma bandwidth (horizontal box blur of 5 chroma pixels) and a chroma delay of 2
    chroma pixels to the right;
  * level drift: luma 16..235 squeezed into 30..215 (FFmpeg's `eq` is told the true levels,
    its contrast and brightness measured on a ramp, as a careful user would set them);
  * noise: gaussian, sigma 4 on luma and 6 on chroma;
  * head-switching: the bottom 8 lines shifted 12 px and noisier;
  * dropouts: 0.3 per frame on average, white streaks 20-60 px long, one line high.
vhsrestore runs twice: with its defaults, and with chroma bleed reduction on (`chroma-bleed=10`).
Every restorer's output frame k is compared with source frame 2k (the first field's time):
PSNR (luma and all planes) and SSIM (luma), same input, same run. Speed: frames per second of
each tool over the same clip repeated 5 times with its output discarded (best of 3 runs), and
vhsrestore's ratio to the FFmpeg yadif,hqdn3d,eq chain.

    eval_vhs.py PLUGIN_DIR [SECONDS]      (EVAL_OPTS: extra vhsrestore properties)
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from metrics import psnr, ssim

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / ".deps" / "media"
W, H = 720, 576
PHOTOS = ["astronaut.png", "coffee.png", "chelsea.png", "camera.png"]


def source_frames(n: int) -> list:
    """`n` clean 50p frames (I420 planes as float arrays): each photograph pans and zooms."""
    out = []
    per = max(1, n // len(PHOTOS))
    for i in range(n):
        img = cv2.imread(str(MEDIA / PHOTOS[min(i // per, len(PHOTOS) - 1)]))
        t = (i % per) / per
        scale = 1.4 + 0.3 * t
        ih, iw = img.shape[:2]
        s = max(W / iw, H / ih) * scale
        # Pan across the scaled photograph, a few pixels per field.
        tx = -(iw * s - W) * t
        ty = -(ih * s - H) * (0.5 - 0.3 * t)
        m = np.float32([[s, 0, tx], [0, s, ty]])
        frame = cv2.warpAffine(img, m, (W, H), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REFLECT)
        yuv = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).astype(np.float64)
        out.append(split(yuv))
    return out


def split(i420: np.ndarray):
    flat = i420.reshape(-1)
    y = flat[:W * H].reshape(H, W)
    u = flat[W * H:W * H * 5 // 4].reshape(H // 2, W // 2)
    v = flat[W * H * 5 // 4:].reshape(H // 2, W // 2)
    return [y, u, v]


def join(planes) -> bytes:
    return b"".join(np.clip(np.round(p), 0, 255).astype(np.uint8).tobytes() for p in planes)


def degrade(src: list, rng) -> list:
    frames = []
    for k in range(len(src) // 2):
        a, b = src[2 * k], src[2 * k + 1]
        planes = []
        for p in range(3):
            f = a[p].copy()
            f[1::2] = b[p][1::2]
            if p == 0:
                f = 30 + (f - 16) * (185 / 219)
                f += rng.normal(0, 4, f.shape)
            else:
                f = cv2.blur(f, (5, 1), borderType=cv2.BORDER_REPLICATE)
                f = np.roll(f, 2, axis=1)
                f[:, :2] = f[:, 2:3]
                f = 128 + (f - 128) * 0.9 + rng.normal(0, 6, f.shape)
            rows = 8 if p == 0 else 4
            shift = 12 if p == 0 else 6
            f[-rows:] = np.roll(f[-rows:], shift, axis=1) + rng.normal(0, 12, f[-rows:].shape)
            planes.append(f)
        for _ in range(rng.poisson(0.3)):
            y, x, n = rng.integers(0, H - 8), rng.integers(0, W - 60), rng.integers(20, 60)
            planes[0][y, x:x + n] = 235
        frames.append(planes)
    return frames


# Times the clip is repeated for the speed runs.
REPEAT = 5


def read_raw(path: Path, n: int) -> list:
    data = np.frombuffer(path.read_bytes(), dtype=np.uint8).astype(np.float64)
    size = W * H * 3 // 2
    return [split(data[i * size:(i + 1) * size]) for i in range(min(n, len(data) // size))]


def main() -> None:
    plugin_dir = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 4
    n = int(seconds * 25)
    src = source_frames(2 * n)
    rng = np.random.default_rng(11)
    bad = degrade(src, rng)
    env = dict(os.environ, GST_PLUGIN_PATH=plugin_dir)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        raw = tmp / "degraded.yuv"
        raw.write_bytes(b"".join(join(f) for f in bad))
        gst_in = ["filesrc", f"location={raw}", "blocksize=" + str(W * H * 3 // 2), "!",
                  "rawvideoparse", "format=i420", f"width={W}", f"height={H}",
                  "framerate=25/1", "interlaced=true", "top-field-first=true", "!"]
        gst_out = lambda out: ["!", "video/x-raw,format=I420", "!", "filesink", f"location={out}"]
        err, contrast, brightness = ffmpeg_levels(tmp, 30, 215)
        eq = f"eq=contrast={contrast:.4f}:brightness={brightness:.4f}:saturation=1.111"
        ff_in = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s",
                 f"{W}x{H}", "-r", "25", "-i", str(raw), "-vf"]
        tools = {
            "vhsrestore": lambda out: ["gst-launch-1.0", "-q", *gst_in, "vhsrestore",
                                       "black-level=30",
                                       "white-level=215", "saturation=1.11",
                                       *os.environ.get("EVAL_OPTS", "").split(), *gst_out(out)],
            "vhsrestore chroma-bleed=10": lambda out: [
                "gst-launch-1.0", "-q", *gst_in, "vhsrestore", "black-level=30", "white-level=215",
                "saturation=1.11", "chroma-bleed=10", *os.environ.get("EVAL_OPTS", "").split(),
                *gst_out(out)],
            "ffmpeg yadif,hqdn3d,eq": lambda out: [
                *ff_in, f"setfield=tff,yadif,hqdn3d,{eq}",
                "-f", "rawvideo", str(out)],
            "ffmpeg bwdif,hqdn3d": lambda out: [
                *ff_in, "setfield=tff,bwdif=mode=send_frame,hqdn3d", "-f", "rawvideo", str(out)],
            "gst greedyh": lambda out: ["gst-launch-1.0", "-q", *gst_in, "deinterlace",
                                        "method=greedyh", "fields=top", "!", "videoconvert",
                                        *gst_out(out)],
            "ffmpeg yadif (plain)": lambda out: [*ff_in, "setfield=tff,yadif", "-f",
                                                 "rawvideo", str(out)],
        }
        print(f"\nVHS restoration, {n} interlaced frames {W}x{H} (from {2 * n} clean 50p "
              f"frames of real photographs), {os.cpu_count()} cores")
        print(f"FFmpeg's levels, measured on a ramp: {eq} (mean error {err:.2f} levels "
              "over 30..215)")
        print(f"{'restorer':<26} {'PSNR Y':>8} {'PSNR YUV':>9} {'SSIM Y':>8} {'fps':>8}")
        fps = {}
        base = [psnr(bad[k][0], src[2 * k][0]) for k in range(n)]
        print(f"{'(degraded input)':<26} {np.mean(base):>8.2f}")
        for name, cmd in tools.items():
            out = tmp / "out.yuv"
            subprocess.run(cmd(out), check=True, env=env)
            got = read_raw(out, n)
            k_range = range(2, len(got))
            py = np.mean([psnr(got[k][0], src[2 * k][0]) for k in k_range])
            pall = np.mean([psnr(np.concatenate([p.ravel() for p in got[k]]),
                                 np.concatenate([p.ravel() for p in src[2 * k]])) for k in k_range])
            sy = np.mean([ssim(got[k][0], src[2 * k][0]) for k in k_range])
            fps[name] = speed(cmd, tmp, raw, REPEAT * n, env)
            print(f"{name:<26} {py:>8.2f} {pall:>9.2f} {sy:>8.4f} {fps[name]:>8.1f}")
        ratio = fps["vhsrestore"] / fps["ffmpeg yadif,hqdn3d,eq"]
        print(f"speed: vhsrestore / ffmpeg yadif,hqdn3d,eq = {ratio:.2f}x "
              f"(fps over {REPEAT * n} frames each, output discarded, best of 3 runs)")


def ffmpeg_levels(tmp: Path, black: float, white: float) -> tuple:
    """FFmpeg `eq` contrast and brightness that map luma `black`..`white` onto 16..235, found by
    measuring what eq does to a ramp of every level rather than by formula: eq's brightness
    moves in steps and truncates, so the formula's value lands levels off. A grid around the
    formula's values; the pair with the least mean error over black..white wins."""
    ramp = np.tile(np.arange(256, dtype=np.uint8), (16, 1))
    frame = ramp.tobytes() + bytes([128]) * (256 * 16 // 2)
    src = tmp / "ramp.yuv"
    src.write_bytes(frame)
    out = tmp / "ramp-out.yuv"
    levels = np.arange(int(np.ceil(black)), int(white) + 1)
    want = 16 + (levels - black) * 219 / (white - black)
    contrast0 = 219 / (white - black)
    best = (float("inf"), contrast0, 0.0)
    for contrast in contrast0 + np.arange(-0.02, 0.021, 0.005):
        for brightness in np.arange(-0.1, 0.1001, 0.005):
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p",
                            "-s", "256x16", "-i", str(src), "-vf",
                            f"eq=contrast={contrast:.4f}:brightness={brightness:.4f}",
                            "-f", "rawvideo", str(out)], check=True)
            got = np.frombuffer(out.read_bytes()[:256], dtype=np.uint8).astype(np.float64)
            err = np.mean(np.abs(got[levels] - want))
            if err < best[0]:
                best = (err, contrast, brightness)
    return best


def speed(cmd, tmp: Path, raw: Path, frames: int, env) -> float:
    """Frames per second over the clip repeated REPEAT times, output thrown away, so that
    start-up counts for little and every tool pays the same reading cost; the best of three
    runs, as the machines are noisy."""
    long = tmp / "long.yuv"
    if not long.exists():
        long.write_bytes(raw.read_bytes() * REPEAT)
    argv = [a.replace(str(raw), str(long)) for a in cmd(tmp / "speed.yuv")]
    if argv[0] == "ffmpeg":
        argv[-3:] = ["-f", "null", "-"]
    else:
        argv[-2:] = ["fakesink"]
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(argv, check=True, env=env)
        best = min(best, time.perf_counter() - t)
    return frames / best


if __name__ == "__main__":
    main()
