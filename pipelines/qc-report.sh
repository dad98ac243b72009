#!/bin/sh
# Quality control of a file in one pass: its video through qcfingerprint and its sound (when
# it has one) through qcaudio, each writing a JSON report as it goes (REPORT.json and
# REPORT-audio.json), then REPORT.html beside them: a self-contained page (no network) with the
# verdict, plots of the picture's and the sound's measures over time, an events timeline and
# a thumbnail at each event. Prints the verdict (under the default profile none, what was found:
# no verdict without a delivery profile) and where the page went; exits 0 whatever the verdict
# is, 1 when the input is truncated (the report still written).
#
#   pipelines/qc-report.sh INPUT REPORT.json
#
# Knobs (environment): QC_PROFILE (none, ebu-r128, netflix, dpp; default none), QC_OPTS
# (qcfingerprint properties, e.g. "black-min-duration=0.5"), QC_AUDIO_OPTS (qcaudio's).
set -eu
. "$(dirname "$0")/common.sh"
need_video
base=${OUT%.json}
AUDIO_REPORT=-
PROFILE=${QC_PROFILE:-none}
# One thumbnail a second (numbered from 0), for the page; removed once it is written.
THUMBS=$base.thumbs
rm -rf "$THUMBS"
mkdir -p "$THUMBS"
# shellcheck disable=SC2086
set -- filesrc location="$IN" ! decodebin name=dec \
    dec. ! queue max-size-time=2000000000 max-size-buffers=0 max-size-bytes=0 \
    ! videoconvert ! video/x-raw,format=I420 ! $PROGRESS ! tee name=t \
    t. ! queue ! qcfingerprint report-location="$OUT" profile="$PROFILE" ${QC_OPTS:-} ! fakesink \
    t. ! queue ! videorate drop-only=true ! video/x-raw,framerate=1/1 ! videoscale \
    ! video/x-raw,width=192,pixel-aspect-ratio=1/1 ! jpegenc quality=80 \
    ! multifilesink location="$THUMBS/%06d.jpg"
case "$INFO" in
    *"audio #"*)
        AUDIO_REPORT=$base-audio.json
        # shellcheck disable=SC2086
        set -- "$@" dec. ! queue max-size-time=2000000000 max-size-buffers=0 max-size-bytes=0 \
            ! audioconvert ! qcaudio report-location="$AUDIO_REPORT" profile="$PROFILE" \
            ${QC_AUDIO_OPTS:-} ! fakesink
        ;;
esac
run_pipeline "$@"
python3 "$(dirname "$0")/qc-html.py" "$OUT" "$AUDIO_REPORT" "$THUMBS" "$base.html" "$IN"
rm -rf "$THUMBS"
# A truncated input is a broken file as well as a failing programme: the report is written,
# and the exit status says the input is not whole.
set -- "$OUT"
[ "$AUDIO_REPORT" = - ] || set -- "$@" "$AUDIO_REPORT"
if grep -q '"event":"truncated"' "$@" 2>/dev/null; then
    echo "$NAME: failed: $IN ends before its container says it should: the file is truncated (see $base.html)" >&2
    exit 1
fi
