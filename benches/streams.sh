#!/bin/sh
# `make bench` part: N detector streams in one process, each with a session of its own or all
# sharing one (`batch-group`): total detector frames per second and peak memory, N = 1, 2, 4,
# 8, on pre-decoded 1280x720 frames of the four-face clip (decoding is not what is measured).
# Grouped: taking turns on one session (max-batch at its default, 1), and in batches of the
# N streams' frames (max-batch=N, batch-timeout 40 ms).
#
#   benches/streams.sh [FRAMES] [PROPERTIES...]    (frames per stream, default 25; detector
#                                                   properties, default interval=1)
set -eu
cd "$(dirname "$0")/.."
FRAMES=${1:-25}
[ $# -gt 0 ] && shift
PROPS=${*:-interval=1}
WORK=target/bench
mkdir -p "$WORK"
CROWD=$WORK/crowd-720p-10s.mp4
[ -s "$CROWD" ] || scripts/make-crowd-clip.sh "$CROWD" 1280x720 10
RAW=$WORK/crowd-720p-${FRAMES}f.i420
[ -s "$RAW" ] || ffmpeg -loglevel error -y -i "$CROWD" -frames:v "$FRAMES" -f rawvideo -pix_fmt yuv420p "$RAW"
cargo build -q --release -p gst-plugin-facedetect --example streams
BIN=target/release/examples/streams
printf '\n%s detector streams of 1280x720 (%s frames each, %s), %s cores\n' "onnxfacedetect" "$FRAMES" "$PROPS" "$(nproc)"
printf '%-8s %10s %10s %10s %12s %12s %12s %10s\n' streams "fps sep." "fps turns" "fps batch" "MiB sep." "MiB turns" "MiB batch" sessions
for n in 1 2 4 8; do
    # shellcheck disable=SC2086
    s=$("$BIN" "$n" separate "$RAW" 1280x720 $PROPS)
    # shellcheck disable=SC2086
    g=$("$BIN" "$n" grouped "$RAW" 1280x720 $PROPS)
    # shellcheck disable=SC2086
    b=$("$BIN" "$n" grouped "$RAW" 1280x720 $PROPS max-batch="$n" batch-timeout=40)
    field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
    printf '%-8s %10s %10s %10s %12s %12s %12s %10s\n' "$n" "$(field "$s" fps)" "$(field "$g" fps)" "$(field "$b" fps)" \
        "$(field "$s" peak_rss_mib)" "$(field "$g" peak_rss_mib)" "$(field "$b" peak_rss_mib)" \
        "$(field "$s" sessions)/$(field "$g" sessions)/$(field "$b" sessions)"
done
