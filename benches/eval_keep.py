#!/usr/bin/env python3
"""Telling people apart for onnxfacekeep: genuine and impostor similarity distributions of
each descriptor model, and the threshold chosen on a tuning part, checked on a held-out part.

    eval_keep.py PLUGIN_DIR [MODEL ...]    (models by file name in models/; default: both)

Each photograph runs through the element as users run it (gst-launch-1.0: decodebin !
onnxfacedetect interval=1 ! onnxfacekeep post-descriptors=true), and the descriptors it posts
are compared pairwise by cosine similarity, as the element compares a face with `keep-faces`.

No registry package holds photographs labelled by person in any number (LFW and the like come
from their own sites), so this is the most honest set the registries give, each source named
in models/media.toml:
  * the same person in different photographs: Barack Obama in three (PyPI face_recognition
    1.3.0's test images): the only genuine pairs across photographs;
  * different people: every pair of faces within one group photograph (six from npm
    @vladmandic/face-api's demo, one from PyPI insightface 0.7.3), and every named person
    (Obama, Joe Biden, Tom Hanks, Eileen Collins, the man with the camera) against every other
    face. Faces of different group photographs are not paired: nobody says whether the
    face-api demo's photographs share a person.
Tuning part: Obama's first two photographs, face-api demo photographs 1-3, Biden and Collins;
held-out part: Obama's third photograph (against the other two), face-api demo photographs 4-6,
insightface's group photograph, Tom Hanks and the camera man; a pair belongs to the held-out
part when either face does. The threshold is the midpoint between the tuning part's highest
impostor and lowest genuine score (or, where they overlap, just above the highest impostor:
a stranger must not be kept).
"""
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / ".deps" / "media"

# photograph -> (identity for every face in it, or None: each face its own person; held out?)
PHOTOS = {
    "obama.jpg": ("obama", False),
    "obama2.jpg": ("obama", False),
    "obama3.jpg": ("obama", True),
    "biden.jpg": ("biden", False),
    "astronaut.png": ("collins", False),
    "Tom_Hanks_54745.png": ("hanks", True),
    "camera.png": ("camera-man", True),
    "faceapi-sample1.jpg": (None, False),
    "faceapi-sample2.jpg": (None, False),
    "faceapi-sample3.jpg": (None, False),
    "faceapi-sample4.jpg": (None, True),
    "faceapi-sample5.jpg": (None, True),
    "faceapi-sample6.jpg": (None, True),
    "t1.jpg": (None, True),
}
DESCRIPTOR_RE = re.compile(r"facekeep-descriptor, track-id=\(uint\)(\d+).*?descriptor=\(float\)<([^>]*)>")


def descriptors(photo, model, plugin_dir):
    env = dict(os.environ, GST_PLUGIN_PATH=str(plugin_dir))
    out = subprocess.run(
        ["gst-launch-1.0", "-m", "filesrc", f"location={MEDIA / photo}", "!", "decodebin", "!",
         "videoconvert", "!", "imagefreeze", "num-buffers=1", "!", "onnxfacedetect", "interval=1",
         "post-messages=false", "!", "onnxfacekeep", "post-descriptors=true",
         f"model-location={ROOT / 'models' / model}", "!", "fakesink"],
        env=env, capture_output=True, text=True, check=True)
    return [(int(t), [float(v) for v in d.split(",")]) for t, d in DESCRIPTOR_RE.findall(out.stdout)]


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def main():
    plugin_dir = Path(sys.argv[1]).resolve()
    models = sys.argv[2:] or ["dlibface.onnx", "faceres.onnx"]
    for model in models:
        faces = []  # (photo, track, identity, held out, descriptor)
        for photo, (who, held) in PHOTOS.items():
            for track, d in descriptors(photo, model, plugin_dir):
                faces.append((photo, track, who or f"{photo}#{track}", held, d))
        pairs = {"tuning": ([], []), "held-out": ([], [])}
        for a, b in itertools.combinations(faces, 2):
            same_photo = a[0] == b[0]
            named = PHOTOS[a[0]][0] is not None or PHOTOS[b[0]][0] is not None
            if not (same_photo or named):
                continue  # two group photographs: unknown
            if same_photo and a[2] == b[2]:
                continue  # one face of one photograph twice
            genuine = a[2] == b[2]
            part = "held-out" if a[3] or b[3] else "tuning"
            pairs[part][0 if genuine else 1].append((dot(a[4], b[4]), f"{a[0]}#{a[1]}", f"{b[0]}#{b[1]}"))
        gen_t, imp_t = pairs["tuning"]
        top_imp = max(s for s, *_ in imp_t)
        low_gen = min(s for s, *_ in gen_t)
        threshold = (top_imp + low_gen) / 2 if low_gen > top_imp else top_imp + 0.005
        print(f"== {model}: {len(faces)} faces; threshold from the tuning part {threshold:.3f} "
              f"(highest impostor {top_imp:.3f}, lowest genuine {low_gen:.3f})")
        for part, (gen, imp) in pairs.items():
            gen.sort(reverse=True)
            imp.sort(reverse=True)
            kept = sum(s >= threshold for s, *_ in gen)
            strangers = sum(s >= threshold for s, *_ in imp)
            print(f"  {part}: genuine {len(gen)} pairs, {kept} above the threshold "
                  f"({', '.join(f'{s:.3f}' for s, *_ in gen)}); impostors {len(imp)} pairs, "
                  f"{strangers} above it; highest {', '.join(f'{s:.3f} ({x} / {y})' for s, x, y in imp[:3])}; "
                  f"mean {sum(s for s, *_ in imp) / len(imp):.3f}")
            margin = min(s for s, *_ in gen) - max(s for s, *_ in imp)
            print(f"    lowest genuine less highest impostor: {margin:+.3f}")


if __name__ == "__main__":
    main()
