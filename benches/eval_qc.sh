#!/bin/sh
# `make eval-qc`: fingerprint matching, qcfingerprint beside FFmpeg's signature filter on the
# same pairs. Reference: scripts/make-clip.sh (the astronaut photograph panning, 10 s,
# 640x360). Copies, all from 2 s on: re-encoded with another codec (MPEG-4 part 2) and with
# H.264 at a low quality, scaled to a half and a quarter, colour-shifted, cropped by 10%; and
# an unrelated clip (the coffee photograph moving the same way). Each row says whether the
# copy was found and where it starts in the reference (2.00 s expected).
set -eu
cd "$(dirname "$0")/.."
WORK=target/eval-qc
mkdir -p "$WORK"
export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-$PWD/target/release}
REF=$WORK/reference.mp4
[ -s "$REF" ] || scripts/make-clip.sh "$REF" 640x360 10 noaudio
COFFEE=.deps/media/coffee.png
[ -r "$COFFEE" ] || python3 models/fetch.py media
enc() { ffmpeg -loglevel error -y "$@"; }
enc -ss 2 -i "$REF" -c:v mpeg4 -q:v 10 "$WORK/mpeg4.mp4"
enc -ss 2 -i "$REF" -c:v libx264 -crf 40 "$WORK/h264-low.mp4"
enc -ss 2 -i "$REF" -vf scale=320:180 -c:v libx264 "$WORK/half.mp4"
enc -ss 2 -i "$REF" -vf scale=160:90 -c:v libx264 "$WORK/quarter.mp4"
enc -ss 2 -i "$REF" -vf eq=brightness=0.08:contrast=1.2:saturation=1.5 -c:v libx264 "$WORK/colour.mp4"
enc -ss 2 -i "$REF" -vf "crop=iw*0.9:ih*0.9,scale=640:360" -c:v libx264 "$WORK/crop.mp4"
enc -f lavfi -i "color=c=0x404850:s=640x360:r=25:d=8" -loop 1 -framerate 25 -i "$COFFEE" \
    -filter_complex "[1]scale=w='288+t*8':h='288*300/400+t*6':eval=frame,format=yuv420p[p];[0][p]overlay=x='(W-w)*t/8':y='(H-h)/2':shortest=1,format=yuv420p[v]" \
    -map "[v]" -t 8 -c:v libx264 "$WORK/unrelated.mp4"

qc() {
    gst-launch-1.0 -m filesrc location="$1" ! decodebin ! videoconvert ! video/x-raw,format=I420 \
        ! qcfingerprint "$2" ! fakesink 2>&1
}
qc "$REF" report-location="$WORK/reference.json" >/dev/null

printf '\nfingerprint matching, copies of a 10 s reference starting at 2.00 s, %s cores\n' "$(nproc)"
printf '%-12s %-28s %-28s\n' "copy" "qcfingerprint" "ffmpeg signature"
for v in mpeg4 h264-low half quarter colour crop unrelated; do
    f=$WORK/$v.mp4
    # Ours: the first match's reference offset plus the copy's first timestamp.
    out=$(qc "$f" reference="$WORK/reference.json")
    first=$(printf '%s\n' "$out" | sed -n 's/.*qcfingerprint, timestamp=(guint64)\([0-9]*\).*/\1/p' | head -n1)
    off=$(printf '%s\n' "$out" | sed -n 's/.*qc-match.*matched=(boolean)true, reference-offset=(gint64)\(-*[0-9]*\).*/\1/p' | head -n1)
    if [ -n "$off" ]; then
        ours=$(awk "BEGIN { printf \"found at %.2f s\", ($off + ${first:-0}) / 1e9 }")
    else
        ours="not found"
    fi
    # FFmpeg's signature filter, full detection between the reference and the copy.
    sig=$(ffmpeg -hide_banner -i "$REF" -i "$f" \
        -filter_complex "[0:v][1:v]signature=nb_inputs=2:detectmode=full" -f null - 2>&1 || true)
    at=$(printf '%s\n' "$sig" | sed -n 's/.*matching of video 0 at \([0-9.]*\) and 1 at \([0-9.]*\).*/\1 \2/p' | head -n1)
    if [ -n "$at" ]; then
        theirs=$(echo "$at" | awk '{ printf "found at %.2f s", $1 - $2 }')
    else
        theirs="not found"
    fi
    printf '%-12s %-28s %-28s\n' "$v" "$ours" "$theirs"
done
