#!/bin/sh
# `make bench`, part 3: speech denoising speed on ONE core (taskset), audiodenoise beside
# GStreamer's webrtcdsp noise suppression and FFmpeg's afftdn on the same 48 kHz mono file in
# the same run. The real-time factor is audio seconds per second of work: for the elements the
# cost of reading and converting the file (measured alone) is taken off, so it is also how many
# 48 kHz mono streams one core sustains.
#
#   benches/denoise.sh [SECONDS]    (audio length, default 300)
set -eu
cd "$(dirname "$0")/.."
SECS=${1:-300}
WORK=target/bench
mkdir -p "$WORK"
export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-$PWD/target/release}
IN=$WORK/noisy-speech-${SECS}s.wav
[ -s "$IN" ] || "$(benches/venv.sh)" benches/eval_denoise.py --mixture "$IN" "$SECS"
FRAMES=$SECS   # timing.sh's fps() then gives audio seconds per second
. benches/timing.sh
one() { taskset -c 0 "$@"; }
launch() { timed one gst-launch-1.0 -q filesrc location="$IN" ! wavparse ! audioconvert ! "$@" ! fakesink; }

floor=$(launch audio/x-raw,format=F32LE)
rtf() { awk "BEGIN { print $SECS / ($1 - $floor) }"; }
ours=$(rtf "$(launch audioconvert ! audiodenoise)")
deep=$(rtf "$(launch audioconvert ! audiodenoise engine=deepfilter)")
ours44=$(rtf "$(launch audioresample ! audio/x-raw,rate=44100,channels=2 ! audioconvert ! audiodenoise)")
webrtc=$(rtf "$(launch audioresample ! audio/x-raw,rate=48000 ! webrtcdsp echo-cancel=false gain-control=false high-pass-filter=false noise-suppression-level=high)")
ffloor=$(timed one ffmpeg -v error -i "$IN" -f null -)
afftdn=$(awk "BEGIN { print $SECS / ($(timed one ffmpeg -v error -i "$IN" -af afftdn=nr=24:nf=-20:tn=1 -f null -) - $ffloor) }")

printf '\nspeech denoising on one core, %s s of 48 kHz mono speech in noise\n' "$SECS"
printf '%-34s %12s %12s\n' "engine" "x real time" "vs rnnoise"
row() { printf '%-34s %11.0fx %11.2fx\n' "$1" "$2" "$(awk "BEGIN { print $2 / $ours }")"; }
row "audiodenoise rnnoise 48k mono" "$ours"
row "audiodenoise deepfilter 48k mono" "$deep"
row "audiodenoise 44.1k stereo (2 ch)" "$ours44"
row "webrtcdsp ns=high" "$webrtc"
row "ffmpeg afftdn nr=24:nf=-20:tn=1" "$afftdn"
printf '48 kHz mono streams one core sustains: rnnoise %.0f, deepfilter %.0f\n' "$ours" "$deep"
