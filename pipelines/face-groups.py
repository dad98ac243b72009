#!/usr/bin/env python3
"""Groups the face tracks of face-groups.sh's pipeline by person (standard library only).

Reads OUTDIR/messages.txt (gst-launch-1.0 -m output with onnxfacekeep's
`facekeep-descriptor` messages) and OUTDIR/tracks/track-ID.ppm; writes OUTDIR/groups.json and
OUTDIR/person-N.ppm (the largest face of each person). Tracks are joined by average linkage:
two groups are one person while the mean cosine similarity of their descriptors is at least
THRESHOLD; when unsure they stay apart, so an editor choosing whom to keep sees each doubtful
track on its own.
"""
import json
import math
import re
import shutil
import sys
from pathlib import Path

out, threshold = Path(sys.argv[1]), float(sys.argv[2])
FIELD = re.compile(r"([a-z-]+)=\((\w+)\)(<[^>]*>|[^,;]+)")
tracks = {}
for line in open(out / "messages.txt", encoding="utf-8", errors="replace"):
    if "facekeep-descriptor" not in line:
        continue
    fields = {k: v for k, _, v in FIELD.findall(line.split("facekeep-descriptor", 1)[1])}
    d = [float(x) for x in fields["descriptor"].strip("<> ").split(",")]
    t = tracks.setdefault(int(fields["track-id"]), {"descriptors": [], "times": [], "size": 0.0})
    t["descriptors"].append(d)
    if "pts" in fields:
        t["times"].append(int(fields["pts"]) / 1e9)
    t["size"] = max(t["size"], float(fields["width"]) * float(fields["height"]))


def unit(v):
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / n for x in v]


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


# Each track's mean descriptor; groups merged, most similar pair first, down to the threshold.
ids = sorted(tracks)
mean = {i: unit([sum(c) / len(c) for c in zip(*tracks[i]["descriptors"])]) for i in ids}
groups = [[i] for i in ids]


def link(a, b):
    return sum(dot(mean[i], mean[j]) for i in a for j in b) / (len(a) * len(b))


while len(groups) > 1:
    score, x, y = max((link(a, b), x, y) for x, a in enumerate(groups)
                      for y, b in enumerate(groups) if x < y)
    if score < threshold:
        break
    groups[x] += groups.pop(y)

people = []
for n, group in enumerate(sorted(groups, key=lambda g: min(min(tracks[i]["times"], default=0) for i in g)), 1):
    best = max(group, key=lambda i: tracks[i]["size"])
    thumb = out / "tracks" / f"track-{best}.ppm"
    if thumb.exists():
        shutil.copy(thumb, out / f"person-{n}.ppm")
    people.append({
        "person": n,
        "thumbnail": f"person-{n}.png",
        "tracks": [{"track-id": i,
                    "start": round(min(tracks[i]["times"], default=0.0), 3),
                    "end": round(max(tracks[i]["times"], default=0.0), 3)}
                   for i in sorted(group)],
    })
json.dump({"threshold": threshold, "people": people}, open(out / "groups.json", "w"), indent=1)
