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
# Average linkage kept up to date as groups merge (a merged group's similarity to another is
# the size-weighted mean of its parts'), so each track pair is compared once.
ids = sorted(tracks)
mean = {i: unit([sum(c) / len(c) for c in zip(*tracks[i]["descriptors"])]) for i in ids}
groups = {i: [i] for i in ids}
sim = {(a, b): dot(mean[a], mean[b]) for n, a in enumerate(ids) for b in ids[n + 1:]}


def pair(a, b):
    return (a, b) if a < b else (b, a)


while sim:
    (a, b), score = max(sim.items(), key=lambda kv: kv[1])
    if score < threshold:
        break
    na, nb = len(groups[a]), len(groups[b])
    for c in groups:
        if c not in (a, b):
            sim[pair(a, c)] = (na * sim[pair(a, c)] + nb * sim.pop(pair(b, c))) / (na + nb)
    del sim[(a, b)]
    groups[a] += groups.pop(b)
groups = list(groups.values())

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
