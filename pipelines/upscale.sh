#!/bin/sh
# Super-resolution of a file's video: decode, upscale (2x by default), encode H.264 into MP4;
# the audio track, when there is one, is re-encoded to AAC.
#
#   pipelines/upscale.sh INPUT OUTPUT
#
# Knobs (environment): UPSCALE_OPTS (upscale properties, e.g. "scale=4" or "method=spatial"),
# X264_OPTS (x264enc properties), AAC_BITRATE (bits/s, default 192000).
set -eu
. "$(dirname "$0")/common.sh"
UPSCALE_OPTS=${UPSCALE_OPTS:-}
video_to_mp4 "upscale $UPSCALE_OPTS"
