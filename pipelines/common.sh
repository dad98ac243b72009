# Sourced by the pipeline scripts after `set -eu`, with the script's arguments: checks that
# there are two (INPUT OUTPUT) and that GStreamer can read INPUT, then sets IN, OUT and INFO
# (gst-discoverer-1.0's report of INPUT). NAME is the script's name for messages.
NAME=$(basename "$0" .sh)
if [ $# -ne 2 ]; then
    echo "usage: $0 INPUT OUTPUT" >&2
    exit 2
fi
IN=$1
OUT=$2
if [ ! -r "$IN" ]; then
    echo "$NAME: cannot read $IN" >&2
    exit 1
fi
INFO=$(gst-discoverer-1.0 "$IN" 2>&1) || {
    echo "$NAME: $IN is not a media file GStreamer can read:" >&2
    echo "$INFO" >&2
    exit 1
}

# Decodes IN, runs its video (I420) through FILTERS (a gst-launch fragment, split on spaces),
# encodes H.264 (X264_OPTS, default speed-preset=veryfast) into MP4 at OUT, and re-encodes the
# audio track, when there is one, to AAC (AAC_BITRATE, default 192000). Queues give decoding,
# the filters and encoding threads of their own.
#   video_to_mp4 FILTERS
video_to_mp4() {
    case "$INFO" in
        *"video #"*) ;;
        *) echo "$NAME: $IN has no video stream" >&2; exit 1 ;;
    esac
    # shellcheck disable=SC2086
    set -- filesrc location="$IN" ! decodebin name=dec \
        dec. ! queue max-size-time=2000000000 max-size-buffers=0 max-size-bytes=0 \
        ! videoconvert ! video/x-raw,format=I420 ! $1 ! queue max-size-buffers=3 \
        ! x264enc ${X264_OPTS:-speed-preset=veryfast} ! h264parse ! queue ! mp4mux name=mux \
        ! filesink location="$OUT"
    case "$INFO" in
        *"audio #"*)
            set -- "$@" dec. ! queue max-size-time=2000000000 max-size-buffers=0 max-size-bytes=0 \
                ! audioconvert ! audioresample ! avenc_aac bitrate="${AAC_BITRATE:-192000}" \
                ! aacparse ! queue ! mux.
            ;;
    esac
    exec gst-launch-1.0 -q -e "$@"
}
