#!/bin/sh
# Face anonymisation in one pass: decode, detect faces, blur them, encode H.264 into MP4, and
# carry the audio track (re-encoded to AAC) when the input has one.
#
#   pipelines/anonymize.sh INPUT OUTPUT
#
# Knobs (environment): DETECT_OPTS (onnxfacedetect properties), BLUR_OPTS (gpublur
# properties), KEEP_FACES (a folder of photographs of people to leave visible: onnxfacekeep
# between the two), X264_OPTS (x264enc properties), AAC_BITRATE (bits/s,
# default 192000).
set -eu
. "$(dirname "$0")/common.sh"
DETECT_OPTS=${DETECT_OPTS:-}
# Both elements at their defaults: the detector looks at every fourth frame (sooner at new,
# lost or surprising faces and at shot changes) and tells the blur, which holds as many frames
# back and masks each face where it was between detections.
BLUR_OPTS=${BLUR_OPTS:-}
# Frames stay I420 from the decoder to the encoder (4:2:0, the H.264 profile every player
# decodes): the detector samples it directly and the blur works on the planes, so no colour
# conversion runs unless the decoder gives another format.
KEEP=""
if [ -n "${KEEP_FACES:-}" ]; then
    KEEP="! onnxfacekeep keep-faces=\"$KEEP_FACES\" "
fi
video_to_mp4 "onnxfacedetect post-messages=false $DETECT_OPTS $KEEP! queue max-size-buffers=3 ! gpublur $BLUR_OPTS"
