#!/bin/sh
# `make bench` part: N detector streams in one process, each with a session of its own or all
# sharing one (`batch-group`): total detector frames per second and peak memory, N = 1, 2, 4,
# 8, on pre-decoded 1280x720 frames of the four-face clip (decoding is not what is measured).
# Grouped: taking turns on one session (max-batch at its default, 1), and in batches of the
# N streams' frames (max-batch=N, batch-timeout 40 ms).
#
#   benches/streams.sh [FRAMES] [PROPERTIES...]    (frames per stream, default 25; detector
#                                                   properties, default interval=1)
#
# Then live: 720p25 streams paced as a camera sends them (the pipeline live, delay counted
# from each frame's due time as it leaves the detector, from the first frame): one stream at
# the defaults, and overload (every frame detected; two streams in one process and as two
# processes; with gpublur after the detector): p50/p99/max delay, frames later than 200 ms,
# frames hidden whole because no measurement covered them, and times shedding started.
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
cargo build -q --release -p gst-plugin-mediaai --example streams
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

LIVE_FRAMES=150
LIVE=$WORK/crowd-720p-${LIVE_FRAMES}f.i420
[ -s "$LIVE" ] || ffmpeg -loglevel error -y -i "$CROWD" -frames:v "$LIVE_FRAMES" -f rawvideo -pix_fmt yuv420p "$LIVE"
printf '\nlive 1280x720 streams at 25 fps (%s frames each), %s cores: delay of each frame leaving the detector\n' "$LIVE_FRAMES" "$(nproc)"
printf '%-44s %8s %8s %8s %8s %8s %8s %8s\n' configuration fps p50_ms p99_ms max_ms late hidden shedding
live() {
    label=$1
    shift
    r=$("$BIN" "$@")
    field() { echo "$r" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    printf '%-44s %8s %8s %8s %8s %8s %8s %8s\n' "$label" "$(field fps)" "$(field p50_delay_ms)" "$(field p99_delay_ms)" \
        "$(field max_delay_ms)" "$(field late)" "$(field hidden)" "$(field shedding)"
}
live "1 stream, defaults" 1 separate "$LIVE" 1280x720 live
live "1 stream, defaults, ! gpublur" 1 separate "$LIVE" 1280x720 live blur
live "1 stream, interval=1 (overload)" 1 separate "$LIVE" 1280x720 live interval=1
live "2 streams, one process (overload)" 2 separate "$LIVE" 1280x720 live blur
live "2 streams, a process each (overload)" 2 procs "$LIVE" 1280x720 live blur
live "1 stream, interval=1, overload=wait" 1 separate "$LIVE" 1280x720 live interval=1 overload=wait
