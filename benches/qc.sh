#!/bin/sh
# `make bench`, part 4: quality control. qcfingerprint (statistics, black and freeze runs,
# fingerprints) beside FFmpeg's signalstats,blackdetect,freezedetect,signature on the same
# 1080p frames, decoded once to raw I420 so that neither pays for decoding; best of 3 runs.
#
#   benches/qc.sh [SECONDS]    (clip length, default 8)
set -eu
cd "$(dirname "$0")/.."
. benches/timing.sh
bench_setup 8 "$@"
bench_clip 1920x1080
RAW=$WORK/clip-1920x1080-${SECS}s.yuv
[ -s "$RAW" ] || ffmpeg -loglevel error -y -i "$CLIP" -pix_fmt yuv420p -f rawvideo "$RAW"

best() {
    b=
    for _ in 1 2 3; do
        t=$(timed "$@")
        b=$(awk -v t="$t" -v b="$b" 'BEGIN { print (b == "" || t + 0 < b + 0) ? t : b }')
    done
    fps "$b"
}
a=$(best gst-launch-1.0 -q filesrc location="$RAW" blocksize=3110400 \
    ! rawvideoparse format=i420 width=1920 height=1080 framerate=25/1 ! qcfingerprint ! fakesink)
b=$(best ffmpeg -loglevel error -f rawvideo -pix_fmt yuv420p -s 1920x1080 -r 25 -i "$RAW" \
    -vf signalstats,blackdetect,freezedetect,signature -f null -)
printf '\n1920x1080 quality control, %s frames, %s cores (FFmpeg: signalstats,blackdetect,freezedetect,signature)\n' "$FRAMES" "$(nproc)"
printf '%14s %14s %8s\n' "qcfingerprint" "ffmpeg" "ratio"
printf '%10.1f fps %10.1f fps %7.2fx\n' "$a" "$b" "$(awk "BEGIN { print $a / $b }")"
