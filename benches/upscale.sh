#!/bin/sh
# `make bench`, part 5: upscale's spatial path beside GStreamer's videoscale (lanczos) and
# FFmpeg's scale (lanczos), and the network at batch-size 1, 8 and 16, on the same raw frames in
# the same run; then both paced live at 25 fps (the delay of each frame). The frames are the
# real clip's, decoded once to a raw file so that decoding costs nothing in the timed runs.
#
#   benches/upscale.sh [SECONDS]    (spatial clip length at 25 fps, default 2)
#   UPSCALE_BACKENDS="cpu gpu"      which spatial backends to time (default: cpu, and gpu when
#                                   the machine has a hardware GPU adapter)
set -eu
cd "$(dirname "$0")/.."
. benches/timing.sh
bench_setup 2 "$@"
bench_clip 1280x720

# raw WxH N: N RGBx frames of the clip scaled to WxH, in $WORK (made once).
raw() {
    RAW=$WORK/upscale-$1-$2.rgbx
    [ -s "$RAW" ] && return
    gst-launch-1.0 -q filesrc location="$CLIP" ! decodebin ! videoconvert ! videoscale \
        ! video/x-raw,format=RGBx,width="${1%x*}",height="${1#*x}" \
        ! identity eos-after="$2" ! filesink location="$RAW"
}
# source WxH: the raw frames of $RAW as a stream.
stream() {
    echo filesrc location="$RAW" blocksize=$((${1%x*} * ${1#*x} * 4)) \
        ! rawvideoparse format=rgbx width="${1%x*}" height="${1#*x}" framerate=25/1
}
rate() { awk "BEGIN { print $1 / $2 }"; }

spatial_size=720x576
raw $spatial_size "$FRAMES"
out_w=$((${spatial_size%x*} * 2))
out_h=$((${spatial_size#*x} * 2))
backends=${UPSCALE_BACKENDS:-cpu}
if [ -z "${UPSCALE_BACKENDS:-}" ] && vulkaninfo --summary 2>/dev/null | grep -q 'PHYSICAL_DEVICE_TYPE_\(DISCRETE\|INTEGRATED\)_GPU'; then
    backends="cpu gpu"
fi
printf '\nupscale 2x, %s -> %sx%s, %s frames, %s cores\n' "$spatial_size" "$out_w" "$out_h" "$FRAMES" "$(nproc)"
lanczos=$(rate "$FRAMES" "$(timed gst-launch-1.0 -q $(stream $spatial_size) \
    ! videoscale method=lanczos ! video/x-raw,width=$out_w,height=$out_h ! fakesink)")
ffmpeg_lanczos=$(rate "$FRAMES" "$(timed ffmpeg -loglevel error -f rawvideo -pix_fmt rgb0 \
    -s "$spatial_size" -r 25 -i "$RAW" -vf "scale=$out_w:$out_h:flags=lanczos" -f null -)")
printf '%-34s %10.1f fps\n' "videoscale method=lanczos" "$lanczos" "ffmpeg scale lanczos" "$ffmpeg_lanczos"
for backend in $backends; do
    f=$(rate "$FRAMES" "$(timed gst-launch-1.0 -q $(stream $spatial_size) \
        ! upscale method=spatial backend="$backend" ! fakesink)")
    printf '%-34s %10.1f fps  %5.2fx videoscale lanczos  %5.2fx ffmpeg lanczos\n' \
        "upscale spatial $backend" "$f" "$(rate "$f" "$lanczos")" "$(rate "$f" "$ffmpeg_lanczos")"
done

# The network costs about 23 GFLOP per 128x128 tile: small frames, few of them, on a CPU.
neural_size=128x96
neural_frames=32
raw $neural_size $neural_frames
printf '\nupscale 2x network (CPU, ONNX Runtime), %s, %s frames\n' "$neural_size" "$neural_frames"
first=""
for batch in 1 8 16; do
    f=$(rate $neural_frames "$(timed gst-launch-1.0 -q $(stream $neural_size) \
        ! upscale method=neural batch-size=$batch ! fakesink)")
    first=${first:-$f}
    printf '%-34s %10.2f fps  %5.2fx batch 1\n' "upscale neural batch $batch" "$f" "$(rate "$f" "$first")"
done

# Live: the clip paced at 25 fps as a camera sends it (the pipeline live), through the network
# (far more than these cores hold: it sheds late frames to the spatial path) and through the
# spatial path: each frame's delay from its due time to its leaving the upscaler.
cargo build -q --release -p gst-plugin-mediaai --example streams
LIVE=$WORK/upscale-live-$neural_size.i420
[ -s "$LIVE" ] || ffmpeg -loglevel error -y -i "$CLIP" -frames:v 75 \
    -vf "scale=${neural_size%x*}:${neural_size#*x}" -f rawvideo -pix_fmt yuv420p "$LIVE"
printf '\nupscale live, %s at 25 fps (75 frames), %s cores\n' "$neural_size" "$(nproc)"
printf '%-34s %8s %8s %8s %8s %8s\n' configuration p50_ms p99_ms max_ms late shedding
for method in neural spatial; do
    r=$(target/release/examples/streams 1 separate "$LIVE" "$neural_size" live upscale method=$method)
    field() { echo "$r" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    printf '%-34s %8s %8s %8s %8s %8s\n' "upscale method=$method" "$(field p50_delay_ms)" \
        "$(field p99_delay_ms)" "$(field max_delay_ms)" "$(field late)" "$(field shedding)"
done
