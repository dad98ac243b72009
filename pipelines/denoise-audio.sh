#!/bin/sh
# Speech denoising of a file's audio with audiodenoise. A video track, when there is one, is
# copied as it is (no decoding, no re-encoding); the audio is decoded, denoised and encoded.
#
#   pipelines/denoise-audio.sh INPUT OUTPUT
#
# The container follows OUTPUT's extension: .wav (PCM; audio only), .flac (audio only),
# .mkv (FLAC audio, video copied), .mp4 / .m4a / .mov (AAC audio, video copied).
# Knobs (environment): DENOISE_OPTS (audiodenoise properties), AAC_BITRATE (bits/s, default
# 192000).
set -eu
. "$(dirname "$0")/common.sh"
DENOISE_OPTS=${DENOISE_OPTS:-}
AAC_BITRATE=${AAC_BITRATE:-192000}

case "$INFO" in
    *"audio #"*) ;;
    *) echo "denoise-audio: $IN has no audio stream" >&2; exit 1 ;;
esac
has_video=false
case "$INFO" in *"video #"*) has_video=true ;; esac

case "$OUT" in
    *.wav) mux="wavenc"; enc=""; video=false ;;
    *.flac) mux=""; enc="flacenc"; video=false ;;
    *.mkv) mux="matroskamux"; enc="flacenc"; video=$has_video ;;
    *.mp4 | *.m4a | *.mov) mux="mp4mux"; enc="avenc_aac bitrate=$AAC_BITRATE ! aacparse"; video=$has_video ;;
    *) echo "denoise-audio: unknown output type $OUT (wav, flac, mkv, mp4, m4a, mov)" >&2; exit 2 ;;
esac
if [ "$has_video" = true ] && [ "$video" = false ]; then
    echo "denoise-audio: $OUT holds audio only; the video track is left out" >&2
fi

# Written under a temporary name beside OUT, renamed once complete (see video_to_mp4).
PARTIAL=$(dirname "$OUT")/.$(basename "$OUT").part

# parsebin splits the input into parsed elementary streams: the audio branch decodes it, the
# video branch goes to the muxer untouched. Queues let both branches run in their own threads.
AUDIO_CAPS="audio/mpeg;audio/x-raw;audio/x-opus;audio/x-vorbis;audio/x-flac;audio/x-ac3;audio/x-eac3;audio/x-alac;audio/x-wma"
VIDEO_CAPS="video/x-h264;video/x-h265;video/x-vp8;video/x-vp9;video/x-av1;image/jpeg;video/mpeg"
audio="queue max-size-time=2000000000 max-size-buffers=0 max-size-bytes=0 ! decodebin \
    ! audioconvert ! $PROGRESS ! audiodenoise $DENOISE_OPTS ! audioconvert"
# shellcheck disable=SC2086
if [ -z "$mux" ]; then
    set -- filesrc location="$IN" ! parsebin name=p p. ! "$AUDIO_CAPS" ! $audio ! $enc \
        ! filesink location="$PARTIAL"
elif [ -z "$enc" ]; then
    set -- filesrc location="$IN" ! parsebin name=p p. ! "$AUDIO_CAPS" ! $audio ! $mux \
        ! filesink location="$PARTIAL"
else
    set -- filesrc location="$IN" ! parsebin name=p p. ! "$AUDIO_CAPS" ! $audio ! $enc \
        ! queue ! $mux name=mux ! filesink location="$PARTIAL"
    if [ "$video" = true ]; then
        # A second parsebin plugs the codec's own parser, which mp4mux needs to see.
        set -- "$@" p. ! "$VIDEO_CAPS" ! queue max-size-time=2000000000 max-size-buffers=0 \
            max-size-bytes=0 ! parsebin ! mux.
    fi
fi
if [ "$has_video" = true ] && [ "$video" = false ]; then
    set -- "$@" p. ! "$VIDEO_CAPS" ! queue ! fakesink sync=false
fi
run_pipeline "$@"
complete_or_fail "$PARTIAL"
mv -f "$PARTIAL" "$OUT"
PARTIAL=""
