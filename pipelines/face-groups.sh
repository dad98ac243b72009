#!/bin/sh
# The people in a video: finds and tracks the faces, describes each track (onnxfacekeep's face
# descriptor), groups the tracks by person, and writes into OUTDIR one thumbnail per person
# (person-N.png, the face chip the descriptor saw, 150x150) and groups.json: for each person the
# thumbnail, the track ids and the time ranges they are on screen. Copy the thumbnails of the
# people to keep into a folder and anonymise with them left visible:
#
#   pipelines/face-groups.sh INPUT OUTDIR
#   mkdir keep && cp OUTDIR/person-2.png keep/
#   KEEP_FACES=keep pipelines/anonymize.sh INPUT OUTPUT
#
# Knobs (environment): DETECT_OPTS (onnxfacedetect properties), THRESHOLD (cosine similarity
# at which two tracks are one person; default onnxfacekeep's, 0.93).
set -eu
. "$(dirname "$0")/common.sh"
need_video
mkdir -p "$OUT/tracks"
# shellcheck disable=SC2086
if ! gst-launch-1.0 -m filesrc location="$IN" ! decodebin ! videoconvert ! video/x-raw,format=I420 \
    ! onnxfacedetect post-messages=false ${DETECT_OPTS:-} \
    ! onnxfacekeep post-descriptors=true refresh=10 thumbnails="$OUT/tracks" ! fakesink \
    > "$OUT/messages.txt" 2> "$OUT/errors.txt"; then
    echo "$NAME: the pipeline failed: $(grep -m1 -i error "$OUT/errors.txt" "$OUT/messages.txt" || true)" >&2
    exit 1
fi
python3 "$(dirname "$0")/face-groups.py" "$OUT" "${THRESHOLD:-0.93}"
# The thumbnails as PNG.
for ppm in "$OUT"/person-*.ppm; do
    [ -e "$ppm" ] || continue
    gst-launch-1.0 -q filesrc location="$ppm" ! pnmdec ! videoconvert ! pngenc \
        ! filesink location="${ppm%.ppm}.png"
    rm -f "$ppm"
done
rm -f "$OUT/messages.txt" "$OUT/errors.txt"
echo "$NAME: $(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['people']))" "$OUT/groups.json") people; see $OUT/groups.json"
