"""`make eval-vhs`: analog tape restoration quality and speed, vhsrestore at its defaults beside
the best FFmpeg chain a careful user could build, on the same degraded clips in the same run.

Clean sources: real photographs panned and zoomed at 50 progressive frames per second, 720x576
(PAL SD), a cut between photographs. Two sets (see models/media.toml): the *tuning* set
(astronaut, coffee, chelsea, camera), on which vhsrestore's defaults were chosen, and the
*held-out* set (rocket, coins, Hubble deep field, brick), on which nothing was tuned: a dark
shot and a flat texture among them, where automatic levels must not pump.

Degradation models that differ in kind and strength (fixed seeds), each applied to both sets;
every one interlaces (frame k: top field from source frame 2k, bottom from 2k+1, top first):
  squeeze   levels 16..235 -> 30..215, saturation x0.90, noise 4/6, chroma blur 5 + delay 2 px,
            head switching 8 lines, dropouts 0.3/frame (the model vhsrestore was first built on)
  lift      black lifted 16 -> 36 (white kept), noise 3/5, chroma blur 3 + delay 1 px
  heavy     levels 20..228, saturation x0.85, noise 9/12, chroma delay 3 px, dropouts 1/frame
  light     levels untouched, noise 1.5/3, chroma delay 1.5 px, few dropouts
  streaky   levels 22..226, saturation x0.86, horizontally correlated luma noise 5, chroma
            noise 8, chroma blur 7 + delay 2.6 px
  soft      luma softened (horizontal gaussian, sigma 1 px), levels 26..220, saturation x0.92,
            noise 3/6, chroma delay 4 px
(noise: gaussian sigma on luma/chroma; chroma delays in chroma pixels, fractional ones by
interpolation.) Those six film each photograph sweeping across it while zooming in. Ten more
film it as a camera moves (CAMERA): steady pans of 2, 5 and 8 px per frame, a slow zoom and a
hand-held shake, each at two noise strengths (-n4: luma 4, chroma 6; -n8: luma 8, chroma 10,
horizontally correlated) of one damage: levels 28..222, saturation x0.88, chroma blur 5 + delay
2 px, head switching, dropouts 0.4/frame.

vhsrestore runs at its defaults three ways: on the clip alone ("no bars": it has to find the
levels, noise and chroma delay from the pictures); on the same clip after half a second of
colour bars damaged the same way, as transfers start ("bars": it reads levels and saturation
off them; each model has its pattern: EBU 100/0/75/0 for squeeze and heavy, SMPTE with its
lower parts for lift and soft, 75% bars for light, 100% bars for streaky; only the programme
after the bars is scored); and told the true levels and saturation, as FFmpeg is ("told").
Levels are seldom found from pictures alone (content rarely spans the full range), so its
automatic levels correct only what content cannot explain: the first column shows what that
leaves.
FFmpeg gets what a careful user who knew the damage would set: `eq` with the true levels (its
contrast and brightness measured on a ramp of every level, since eq's brightness moves in steps
and truncates) and the true saturation, `chromashift` by the true delay (rounded to whole
chroma pixels, all it can do), and the best chain chosen per clip by PSNR-Y against the clean
frames (an oracle: a user cannot do better): yadif, bwdif, w3fdif and estdif each with hqdn3d
at strengths 2..12, then the winning deinterlacer with nlmeans (three strengths) and
atadenoise (two). Output frame k is
compared with source frame 2k (the first field's time): PSNR-Y, PSNR over all planes, SSIM-Y.
Speed: frames per second over the squeeze/tuning clip repeated 20 times (so that start-up,
about 75 ms for either tool, counts for little), output discarded, best of 5 runs each, the
two taking turns, vhsrestore against FFmpeg's yadif,hqdn3d,eq.

    eval_vhs.py PLUGIN_DIR [SECONDS]
    EVAL_OPTS: extra vhsrestore properties; EVAL_MODELS: models to run (comma-separated);
    EVAL_FFMPEG_CACHE: a JSON file keeping FFmpeg's results between runs (tuning loops);
    EVAL_NO_SPEED=1: no speed runs
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from metrics import psnr, ssim

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / ".deps" / "media"
W, H = 720, 576
SETS = {
    "tuning": ["astronaut.png", "coffee.png", "chelsea.png", "camera.png"],
    "held-out": ["rocket.jpg", "coins.png", "hubble_deep_field.jpg", "brick.png"],
}


# Colour bars per model at the head of its clips (the "bars" column), as transfers start:
# EBU 100/0/75/0 (PAL's), 75% and 100% bars, SMPTE bars with their lower parts.
BAR_FRAMES = 12


@dataclass
class Model:
    black: float = 16.0
    white: float = 235.0
    saturation: float = 1.0
    luma_noise: float = 0.0
    chroma_noise: float = 0.0
    # Gaussian sigma (luma pixels) of the horizontal correlation of luma noise; 0: white.
    noise_corr: float = 0.0
    chroma_blur: int = 1
    # Chroma pixels to the right.
    delay: float = 0.0
    # Gaussian sigma of a horizontal luma softening; 0: sharp.
    soft: float = 0.0
    head_lines: int = 0
    dropouts: float = 0.0
    bars: str = "ebu"
    # Camera motion of the clean clip (see CAMERA): "sweep" pans across each photograph
    # while zooming in (the first models').
    motion: str = "sweep"


MODELS = {
    "squeeze": Model(black=30, white=215, saturation=0.9, luma_noise=4, chroma_noise=6,
                     chroma_blur=5, delay=2, head_lines=8, dropouts=0.3, bars="ebu"),
    "lift": Model(black=36, white=235, luma_noise=3, chroma_noise=5, chroma_blur=3, delay=1,
                  head_lines=6, bars="smpte"),
    "heavy": Model(black=20, white=228, saturation=0.85, luma_noise=9, chroma_noise=12,
                   chroma_blur=5, delay=3, head_lines=10, dropouts=1.0, bars="ebu"),
    "light": Model(luma_noise=1.5, chroma_noise=3, chroma_blur=3, delay=1.5, head_lines=4,
                   dropouts=0.1, bars="75"),
    "streaky": Model(black=22, white=226, saturation=0.86, luma_noise=5, chroma_noise=8,
                     noise_corr=1.5, chroma_blur=7, delay=2.6, head_lines=8, dropouts=0.5,
                     bars="100"),
    "soft": Model(black=26, white=220, saturation=0.92, luma_noise=3, chroma_noise=6, soft=1.0,
                  chroma_blur=5, delay=4, head_lines=8, dropouts=0.3, bars="smpte"),
}

# Camera motion, in luma pixels per frame (25 per second; half of it between two fields):
# steady pans, a slow zoom, a hand-held shake. Each runs at two strengths of the same tape
# damage: horizontally correlated luma noise, lifted black and lowered white, weaker
# saturation, late and blurred chroma, head switching and dropouts.
CAMERA = {
    "pan2": (2.0, 0.0, 0.0, 0.0),
    "pan5": (4.0, 3.0, 0.0, 0.0),
    "pan8": (-8.0, 0.0, 0.0, 0.0),
    # Scale grows 0.5% a frame about the centre.
    "zoom": (0.0, 0.0, 0.005, 0.0),
    # A smoothed random walk of about 3 px and 0.3 degrees.
    "shake": (0.0, 0.0, 0.0, 3.0),
}
for cam in CAMERA:
    for level, (luma, chroma) in {"n4": (4, 6), "n8": (8, 10)}.items():
        MODELS[f"{cam}-{level}"] = Model(
            black=28, white=222, saturation=0.88, luma_noise=luma, chroma_noise=chroma,
            noise_corr=1.2, chroma_blur=5, delay=2.0, head_lines=8, dropouts=0.4,
            bars="ebu" if level == "n4" else "smpte", motion=cam)


def studio(r: float, g: float, b: float) -> tuple:
    """R, G, B shares of full amplitude to BT.601 studio-range Y, Cb, Cr."""
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return 16 + 219 * y, 128 + 224 * (b - y) / 1.772, 128 + 224 * (r - y) / 1.402


def bar_frame(kind: str) -> list:
    """One clean frame of colour bars (I420 planes as float arrays)."""
    c = 0.75
    colours = [(c, c, 0), (0, c, c), (0, c, 0), (c, 0, c), (c, 0, 0), (0, 0, c)]
    tops = {
        "ebu": [(1, 1, 1)] + colours + [(0, 0, 0)],
        "75": [(c, c, c)] + colours + [(0, 0, 0)],
        "100": [(1, 1, 1), (1, 1, 0), (0, 1, 1), (0, 1, 0), (1, 0, 1), (1, 0, 0), (0, 0, 1),
                (0, 0, 0)],
        "smpte": [(c, c, c)] + colours,
    }[kind]
    y = np.zeros((H, W))
    u = np.zeros((H // 2, W // 2))
    v = np.zeros((H // 2, W // 2))

    def paint(rows: tuple, bars: list, values=None):
        for i, rgb in enumerate(bars):
            x0, x1 = i * W // len(bars), (i + 1) * W // len(bars)
            yy, cb, cr = values[i] if values else studio(*rgb)
            y[rows[0]:rows[1], x0:x1] = yy
            u[rows[0] // 2:rows[1] // 2, x0 // 2:x1 // 2] = cb
            v[rows[0] // 2:rows[1] // 2, x0 // 2:x1 // 2] = cr

    if kind != "smpte":
        paint((0, H), tops)
    else:
        # SMPTE ECR 1-1978: the seven bars over two thirds, reverse blue bars, then -I, white,
        # +Q, black and the PLUGE (below black, black, above black).
        top, mid = H * 2 // 3, H * 3 // 4
        paint((0, top), tops)
        k = (0, 0, 0)
        paint((top, mid), [(0, 0, c), k, (c, 0, c), k, (0, c, c), k, (c, c, c)])
        low = [(16, 158, 95), studio(1, 1, 1), (16, 174, 149), studio(0, 0, 0),
               (9, 128, 128), (16, 128, 128), (23, 128, 128)]
        paint((mid, H), [None] * 7, low)
    return [y, u, v]



def source_frames(photos: list, n: int, motion: str = "sweep") -> list:
    """`n` clean 50p frames (I420 planes as float arrays): each photograph in turn, filmed with
    `motion` ("sweep" or a CAMERA entry)."""
    out = []
    per = max(1, n // len(photos))
    shake = np.random.default_rng(5)
    jitter = np.zeros(3)
    for i in range(n):
        img = cv2.imread(str(MEDIA / photos[min(i // per, len(photos) - 1)]))
        ih, iw = img.shape[:2]
        t = (i % per) / per
        if motion == "sweep":
            scale = 1.4 + 0.3 * t
            s = max(W / iw, H / ih) * scale
            # Pan across the scaled photograph, a few pixels per field.
            tx = -(iw * s - W) * t
            ty = -(ih * s - H) * (0.5 - 0.3 * t)
            m = np.float32([[s, 0, tx], [0, s, ty]])
        else:
            vx, vy, zoom, amp = CAMERA[motion]
            f = (i % per) / 2  # frames (25 per second) since the shot began
            s = max(W / iw, H / ih) * 1.35 * (1 + zoom) ** f
            if i % per == 0:
                jitter[:] = 0
            # A hand-held camera: each field's offset drifts back towards the centre.
            jitter = 0.85 * jitter + shake.normal(0, [amp * 0.55, amp * 0.55, 0.16]) * (amp > 0)
            a = np.deg2rad(jitter[2])
            # The photograph's centre, moved by the pan since the shot began.
            cx = W / 2 + vx * f + jitter[0] - vx * per / 4
            cy = H / 2 + vy * f + jitter[1] - vy * per / 4
            c, sn = s * np.cos(a), s * np.sin(a)
            m = np.float32([[c, -sn, cx - (c * iw / 2 - sn * ih / 2)],
                            [sn, c, cy - (sn * iw / 2 + c * ih / 2)]])
        frame = cv2.warpAffine(img, m, (W, H), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REFLECT)
        # OpenCV's Y'CbCr is full range; video (and a tape) carries studio range.
        y, u, v = split(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).astype(np.float64))
        out.append([16 + y * 219 / 255, 128 + (u - 128) * 224 / 255,
                    128 + (v - 128) * 224 / 255])
    return out


def split(i420: np.ndarray):
    flat = i420.reshape(-1)
    y = flat[:W * H].reshape(H, W)
    u = flat[W * H:W * H * 5 // 4].reshape(H // 2, W // 2)
    v = flat[W * H * 5 // 4:].reshape(H // 2, W // 2)
    return [y, u, v]


def join(planes) -> bytes:
    return b"".join(np.clip(np.round(p), 0, 255).astype(np.uint8).tobytes() for p in planes)


def shifted(f: np.ndarray, d: float) -> np.ndarray:
    """`f` moved `d` pixels right (fractions by linear interpolation), edge pixels repeated."""
    m = np.float32([[1, 0, d], [0, 1, 0]])
    return cv2.warpAffine(f, m, (f.shape[1], f.shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def noise(rng, shape, sigma: float, corr: float) -> np.ndarray:
    n = rng.normal(0, 1, shape)
    if corr > 0:
        n = cv2.GaussianBlur(n, (0, 0), sigmaX=corr, sigmaY=1e-3)
        n /= n.std()
    return n * sigma


def degrade(src: list, m: Model, rng) -> list:
    frames = []
    gain = (m.white - m.black) / 219
    for k in range(len(src) // 2):
        a, b = src[2 * k], src[2 * k + 1]
        planes = []
        for p in range(3):
            f = a[p].copy()
            f[1::2] = b[p][1::2]
            if p == 0:
                if m.soft > 0:
                    f = cv2.GaussianBlur(f, (0, 0), sigmaX=m.soft, sigmaY=1e-3)
                f = m.black + (f - 16) * gain
                f += noise(rng, f.shape, m.luma_noise, m.noise_corr)
            else:
                if m.chroma_blur > 1:
                    f = cv2.blur(f, (m.chroma_blur, 1), borderType=cv2.BORDER_REPLICATE)
                f = shifted(f, m.delay)
                f = 128 + (f - 128) * m.saturation + rng.normal(0, m.chroma_noise, f.shape)
            rows = m.head_lines if p == 0 else m.head_lines // 2
            if rows:
                shift = 12 if p == 0 else 6
                f[-rows:] = np.roll(f[-rows:], shift, axis=1) + rng.normal(0, 12,
                                                                            f[-rows:].shape)
            planes.append(f)
        for _ in range(rng.poisson(m.dropouts)):
            y, x, n = rng.integers(0, H - 8), rng.integers(0, W - 60), rng.integers(20, 60)
            planes[0][y, x:x + n] = 235
        frames.append(planes)
    return frames


# Times the clip is repeated for the speed runs.
REPEAT = 20
# hqdn3d luma spatial strengths tried (its other three strengths follow its own defaults'
# ratios); 4 is hqdn3d's default.
HQDN3D = [2, 4, 6, 8, 12]
# FFmpeg's deinterlacers (one frame per frame, the first field's time), as a chain and a label.
# mcdeint is not in Debian 12's FFmpeg (it needs the snow encoder's motion search).
DEINTERLACERS = [("yadif", "yadif"), ("bwdif=mode=send_frame", "bwdif"),
                 ("w3fdif=mode=frame", "w3fdif"), ("estdif=mode=frame", "estdif")]
# Denoisers slower than hqdn3d, tried after the best deinterlacer: non-local means at three
# strengths, the adaptive temporal averager at its defaults and twice its thresholds.
SLOW_DENOISERS = [("nlmeans=s=2:r=9", "nlmeans=2"), ("nlmeans=s=4:r=9", "nlmeans=4"),
                  ("nlmeans=s=6:r=9", "nlmeans=6"), ("atadenoise", "atadenoise"),
                  ("atadenoise=0a=0.04:0b=0.08:1a=0.04:1b=0.08", "atadenoise x2")]
# Names the comparison set in EVAL_FFMPEG_CACHE's keys: a cache of another set is not used.
FFMPEG_SET = "4deint+nlmeans+atadenoise"


def read_raw(path: Path, n: int) -> list:
    data = np.frombuffer(path.read_bytes(), dtype=np.uint8).astype(np.float64)
    size = W * H * 3 // 2
    return [split(data[i * size:(i + 1) * size]) for i in range(min(n, len(data) // size))]


def score(out: Path, src: list, n: int, skip: int = 0) -> tuple:
    """PSNR-Y, PSNR of all planes and SSIM-Y of output frames `skip`.. (the programme after
    any bars) against the clean source."""
    got = read_raw(out, n + skip)[skip:]
    ks = range(2, len(got))
    py = np.mean([psnr(got[k][0], src[2 * k][0]) for k in ks])
    pall = np.mean([psnr(np.concatenate([p.ravel() for p in got[k]]),
                         np.concatenate([p.ravel() for p in src[2 * k]])) for k in ks])
    sy = np.mean([ssim(got[k][0], src[2 * k][0]) for k in ks])
    return py, pall, sy


def main() -> None:
    plugin_dir = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3
    n = int(seconds * 25)
    # NODEVICE_SELECT: Mesa's device-selection layer complains on machines without a session.
    env = dict(os.environ, GST_PLUGIN_PATH=plugin_dir, NODEVICE_SELECT="1")
    chosen = os.environ.get("EVAL_MODELS", ",".join(MODELS)).split(",")
    opts = os.environ.get("EVAL_OPTS", "").split()
    print(f"\nVHS restoration, {n} interlaced frames {W}x{H} per clip (from {2 * n} clean 50p "
          f"frames of four photographs), {os.cpu_count()} cores; vhsrestore at defaults"
          + (f" + {' '.join(opts)}" if opts else ""))
    print(f"{'':<25}| {'defaults, no bars':^20} | {'defaults, bars':^20} | "
          f"{'vhsrestore told':^20} | {'best FFmpeg (told)':^43} | {'lead: no bars':^14} | "
          f"{'lead: bars':^14} | {'lead: told':^14}")
    print(f"{'model':<8} {'set':<9} {'input':>6} | " + f"{'Y':>6} {'YUV':>6} {'SSIM':>6} | " * 3
          + f"{'Y':>6} {'YUV':>6} {'SSIM':>6} {'chain':<22} | " + f"{'Y':>6} {'SSIM':>7} | " * 2
          + f"{'Y':>6} {'SSIM':>7}")
    rows = {s: [] for s in SETS}
    speed_cmds = None
    cache_file = os.environ.get("EVAL_FFMPEG_CACHE")
    cache = json.loads(Path(cache_file).read_text()) if cache_file and Path(
        cache_file).exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for (mi, name) in enumerate(chosen):
            m = MODELS[name]
            err, contrast, brightness = ffmpeg_levels(tmp, m.black, m.white)
            eq = (f"eq=contrast={contrast:.4f}:brightness={brightness:.4f}"
                  f":saturation={1 / m.saturation:.4f}")
            shift = -int(round(m.delay))
            fix = f"chromashift=cbh={shift}:crh={shift}," if shift else ""
            told = [f"black-level={m.black}", f"white-level={m.white}",
                    f"saturation={1 / m.saturation:.4f}"]
            for (si, (set_name, photos)) in enumerate(SETS.items()):
                src = source_frames(photos, 2 * n, m.motion)
                bad = degrade(src, m, np.random.default_rng(11 + 7 * mi + si))
                raw = tmp / "degraded.yuv"
                raw.write_bytes(b"".join(join(f) for f in bad))
                # The same clip after a head of colour bars, damaged the same way.
                head = degrade([bar_frame(m.bars)] * (2 * BAR_FRAMES), m,
                               np.random.default_rng(101 + 7 * mi + si))
                with_bars = tmp / "with-bars.yuv"
                with_bars.write_bytes(b"".join(join(f) for f in head) + raw.read_bytes())
                gst_in = ["filesrc", f"location={raw}", f"blocksize={W * H * 3 // 2}", "!",
                          "rawvideoparse", "format=i420", f"width={W}", f"height={H}",
                          "framerate=25/1", "interlaced=true", "top-field-first=true", "!"]
                out = tmp / "out.yuv"
                ours = lambda o, more=(), src=raw: [
                    "gst-launch-1.0", "-q", *[a.replace(str(raw), str(src)) for a in gst_in],
                    "vhsrestore", *opts, *more, "!", "video/x-raw,format=I420", "!", "filesink",
                    f"location={o}"]
                ff = lambda chain, o: ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo",
                                       "-pix_fmt", "yuv420p", "-s", f"{W}x{H}", "-r", "25",
                                       "-i", str(raw), "-vf", chain, "-f", "rawvideo", str(o)]
                subprocess.run(ours(out), check=True, env=env)
                v = score(out, src, n)
                subprocess.run(ours(out, src=with_bars), check=True, env=env)
                b = score(out, src, n, BAR_FRAMES)
                subprocess.run(ours(out, told), check=True, env=env)
                t = score(out, src, n)
                key = f"{name}/{set_name}/{n}/{FFMPEG_SET}"
                best = cache.get(key)

                def trial(deint: str, denoise: str, label: str):
                    nonlocal best
                    chain = f"setfield=tff,{deint},{denoise},{fix}{eq}"
                    subprocess.run(ff(chain, out), check=True)
                    f = score(out, src, n)
                    if best is None or f[0] > best[0][0]:
                        best = (f, label, deint)

                if best is None:
                    # Every deinterlacer with hqdn3d at each strength, then the slower
                    # denoisers after the deinterlacer that won.
                    for deint, dname in DEINTERLACERS:
                        for st in HQDN3D:
                            trial(deint, f"hqdn3d={st}", f"{dname} hqdn3d={st}")
                    deint = best[2]
                    dname = dict(DEINTERLACERS)[deint]
                    for denoise, label in SLOW_DENOISERS:
                        trial(deint, denoise, f"{dname} {label}")
                f, label = best[0], best[1]
                cache[key] = best
                if cache_file:
                    # After every clip: a run stopped part way keeps what it found.
                    Path(cache_file).write_text(json.dumps(cache))
                base = np.mean([psnr(bad[k][0], src[2 * k][0]) for k in range(2, n)])
                rows[set_name].append((v, b, t, f))
                print(f"{name:<8} {set_name:<9} {base:>6.2f} | {row(v, b, t, f, label)}",
                      flush=True)
                if speed_cmds is None and not os.environ.get("EVAL_NO_SPEED"):
                    long = tmp / "long.yuv"
                    long.write_bytes(raw.read_bytes() * REPEAT)
                    speed_cmds = (
                        [a.replace(str(raw), str(long)) for a in ours(out)[:-4]] + ["fakesink"],
                        [a.replace(str(raw), str(long)) for a in
                         ff(f"setfield=tff,yadif,hqdn3d,{eq}", out)[:-3]] + ["-f", "null", "-"])
                    fps = speeds(speed_cmds, REPEAT * n, env)
        if cache_file:
            Path(cache_file).write_text(json.dumps(cache))
        for set_name, r in rows.items():
            if r:
                v, b, t, f = (np.mean([x[i] for x in r], axis=0) for i in range(4))
                least = [min(x[i][0] - x[3][0] for x in r) for i in range(3)]
                print(f"{'mean':<8} {set_name:<9} {'':>6} | {row(v, b, t, f, '')}  (least lead "
                      f"Y: no bars {least[0]:+.2f}, bars {least[1]:+.2f}, told {least[2]:+.2f})")
        if speed_cmds:
            print(f"speed ({chosen[0]}, tuning set, {REPEAT * n} frames, output discarded, best "
                  f"of 5 alternating runs): vhsrestore {fps[0]:.1f} fps, ffmpeg yadif,hqdn3d,eq {fps[1]:.1f} fps: "
                  f"{fps[0] / fps[1]:.2f}x")


def row(v, b, t, f, label: str) -> str:
    """One table row: vhsrestore at defaults without and with bars at the head, and told;
    FFmpeg's best; the leads."""
    three = lambda x: f"{x[0]:>6.2f} {x[1]:>6.2f} {x[2]:>6.4f}"
    lead = lambda x: f"{x[0] - f[0]:>+6.2f} {x[2] - f[2]:>+7.4f}"
    return (f"{three(v)} | {three(b)} | {three(t)} | {three(f)} {label:<22} | {lead(v)} | "
            f"{lead(b)} | {lead(t)}")


