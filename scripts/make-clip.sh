#!/bin/sh
# Builds a clip that moves like footage out of a real photograph: the astronaut portrait
# (public domain, from the scikit-image wheel) pans slowly across a 16:9 frame while it zooms
# a little, with a speech-band test tone as the audio track.
#
#   scripts/make-clip.sh OUTPUT [WIDTHxHEIGHT] [SECONDS] [audio|noaudio]
set -eu
OUT=$1
SIZE=${2:-1280x720}
SECS=${3:-8}
AUDIO=${4:-audio}
cd "$(dirname "$0")/.."
PHOTO=.deps/media/astronaut.png
[ -r "$PHOTO" ] || python3 models/fetch.py media
W=${SIZE%x*}
H=${SIZE#*x}
# The portrait is scaled to 80% of the frame height and slides left to right.
S=$((H * 8 / 10))
set -- -loglevel error -y -f lavfi -i "color=c=0x404850:s=${SIZE}:r=25:d=${SECS}" -loop 1 -framerate 25 -i "$PHOTO"
if [ "$AUDIO" = audio ]; then
    set -- "$@" -f lavfi -i "sine=frequency=330:sample_rate=48000:duration=${SECS}"
fi
set -- "$@" -filter_complex "[1]scale=w='${S}+t*8':h='${S}+t*8':eval=frame,format=yuv420p[p];[0][p]overlay=x='(W-w)*t/${SECS}':y='(H-h)/2':shortest=1,format=yuv420p[v]" \
    -map "[v]" -t "$SECS" -c:v libx264 -preset veryfast -crf 18 -g 50
if [ "$AUDIO" = audio ]; then
    set -- "$@" -map 2 -c:a aac -b:a 128k
fi
mkdir -p "$(dirname "$OUT")"
ffmpeg "$@" "$OUT"
