#!/bin/sh
# `make bench`: face anonymisation speed, ours beside deface 1.5.0, on the same 720p clip in the
# same run. Prints frames per second and ratios; absolute times vary with the machine.
#
#   benches/anonymize.sh [SECONDS]    (clip length, default 10)
#
# Rows:
#   ours default        pipelines/anonymize.sh at default settings (the detector sees the
#                       720p frame at full size, as deface does)
#   ours interval=3     the same, the network every third frame (tracker in between)
#   ours int8           the same with the INT8 CenterFace (make models-all)
#   ours 640 input      max-input-size=640: the detector sees the frame halved (misses faces
#                       under about 48 px, 3x less network work)
#   deface onnxrt       deface 1.5.0 --backend onnxrt, its defaults (full-frame detector input)
#   decode+encode       the same decode and x264 encode without detection or blur (the floor)
#   detector alone      decode ! onnxfacedetect: network every frame, every third frame, and
#                       every frame in batches of 4 and 8
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

CLIP=$WORK/clip-720p.mp4
[ -s "$CLIP" ] || scripts/make-clip.sh "$CLIP" 1280x720 "$SECS" noaudio

. benches/timing.sh

t_ours=$(timed pipelines/anonymize.sh "$CLIP" "$WORK/ours.mp4")
t_int3=$(DETECT_OPTS="interval=3" timed pipelines/anonymize.sh "$CLIP" "$WORK/ours-int3.mp4")
INT8=$PWD/models/centerface-int8.onnx
t_int8=$(DETECT_OPTS="model-location=$INT8" timed pipelines/anonymize.sh "$CLIP" "$WORK/ours-int8.mp4")
t_640=$(DETECT_OPTS="max-input-size=640" timed pipelines/anonymize.sh "$CLIP" "$WORK/ours-640.mp4")
t_floor=$(timed gst-launch-1.0 -q -e filesrc location="$CLIP" ! decodebin ! videoconvert ! video/x-raw,format=I420 \
    ! x264enc speed-preset=veryfast ! h264parse ! mp4mux ! filesink location="$WORK/floor.mp4")
t_deface=$(timed "$DEFACE" "$CLIP" -o "$WORK/deface.mp4" --backend onnxrt --execution-provider CPUExecutionProvider)

# The detector alone, network every frame vs every third frame (tracker predicts between).
detector() {
    timed gst-launch-1.0 -q filesrc location="$CLIP" ! decodebin ! onnxfacedetect post-messages=false "$@" ! fakesink
}
t_det1=$(detector interval=1)
t_det3=$(detector interval=3)
t_detb4=$(detector batch-size=4)
t_detb8=$(detector batch-size=8)

f_ours=$(fps "$t_ours"); f_int3=$(fps "$t_int3"); f_int8=$(fps "$t_int8"); f_640=$(fps "$t_640"); f_floor=$(fps "$t_floor"); f_deface=$(fps "$t_deface")
ratio() { awk "BEGIN { print $1 / $2 }"; }
printf '\n1280x720, %s frames, %s cores (%s)\n' "$FRAMES" "$(nproc)" "$(uname -m)"
printf '%-22s %8s %10s\n' "pipeline" "fps" "vs deface"
printf '%-22s %8.1f %9.2fx\n' "ours default" "$f_ours" "$(ratio "$f_ours" "$f_deface")"
printf '%-22s %8.1f %9.2fx\n' "ours interval=3" "$f_int3" "$(ratio "$f_int3" "$f_deface")"
printf '%-22s %8.1f %9.2fx\n' "ours int8" "$f_int8" "$(ratio "$f_int8" "$f_deface")"
printf '%-22s %8.1f %9.2fx\n' "ours 640 input" "$f_640" "$(ratio "$f_640" "$f_deface")"
printf '%-22s %8.1f %9.2fx\n' "deface onnxrt" "$f_deface" 1
printf '%-22s %8.1f %9.2fx\n' "decode+encode only" "$f_floor" "$(ratio "$f_floor" "$f_deface")"
f_det1=$(fps "$t_det1"); f_det3=$(fps "$t_det3")
printf '\n%-22s %8s %10s\n' "detector alone" "fps" "vs int=1"
printf '%-22s %8.1f %9.2fx\n' "interval=1" "$f_det1" 1
printf '%-22s %8.1f %9.2fx\n' "interval=3 (tracked)" "$f_det3" "$(ratio "$f_det3" "$f_det1")"
f_detb4=$(fps "$t_detb4"); f_detb8=$(fps "$t_detb8")
printf '%-22s %8.1f %9.2fx\n' "batch-size=4" "$f_detb4" "$(ratio "$f_detb4" "$f_det1")"
printf '%-22s %8.1f %9.2fx\n' "batch-size=8" "$f_detb8" "$(ratio "$f_detb8" "$f_det1")"
