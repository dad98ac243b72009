#!/bin/sh
# Quality control of a file: decodes its video and runs it through qcfingerprint, which writes
# a JSON report (per-frame statistics, black and frozen runs) as it goes.
#
#   pipelines/qc-report.sh INPUT REPORT.json
#
# Knobs (environment): QC_OPTS (qcfingerprint properties, e.g. "black-min-duration=0.5").
set -eu
. "$(dirname "$0")/common.sh"
case "$INFO" in
    *"video #"*) ;;
    *) echo "$NAME: $IN has no video stream" >&2; exit 1 ;;
esac
# shellcheck disable=SC2086
run_pipeline filesrc location="$IN" ! decodebin ! videoconvert ! video/x-raw,format=I420 \
    ! $PROGRESS ! qcfingerprint report-location="$OUT" ${QC_OPTS:-} ! fakesink
