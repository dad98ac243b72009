#!/bin/sh
# Builds a clip with several faces that move as a tracker finds hard, for `make bench`: four
# faces cut out of the astronaut portrait (public domain, from the scikit-image wheel) over
# photographs without people — one crosses the frame in four seconds, one walks slowly, one
# runs (a fifth of the width a second), one appears from nowhere mid-clip — and a shot change
# halfway, where the background and every face jump.
#
#   scripts/make-crowd-clip.sh OUTPUT [WIDTHxHEIGHT] [SECONDS]
set -eu
OUT=$1
SIZE=${2:-1280x720}
SECS=${3:-10}
cd "$(dirname "$0")/.."
[ -r .deps/media/astronaut.png ] || python3 models/fetch.py media
W=${SIZE%x*}
H=${SIZE#*x}
HALF=$(awk "BEGIN { print $SECS / 2 }")
# Face sides as fractions of the frame height.
A=$((H / 6)); B=$((H / 8)); C=$((H / 10)); D=$((H / 16))
mkdir -p "$(dirname "$OUT")"
ffmpeg -loglevel error -y \
    -loop 1 -framerate 25 -i .deps/media/coffee.png \
    -loop 1 -framerate 25 -i .deps/media/rocket.jpg \
    -loop 1 -framerate 25 -i .deps/media/astronaut.png \
    -filter_complex "\
[0]scale=${W}:${H},setsar=1[bg1];[1]scale=${W}:${H},setsar=1[bg2];\
[bg1][bg2]overlay=enable='gte(t,${HALF})'[bg];\
[2]crop=92:112:178:64,split=4[f1][f2][f3][f4];\
[f1]scale=-2:${A}[a];[f2]hflip,scale=-2:${B}[b];[f3]scale=-2:${C},eq=brightness=-0.1[c];[f4]hflip,scale=-2:${D}[d];\
[bg][a]overlay=x='-w+(W+w)*mod(t,${HALF})/4':y='H/4'[v1];\
[v1][b]overlay=x='W*0.6-W*0.02*t+if(gte(t,${HALF}),-W*0.3,0)':y='H*0.55+H*0.01*t'[v2];\
[v2][c]overlay=x='-w+W*0.2*(t-2)':y='H*0.15+if(gte(t,${HALF}),H*0.5,0)':enable='gte(t,2)'[v3];\
[v3][d]overlay=x='W*0.8':y='H*0.7':enable='gte(t,3)',format=yuv420p[v]" \
    -map "[v]" -t "$SECS" -r 25 -c:v libx264 -preset veryfast -crf 18 -g 50 "$OUT"