def ffmpeg_levels(tmp: Path, black: float, white: float) -> tuple:
    """FFmpeg `eq` contrast and brightness that map luma `black`..`white` onto 16..235, found by
    measuring what eq does to a ramp of every level rather than by formula: eq's brightness
    moves in steps and truncates, so the formula's value lands levels off. A grid around the
    formula's values; the pair with the least mean error over black..white wins."""
    ramp = np.tile(np.arange(256, dtype=np.uint8), (16, 1))
    frame = ramp.tobytes() + bytes([128]) * (256 * 16 // 2)
    src = tmp / "ramp.yuv"
    src.write_bytes(frame)
    levels = np.arange(int(np.ceil(black)), int(white) + 1)
    want = 16 + (levels - black) * 219 / (white - black)
    contrast0 = 219 / (white - black)
    best = (float("inf"), contrast0, 0.0)
    brightnesses = np.arange(-0.1, 0.1001, 0.005)
    for contrast in contrast0 + np.arange(-0.02, 0.021, 0.005):
        # Every brightness in one run: the ramp split into one eq per brightness.
        graph = f"[0]split={len(brightnesses)}" + "".join(
            f"[s{i}]" for i in range(len(brightnesses))) + ";" + ";".join(
            f"[s{i}]eq=contrast={contrast:.4f}:brightness={b:.4f}[o{i}]"
            for i, b in enumerate(brightnesses))
        outs = []
        for i in range(len(brightnesses)):
            outs += ["-map", f"[o{i}]", "-f", "rawvideo", str(tmp / f"ramp-{i}.yuv")]
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p",
                        "-s", "256x16", "-i", str(src), "-filter_complex", graph, *outs],
                       check=True)
        for i, brightness in enumerate(brightnesses):
            out = (tmp / f"ramp-{i}.yuv").read_bytes()[:256]
            got = np.frombuffer(out, dtype=np.uint8).astype(np.float64)
            err = np.mean(np.abs(got[levels] - want))
            if err < best[0]:
                best = (err, contrast, brightness)
    return best


def speeds(commands, frames: int, env, runs: int = 5) -> list:
    """Frames per second of each command over the clip repeated REPEAT times, output thrown
    away, so that start-up counts for little and every tool pays the same reading cost; the
    best of `runs` runs each, the commands taking turns run by run, so that a slow spell of
    the (noisy, shared) machine falls on both rather than on one."""
    best = [float("inf")] * len(commands)
    for _ in range(runs):
        for i, argv in enumerate(commands):
            t = time.perf_counter()
            subprocess.run(argv, check=True, env=env)
            best[i] = min(best[i], time.perf_counter() - t)
    return [frames / b for b in best]


if __name__ == "__main__":
    main()
