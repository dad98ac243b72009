#!/bin/sh
# `make bench`, part 4: quality control. qcfingerprint (statistics, black and freeze runs,
# fingerprints, legal range, photosensitive flashes) beside FFmpeg's
# signalstats,blackdetect,freezedetect,signature on the same 1080p frames, decoded once to raw
# I420 so that neither pays for decoding; then the whole QC of picture and sound in one run:
# qcfingerprint and qcaudio (R128 loudness, true peak, loudness range, clipping, silence, DC,
# phase) beside FFmpeg's video set and ebur128=peak=true,astats on 48 kHz stereo speech of
# the same length. Best of 3 runs each.
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
# The sound: the ALSA speech samples looped to the clip's length, 48 kHz stereo.
WAV=$WORK/speech-${SECS}s.wav
[ -s "$WAV" ] || ffmpeg -loglevel error -y -stream_loop -1 -i .deps/media/alsa-Front_Left.wav \
    -t "$SECS" -ar 48000 -ac 2 -c:a pcm_s16le "$WAV"
c=$(best gst-launch-1.0 -q filesrc location="$RAW" blocksize=3110400 \
    ! rawvideoparse format=i420 width=1920 height=1080 framerate=25/1 ! qcfingerprint ! fakesink \
    filesrc location="$WAV" ! wavparse ! audioconvert ! qcaudio ! fakesink)
d=$(best ffmpeg -loglevel error -f rawvideo -pix_fmt yuv420p -s 1920x1080 -r 25 -i "$RAW" -i "$WAV" \
    -filter_complex "[0:v]signalstats,blackdetect,freezedetect,signature[v];[1:a]ebur128=peak=true,astats[a]" \
    -map "[v]" -map "[a]" -f null -)
printf '\n1920x1080 quality control, %s frames, %s cores\n' "$FRAMES" "$(nproc)"
printf '%-64s %14s %14s %8s\n' "" "ours" "ffmpeg" "ratio"
printf '%-64s %10.1f fps %10.1f fps %7.2fx\n' "video (FFmpeg: signalstats,blackdetect,freezedetect,signature)" "$a" "$b" "$(awk "BEGIN { print $a / $b }")"
printf '%-64s %10.1f fps %10.1f fps %7.2fx\n' "video + audio (FFmpeg: the same, ebur128=peak=true,astats)" "$c" "$d" "$(awk "BEGIN { print $c / $d }")"
