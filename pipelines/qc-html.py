#!/usr/bin/env python3
"""The quality-control report as a page to look at: one self-contained HTML file (no network,
no script needed) from the JSON reports qcfingerprint and qcaudio wrote.

    qc-html.py VIDEO.json AUDIO.json|- THUMBS_DIR|- OUT.html [INPUT]

It shows the input's name, the verdict against the delivery profile (each failing item with
its time range, measured value, unit and what the profile allows; the audio and video durations
compared: they must agree within one frame) — or, without a profile (`none`), what was found
and no verdict — plots of luma and chroma statistics and of the
share out of the legal range per frame, momentary and short-term loudness and true peak over
time, an events timeline, and a thumbnail at each event (THUMBS_DIR holds one JPEG a second,
numbered from 0: 000000.jpg, ...). Every plot carries its data's length (`data-count`) and the
page the reports' figures (`<script type="application/json" id="qc-data">`), so a test can
check what it drew. Prints the verdict, one line, to stdout; exits 0 whatever it is (a failing
programme is a result, not an error) and 1 when a report cannot be read.

Standard library only: it runs wherever the pipeline scripts do.
"""

import base64
import html
import json
import math
import sys
from pathlib import Path

# Points a plot draws at most: longer series are reduced to buckets (min and max kept).
MAX_POINTS = 1500
WIDTH, HEIGHT, PAD = 960, 170, 40
COLOURS = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df"]
KIND_COLOURS = {"black": "#24292f", "freeze": "#0969da", "gamut": "#cf222e", "flash": "#bf3989",
                "red-flash": "#a40e26", "silence": "#6e7781", "clipping": "#bc4c00",
                "out-of-phase": "#8250df", "channel-silence": "#57606a",
                "timestamp-gap": "#9a6700", "timestamp-jump": "#9a6700"}


def load(path: str):
    """A report's head (every member but the entries) and its entries; `None` for '-'."""
    if path == "-":
        return None
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    entries = doc.pop("entries", [])
    return doc, entries


