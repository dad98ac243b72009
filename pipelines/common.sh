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
