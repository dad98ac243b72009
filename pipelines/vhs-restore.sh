#!/bin/sh
# Analog tape restoration in one pass: decode, vhsrestore (deinterlace, denoise, chroma delay,
# levels), encode H.264 into MP4; the audio track, when there is one, is re-encoded to AAC.
#
#   pipelines/vhs-restore.sh INPUT OUTPUT
#
# Knobs (environment): RESTORE_OPTS (vhsrestore properties, e.g. "rate=field
# head-switch-lines=6"; default "chroma-bleed=10": a transfer wants the chroma repair more
# than the frame rate it costs), X264_OPTS (x264enc properties), AAC_BITRATE (bits/s, default
# 192000).
set -eu
. "$(dirname "$0")/common.sh"
RESTORE_OPTS=${RESTORE_OPTS:-chroma-bleed=10}
video_to_mp4 "vhsrestore $RESTORE_OPTS"
