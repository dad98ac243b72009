#!/bin/sh
# `make bench`, part 2: whole-frame gaussian blur on the CPU, gpublur beside FFmpeg's gblur at
# equal sigma, on the same 1080p clip in the same run. Both decode and convert to RGBA.
#
#   benches/blur.sh [SECONDS]    (clip length, default 4)
set -eu
cd "$(dirname "$0")/.."
. benches/timing.sh
bench_setup 4 "$@"
bench_clip 1920x1080

ours() {
    fps "$(timed gst-launch-1.0 -q filesrc location="$CLIP" ! decodebin ! videoconvert ! video/x-raw,format=RGBA \
        ! gpublur region=frame backend=cpu strength="$1" ! fakesink)"
}
theirs() {
    fps "$(timed ffmpeg -loglevel error -i "$CLIP" -vf "format=rgba,gblur=sigma=$1" -f null -)"
}
printf '\n1920x1080 whole-frame gaussian, %s frames, %s cores\n' "$FRAMES" "$(nproc)"
printf '%-8s %14s %14s %8s\n' "sigma" "gpublur cpu" "ffmpeg gblur" "ratio"
for sigma in 8 24 60; do
    a=$(ours "$sigma")
    b=$(theirs "$sigma")
    printf '%-8s %10.1f fps %10.1f fps %7.2fx\n' "$sigma" "$a" "$b" "$(awk "BEGIN { print $a / $b }")"
done
