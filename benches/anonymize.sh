#!/bin/sh
# `make bench`: face anonymisation speed, ours beside deface 1.5.0, on the same 720p clips in
# the same run. Prints frames per second and ratios; absolute times vary with the machine.
#
#   benches/anonymize.sh [SECONDS]    (clip length, default 10)
#
# Clips (both made from the astronaut portrait, never used to tune the defaults):
#   pan     scripts/make-clip.sh: one face panning slowly
#   crowd   scripts/make-crowd-clip.sh: four faces, one running, one appearing, a shot change
# Rows, per clip:
#   ours default        pipelines/anonymize.sh at default settings (the detector sees the
#                       720p frame at full size, as deface does, at least every fourth frame)
#   ours interval=1     the same, the network on every frame
#   ours int8           (pan) the INT8 CenterFace (make models-all)
#   ours 640 input      (pan) max-input-size=640: the detector sees the frame halved (misses
#                       faces under about 48 px, 3x less network work)
#   ours keep-faces     the default with onnxfacekeep between detector and blur, her photograph
#                       in KEEP_FACES (a face descriptor per track, refreshed every 25 frames):
#                       the cost of keeping chosen people visible; she is kept, so "faces
#                       left" counts her on the pan
#   deface onnxrt       deface 1.5.0 --backend onnxrt, its defaults (full-frame detector input)
#   decode+encode       (pan) the same decode and x264 encode without detection or blur
# and "faces left": frames of the output in which onnxfacedetect (threshold 0.5) still finds
# a face (the input's count beside it).
#   detector alone      decode ! onnxfacedetect: network every frame, at the default
#                       interval, and every frame in batches of 4 and 8
set -eu
cd "$(dirname "$0")/.."
SECS=${1:-10}
FRAMES=$((SECS * 25))
WORK=target/bench
mkdir -p "$WORK"
PLUGINS=${GST_PLUGIN_PATH:-$PWD/target/release}
export GST_PLUGIN_PATH="$PLUGINS"

PY=$(benches/venv.sh)
DEFACE=$(dirname "$PY")/deface

CLIP=$WORK/clip-720p-${SECS}s.mp4
[ -s "$CLIP" ] || scripts/make-clip.sh "$CLIP" 1280x720 "$SECS" noaudio
CROWD=$WORK/crowd-720p-${SECS}s.mp4
[ -s "$CROWD" ] || scripts/make-crowd-clip.sh "$CROWD" 1280x720 "$SECS"

. benches/timing.sh

ratio() { awk "BEGIN { print $1 / $2 }"; }
row() { printf '%-22s %8.1f %9.2fx %s\n' "$1" "$2" "$(ratio "$2" "$3")" "${4:-}"; }
# Frames of $1 in which a face scoring 0.5 or more is found.
faces_left() {
    gst-launch-1.0 -m filesrc location="$1" ! decodebin ! videoconvert ! onnxfacedetect threshold=0.5 \
        ! fakesink 2>/dev/null | grep facedetect | grep -c track-id || true
}

t_ours=$(timed pipelines/anonymize.sh "$CLIP" "$WORK/ours.mp4")
t_int1=$(DETECT_OPTS="interval=1" timed pipelines/anonymize.sh "$CLIP" "$WORK/ours-int1.mp4")
INT8=$PWD/models/centerface-int8.onnx
t_int8=$(DETECT_OPTS="model-location=$INT8" timed pipelines/anonymize.sh "$CLIP" "$WORK/ours-int8.mp4")
t_640=$(DETECT_OPTS="max-input-size=640" timed pipelines/anonymize.sh "$CLIP" "$WORK/ours-640.mp4")
t_floor=$(timed gst-launch-1.0 -q -e filesrc location="$CLIP" ! decodebin ! videoconvert ! video/x-raw,format=I420 \
    ! x264enc speed-preset=veryfast ! h264parse ! mp4mux ! filesink location="$WORK/floor.mp4")
t_deface=$(timed "$DEFACE" "$CLIP" -o "$WORK/deface.mp4" --backend onnxrt --execution-provider CPUExecutionProvider)

c_ours=$(timed pipelines/anonymize.sh "$CROWD" "$WORK/crowd-ours.mp4")
c_int1=$(DETECT_OPTS="interval=1" timed pipelines/anonymize.sh "$CROWD" "$WORK/crowd-ours-int1.mp4")
KEEP=$WORK/keep
mkdir -p "$KEEP"
cp .deps/media/astronaut.png "$KEEP/"
t_keep=$(KEEP_FACES="$KEEP" timed pipelines/anonymize.sh "$CLIP" "$WORK/ours-keep.mp4")
c_keep=$(KEEP_FACES="$KEEP" timed pipelines/anonymize.sh "$CROWD" "$WORK/crowd-ours-keep.mp4")
c_deface=$(timed "$DEFACE" "$CROWD" -o "$WORK/crowd-deface.mp4" --backend onnxrt --execution-provider CPUExecutionProvider)

# The detector alone, network every frame vs the default interval (tracker predicts between).
detector() {
    timed gst-launch-1.0 -q filesrc location="$CLIP" ! decodebin ! onnxfacedetect post-messages=false "$@" ! fakesink
}
t_det1=$(detector interval=1)
t_det4=$(detector)
t_detb4=$(detector interval=1 batch-size=4)
t_detb8=$(detector interval=1 batch-size=8)

f_deface=$(fps "$t_deface")
printf '\n1280x720, %s frames, %s cores (%s)\n' "$FRAMES" "$(nproc)" "$(uname -m)"
printf '%-22s %8s %10s %s\n' "pan: pipeline" "fps" "vs deface" "faces left"
row "ours default" "$(fps "$t_ours")" "$f_deface" "$(faces_left "$WORK/ours.mp4")"
row "ours interval=1" "$(fps "$t_int1")" "$f_deface"
row "ours int8" "$(fps "$t_int8")" "$f_deface"
row "ours 640 input" "$(fps "$t_640")" "$f_deface"
row "ours keep-faces" "$(fps "$t_keep")" "$f_deface" "$(faces_left "$WORK/ours-keep.mp4") (kept)"
row "deface onnxrt" "$f_deface" "$f_deface" "$(faces_left "$WORK/deface.mp4")"
row "decode+encode only" "$(fps "$t_floor")" "$f_deface" "of $(faces_left "$CLIP") in the input"
f_deface=$(fps "$c_deface")
printf '\n%-22s %8s %10s %s\n' "crowd: pipeline" "fps" "vs deface" "faces left"
row "ours default" "$(fps "$c_ours")" "$f_deface" "$(faces_left "$WORK/crowd-ours.mp4")"
row "ours interval=1" "$(fps "$c_int1")" "$f_deface" "$(faces_left "$WORK/crowd-ours-int1.mp4")"
row "ours keep-faces" "$(fps "$c_keep")" "$f_deface" "$(faces_left "$WORK/crowd-ours-keep.mp4") (all four are her: kept)"
row "deface onnxrt" "$f_deface" "$f_deface" "$(faces_left "$WORK/crowd-deface.mp4") (of $(faces_left "$CROWD") in the input)"
f_det1=$(fps "$t_det1")
printf '\n%-22s %8s %10s\n' "detector alone" "fps" "vs int=1"
row "interval=1" "$f_det1" "$f_det1"
row "default (interval 4)" "$(fps "$t_det4")" "$f_det1"
row "batch-size=4" "$(fps "$t_detb4")" "$f_det1"
row "batch-size=8" "$(fps "$t_detb8")" "$f_det1"