def reduce(xs: list, ys: list) -> tuple:
    """At most MAX_POINTS points: each bucket gives its first x and its value nearest the
    bucket's extremes (min then max), so spikes survive."""
    if len(xs) <= MAX_POINTS:
        return xs, ys
    per = math.ceil(len(xs) / (MAX_POINTS // 2))
    rx, ry = [], []
    for i in range(0, len(xs), per):
        bucket = [y for y in ys[i:i + per] if y is not None]
        if not bucket:
            continue
        rx += [xs[i], xs[min(i + per, len(xs)) - 1]]
        ry += [min(bucket), max(bucket)]
    return rx, ry


def number(v: float) -> str:
    """An axis label: one decimal, a true minus sign."""
    return f"{v:.1f}".replace("-", "\u2212")


def plot(title: str, unit: str, t0: float, t1: float, series: list, lo=None, hi=None,
         floor=None) -> str:
    """An SVG line plot of `series` [(name, times, values)] over t0..t1 (seconds from the
    programme's start at t0); values below `floor` (silence on a loudness scale) are drawn at
    it rather than stretching the axis."""
    values = [v for _, _, ys in series for v in ys if v is not None and math.isfinite(v)]
    if floor is not None:
        values = [max(v, floor) for v in values]
    if not values:
        return f"<h3>{html.escape(title)}</h3><p class=none>no data</p>"
    lo = min(values) if lo is None else lo
    hi = max(values) if hi is None else hi
    if hi <= lo:
        hi = lo + 1
    span = max(t1 - t0, 1e-9)
    x = lambda t: PAD + (t - t0) / span * (WIDTH - 2 * PAD)
    y = lambda v: HEIGHT - PAD / 2 - (min(max(v, lo), hi) - lo) / (hi - lo) * (HEIGHT - PAD)
    parts = [f'<svg class=plot width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-label="{html.escape(title)}">',
             f'<rect x="{PAD}" y="{PAD / 2}" width="{WIDTH - 2 * PAD}" height="{HEIGHT - PAD}" '
             'fill="#f6f8fa" stroke="#d0d7de"/>']
    for v in (lo, (lo + hi) / 2, hi):
        parts.append(f'<text x="{PAD - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{number(v)}</text>')
    for frac in (0, 0.5, 1):
        t = t0 + frac * span
        parts.append(f'<text x="{x(t):.1f}" y="{HEIGHT - 2}" text-anchor="middle">'
                     f'{t - t0:.1f} s</text>')
    legend = []
    for i, (name, ts, ys) in enumerate(series):
        pts = [(t, v) for t, v in zip(ts, ys) if v is not None and math.isfinite(v)]
        rx, ry = reduce([p[0] for p in pts], [p[1] for p in pts])
        colour = COLOURS[i % len(COLOURS)]
        coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(rx, ry))
        parts.append(f'<polyline data-series="{html.escape(name)}" data-count="{len(pts)}" '
                     f'data-drawn="{len(rx)}" fill="none" stroke="{colour}" stroke-width="1.2" '
                     f'points="{coords}"/>')
        legend.append(f'<span style="color:{colour}">&#9632; {html.escape(name)}</span>')
    parts.append("</svg>")
    return (f"<h3>{html.escape(title)} <small>({html.escape(unit)})</small></h3>"
            f"<div class=legend>{' '.join(legend)}</div>" + "".join(parts))


def timecode(t: float, fps: float) -> str:
    """Programme seconds as HH:MM:SS:FF at `fps` frames a second."""
    frames = int(round(t * fps))
    per = max(int(round(fps)), 1)
    s, f = divmod(frames, per)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{f:02d}"


def timeline(events: list, t0: float, t1: float) -> str:
    """Events as bars on one row per kind."""
    kinds = sorted({e["event"] for e in events})
    if not kinds:
        return "<p class=none>no events</p>"
    row = 22
    height = PAD * 3 // 2 + row * len(kinds)
    span = max(t1 - t0, 1e-9)
    x = lambda t: PAD * 3 + (min(max(t, t0), t1) - t0) / span * (WIDTH - 4 * PAD)
    parts = [f'<svg class=timeline width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" data-count="{len(events)}">']
    for i, k in enumerate(kinds):
        top = PAD / 2 + i * row
        parts.append(f'<text x="{PAD * 3 - 6}" y="{top + 14}" text-anchor="end">{k}</text>')
        parts.append(f'<line x1="{PAD * 3}" x2="{WIDTH - PAD}" y1="{top + 10}" y2="{top + 10}" '
                     'stroke="#d0d7de"/>')
        for e in (e for e in events if e["event"] == k):
            x0, x1 = x(e["start"]), x(e["end"])
            parts.append(f'<rect class=event data-kind="{k}" x="{x0:.1f}" y="{top + 3}" '
                         f'width="{max(x1 - x0, 2):.1f}" height="14" '
                         f'fill="{KIND_COLOURS.get(k, "#57606a")}"><title>{k} '
                         f'{e["start"] - t0:.2f}-{e["end"] - t0:.2f} s</title></rect>')
    # A time axis: seconds from the programme's start.
    axis = PAD / 2 + row * len(kinds) + 12
    for frac in (0, 0.25, 0.5, 0.75, 1):
        t = t0 + frac * span
        parts.append(f'<text x="{x(t):.1f}" y="{axis}" text-anchor="middle">{t - t0:.1f} s</text>')
    parts.append("</svg>")
    return "".join(parts)


def thumbnail(thumbs, t: float, t0: float) -> str:
    """The JPEG of the second `t` falls in (from the stream's start: an event's middle, so
    that the picture is of the event, not of the second before it) as an inline image, if
    there is one."""
    if thumbs is None:
        return ""
    index = max(0, int(round(t - t0)))
    for i in (index, index - 1, 0):
        p = thumbs / f"{i:06d}.jpg"
        if p.is_file():
            data = base64.b64encode(p.read_bytes()).decode("ascii")
            return f'<img class=thumb alt="frame at {t:.2f} s" src="data:image/jpeg;base64,{data}">'
    return ""


def main() -> int:
    if len(sys.argv) not in (5, 6):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        video, audio = load(sys.argv[1]), load(sys.argv[2])
    except (OSError, ValueError) as e:
        print(f"qc-html: cannot read a report: {e}", file=sys.stderr)
        return 1
    thumbs = None if sys.argv[3] == "-" else Path(sys.argv[3])
    source = sys.argv[5] if len(sys.argv) == 6 else ""
    head, entries = video
    frames = [e for e in entries if "pts" in e]
    a_entries = audio[1] if audio else []
    levels = [e for e in a_entries if "momentary" in e]
    # Each report's programme start (its verdict's `start`: the first frame's or sample's
    # timestamp), so that times are shown from it whatever the container's offsets.
    t0 = frames[0]["pts"] if frames else 0.0
    origin = lambda es, default: next((v["start"] for v in es if "verdict" in v and "start" in v),
                                      default)
    events, failures, verdicts = [], [], []
    for es, zero in ((entries, origin(entries, t0)), (a_entries, origin(a_entries, 0.0))):
        for e in es:
            if "event" in e or "failure" in e:
                e["zero"] = zero
        events += [e for e in es if "event" in e]
        failures += [e for e in es if "failure" in e]
        verdicts += [e for e in es if "verdict" in e]
    t0 = origin(entries, t0)
    events.sort(key=lambda e: e["start"] - e["zero"])
    ends = [frames[-1]["pts"] if frames else 0.0] + [e["time"] for e in levels]
    t1 = max(ends + [e["end"] for e in events] + [t0 + 1e-3])

    # Times are shown from the programme's first frame (as FFmpeg's detectors give them), in
    # seconds and as timecode at the video's rate.
    rate = head.get("framerate", "25/1").split("/")
    frame = float(rate[1]) / float(rate[0]) if len(rate) == 2 and float(rate[0]) > 0 else 0.04
    fps = 1 / frame
    span = lambda e: f'{e["start"] - e.get("zero", t0):.2f}-{e["end"] - e.get("zero", t0):.2f} s'

    # Audio and video durations within one frame of each other.
    profile = verdicts[0].get("profile", "none") if verdicts else "none"
    durations = [v.get("duration") for v in verdicts]
    checks = []
    if audio and len(durations) == 2 and None not in durations:
        dv, da = durations
        ok = abs(dv - da) <= frame + 1e-6
        checks.append(("audio and video durations", ok,
                       f"video {dv:.3f} s, audio {da:.3f} s: "
                       + ("the same" if abs(dv - da) < 5e-4 else f"{abs(dv - da):.3f} s apart")
                       + f" (allowed: one frame, {frame:.3f} s)"))
        if not ok and profile != "none":
            failures.append({"failure": "av-duration", "start": t0, "end": t0 + max(dv, da),
                             "value": dv - da, "unit": "s", "limit": f"at most {frame:.3f} s"})
    if not audio and profile == "dpp":
        # A DPP delivery carries its sound.
        failures.append({"failure": "no-audio", "start": t0, "end": t1})
    passed = not failures
    described = lambda f: f'{f["failure"]} {span(f)}' + (
        f' ({f["value"]:.1f} {f["unit"]}; allowed {f["limit"]})'
        if isinstance(f.get("value"), (int, float)) and f.get("unit") else "")
    if profile == "none" and passed:
        # No delivery profile, no verdict: what was found.
        verdict = "FINDINGS"
        kinds = sorted({e["event"] for e in events}, key=[e["event"] for e in events].index)
        runs = lambda k: [e for e in events if e["event"] == k]
        found = "; ".join(
            f'{k} {span(runs(k)[0])}' if len(runs(k)) == 1
            else f'{k}: {len(runs(k))} runs, the first {span(runs(k)[0])}' for k in kinds)
        summary = (f"findings (no delivery profile, no verdict): {found or 'nothing found'}")
    else:
        verdict = "PASS" if passed else "FAIL"
        summary = (f"{verdict} ({profile})" + ("" if passed else ": " + "; ".join(
            described(f) for f in failures)))

    ts = [f["pts"] for f in frames]
    column = lambda key, i=None: [(f.get(key) if i is None else f[key][i])
                                  if f.get(key) is not None else None for f in frames]
    at = [e["time"] for e in levels]
    loud = lambda key: [e.get(key) if isinstance(e.get(key), (int, float)) else None
                        for e in levels]
    plots = [
        plot("Luma", "8-bit levels", t0, t1, [("mean", ts, column("mean", 0)),
                                              ("min", ts, column("min")),
                                              ("max", ts, column("max"))], 0, 255),
        plot("Chroma means", "8-bit levels", t0, t1, [("Cb", ts, column("mean", 1)),
                                                      ("Cr", ts, column("mean", 2))]),
        plot("Out of the legal range (EBU R103)", "% of the frame's pixels", t0, t1,
             [("gamut", ts, [None if v is None else 100 * v for v in column("gamut")])], 0),
    ]
    if levels:
        plots += [
            plot("Loudness", "LUFS", t0, t1, [("momentary", at, loud("momentary")),
                                              ("short-term", at, loud("short_term"))],
                 floor=-60),
            plot("True peak", "dBTP", t0, t1, [("true peak", at, loud("true_peak"))],
                 floor=-60),
        ]
    measured = lambda e: ", ".join(
        f"{k} {100 * v:.2f}% of the pixels" if k == "share" else f"{k} {v:.3g}"
        for k, v in e.items() if k in ("share", "rate", "area", "channel"))
    rows = "".join(
        f'<tr><td>{html.escape(e["event"])}</td>'
        f'<td>{e["start"] - e["zero"]:.2f}</td><td>{timecode(e["start"] - e["zero"], fps)}</td>'
        f'<td>{e["end"] - e["zero"]:.2f}</td><td>{timecode(e["end"] - e["zero"], fps)}</td>'
        f'<td>{html.escape(measured(e))}</td>'
        f'<td>{thumbnail(thumbs, (e["start"] + e["end"]) / 2 - e["zero"] + t0, t0)}</td></tr>'
        for e in events)
    failing = "".join(f'<li>{html.escape(described(f))}</li>' for f in failures)
    # The programme's sound in three figures, from qcaudio's last reading.
    final = next((e for e in reversed(levels) if e.get("final")), levels[-1] if levels else None)
    sound = ""
    if final is not None:
        figure = lambda key, unit: (f"{final[key]:.1f} {unit}".replace("-", "\u2212")
                                    if isinstance(final.get(key), (int, float)) else "none")
        sound = (f'<p id="sound">Sound: integrated loudness {figure("integrated", "LUFS")}, '
                 f'loudness range {figure("loudness_range", "LU")}, '
                 f'maximum true peak {figure("max_true_peak", "dBTP")}.</p>')
    check_rows = "".join(f'<li>{"&#10003;" if ok else "&#10007;"} {html.escape(name)}: '
                         f'{html.escape(text)}</li>' for name, ok, text in checks)
    data = {"frames": len(frames), "levels": len(levels), "events": len(events),
            "failures": len(failures), "verdict": verdict, "profile": profile,
            "input": source,
            "duration": durations}
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>QC report: {verdict}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 24px; color: #24292f; }}
.verdict {{ font-size: 22px; font-weight: 600; }}
.pass {{ color: #1a7f37; }} .fail {{ color: #cf222e; }} .findings {{ color: #24292f; }}
svg text {{ font: 11px system-ui, sans-serif; fill: #57606a; }}
table {{ border-collapse: collapse; }} td, th {{ border-bottom: 1px solid #d0d7de; padding: 4px 8px; text-align: left; }}
.thumb {{ width: 160px; }} .none {{ color: #57606a; }} .legend span {{ margin-right: 12px; }}
</style></head><body>
<h1>Quality control{html.escape(f": {Path(source).name}" if source else "")}</h1>
<p>{html.escape(head.get("width", "") and f'{head["width"]}x{head["height"]} at {head.get("framerate", "?")} fps')},
{len(frames)} frames{f", {len(levels)} loudness readings" if levels else ", no audio report"}; profile <b>{html.escape(profile)}</b>.</p>
<p class="verdict {'pass' if passed and profile != 'none' else 'findings' if passed else 'fail'}" id="verdict">{html.escape(summary)}</p>
<ul id="failures">{failing}</ul>
{sound}
<ul id="checks">{check_rows}</ul>
<h2>Over time</h2>
{"".join(plots)}
<h2>Events</h2>
{timeline(events, t0, t1)}
<p>Times from the programme's first frame, in seconds and as timecode at {fps:g} fps.</p>
<table id="events"><tr><th>event</th><th>start (s)</th><th>start</th><th>end (s)</th><th>end</th><th>measured</th><th>picture</th></tr>{rows}</table>
<script type="application/json" id="qc-data">{json.dumps(data)}</script>
</body></html>
"""
    Path(sys.argv[4]).write_text(page, encoding="utf-8")
    print(f"qc-report: {summary}")
    print(f"qc-report: written to {sys.argv[4]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
