# Sourced by the pipeline scripts after `set -eu`, with the script's arguments: checks that
# there are two (INPUT OUTPUT) and that GStreamer can read INPUT, then sets IN, OUT and INFO
# (gst-discoverer-1.0's report of INPUT). NAME is the script's name for messages.
#
# While a pipeline runs, one line on stderr shows where it is (position / duration, fps, time
# left) when stderr is a terminal; QUIET=1 silences it. A failure prints one line saying what
# failed (VERBOSE=1: GStreamer's whole report) and exits non-zero.
NAME=$(basename "$0" .sh)
# The plugins choose their GPU adapter themselves; Mesa's device-select layer would only probe
# for a display and print "error: XDG_RUNTIME_DIR is invalid" on a headless machine.
NODEVICE_SELECT=${NODEVICE_SELECT:-1}
export NODEVICE_SELECT
# Measures the progress where it is placed (gst-launch fragment); see run_pipeline.
PROGRESS="progressreport silent=true do-query=false update-freq=1"
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
# Discovery may take its time on a loaded machine or a slow share: 30 s rather than the
# discoverer's 10 (a clean-clone CI run, its tests side by side, once timed out on a truncated
# MP4 that is read in 0.4 s alone).
DISCOVER_S=30
INFO=$(gst-discoverer-1.0 -t "$DISCOVER_S" "$IN" 2>&1) || {
    echo "$NAME: $IN is not a media file GStreamer can read:" >&2
    echo "$INFO" >&2
    exit 1
}
# gst-discoverer-1.0 exits 0 when it could not read the file, and says why on the line after
# "An error was encountered" (a text file: "Could not determine type of stream."; an MP4
# whose index at its end was cut off: "This file contains no playable streams.").
case "$INFO" in
    *"An error was encountered"*)
        why=$(printf '%s\n' "$INFO" | awk 'found && NF { sub(/^ +/, ""); print; exit } /An error was encountered/ { found = 1 }')
        case "$why" in
            *"no playable streams"*) why="$why An MP4 or MOV cut short loses its index where that is written at its end: the file may be truncated." ;;
        esac
        echo "$NAME: $IN is not a media file GStreamer can read: ${why:-no reason given}" >&2
        exit 1
        ;;
esac

# Checks each KEY=VALUE of OPTIONS (an *_OPTS knob, split on spaces) against ELEMENT's property
# as gst-inspect-1.0 describes it: a number within its range, one of an enum's values, true or
# false. Otherwise says what is allowed and exits 2 before anything runs (gst-launch-1.0 would
# only warn and take the default, or fail without listing the values).
#   check_options ELEMENT OPTIONS
check_options() {
    [ -n "$2" ] || return 0
    spec=$(gst-inspect-1.0 "$1" 2>/dev/null) || return 0
    for kv in $2; do
        case "$kv" in *=*) ;; *) continue ;; esac
        key=${kv%%=*}
        value=${kv#*=}
        problem=$(printf '%s\n' "$spec" | awk -v key="$key" -v value="$value" '
            function number(s) { return s ~ /^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$/ }
            $0 ~ "^  " key " +:" { inside = 1; next }
            inside && /^  [^ ]/ { inside = 0 }
            !inside { next }
            /Range:/ {
                s = $0; sub(/.*Range: */, "", s); split(s, r, / +/); lo = r[1]; hi = r[3]
                if (!number(value)) problem = "not a number (" lo " to " hi ")"
                else if (value + 0 < lo + 0 || value + 0 > hi + 0) problem = "out of range (allowed: " lo " to " hi ")"
            }
            /Boolean/ && value !~ /^(true|false|TRUE|FALSE|yes|no|1|0)$/ { problem = "not true or false" }
            /Enum "/ { enum = 1 }
            enum && /^ +\([-0-9]+\): / {
                n = substr($1, 2, length($1) - 3); values = values sep $2; sep = ", "
                if (value == $2 || value == n) ok = 1
            }
            END {
                if (enum && !ok) problem = "not one of the allowed values: " values
                if (problem != "") print problem
            }')
        if [ -n "$problem" ]; then
            echo "$NAME: $1 $key=$value: $problem" >&2
            exit 2
        fi
    done
}
check_options onnxfacedetect "${DETECT_OPTS:-}"
check_options gpublur "${BLUR_OPTS:-}"
check_options vhsrestore "${RESTORE_OPTS:-}"
check_options upscale "${UPSCALE_OPTS:-}"
check_options audiodenoise "${DENOISE_OPTS:-}"
check_options qcfingerprint "${QC_OPTS:-}"
check_options qcaudio "${QC_AUDIO_OPTS:-}"
check_options x264enc "${X264_OPTS:-}"
[ -z "${QC_PROFILE:-}" ] || check_options qcfingerprint "profile=$QC_PROFILE"

# A file being written, removed if the script ends before it is complete (see run_pipeline),
# killed included: a signal ends the script through its EXIT trap.
PARTIAL=""
trap 'exit 130' INT
trap 'exit 143' TERM

# Returns when gst-discoverer-1.0's report of IN (INFO) has a video stream; else says why and
# exits 1: the plugins GStreamer lacks to read it (the discoverer lists a container or codec
# whose plugin is not installed, or failed to load), a discovery that timed out, or no video
# stream in the file.
need_video() {
    case "$INFO" in
        *"video #"*) return 0 ;;
        *"Missing plugins"*)
            missing=$(printf '%s\n' "$INFO" | awk -F'|' '/^ *\(gstreamer\|/ { printf "%s%s", sep, $4; sep = ", " }')
            echo "$NAME: $IN needs GStreamer plugins that are not installed or did not load: ${missing:-not named} (gst-inspect-1.0 -b lists plugins that failed to load)" >&2
            ;;
        *"timed out"*) echo "$NAME: $IN could not be read in time: gst-discoverer-1.0 timed out on it after $DISCOVER_S s" >&2 ;;
        *) echo "$NAME: $IN has no video stream" >&2 ;;
    esac
    exit 1
}

# Decodes IN, runs its video (I420) through FILTERS (a gst-launch fragment, split on spaces),
# encodes H.264 (X264_OPTS, default speed-preset=veryfast) into MP4 at OUT, and re-encodes the
# audio track, when there is one, to AAC (AAC_BITRATE, default 192000). Queues give decoding,
# the filters and encoding threads of their own. The MP4 is written under a temporary name
# beside OUT and renamed once complete: a failure, an interrupt or an input that ends before
# its container says it should (a truncated file, which plays to where its bytes stop without
# an error) leaves no OUT that looks done.
#   video_to_mp4 FILTERS
video_to_mp4() {
    need_video
    PARTIAL=$(dirname "$OUT")/.$(basename "$OUT").part
    # shellcheck disable=SC2086
    set -- filesrc location="$IN" ! decodebin name=dec \
        dec. ! queue max-size-time=2000000000 max-size-buffers=0 max-size-bytes=0 \
        ! videoconvert ! video/x-raw,format=I420 ! $PROGRESS ! $1 ! queue max-size-buffers=3 \
        ! x264enc ${X264_OPTS:-speed-preset=veryfast} ! h264parse ! queue ! mp4mux name=mux \
        ! filesink location="$PARTIAL"
    case "$INFO" in
        *"audio #"*)
            set -- "$@" dec. ! queue max-size-time=2000000000 max-size-buffers=0 max-size-bytes=0 \
                ! audioconvert ! audioresample ! avenc_aac bitrate="${AAC_BITRATE:-192000}" \
                ! aacparse ! queue ! mux.
            ;;
    esac
    run_pipeline "$@"
    complete_or_fail "$PARTIAL"
    mv -f "$PARTIAL" "$OUT"
    PARTIAL=""
}

# Fails (one line, exit 1) when WRITTEN, the output of a whole run over IN, lasts less than
# the duration IN's container declares, by more than three frames and 0.2 s: IN is truncated
# or damaged, and its output would look like the whole programme.
complete_or_fail() {
    declared=$(duration_s)
    written=$(INFO=$(gst-discoverer-1.0 -t "$DISCOVER_S" "$1" 2>&1) && duration_s) || written=0
    short=$(awk -v d="${declared:-0}" -v w="${written:-0}" -v r="$(frame_rate)" 'BEGIN {
        tol = (r > 0 ? 3 / r : 0.12); if (tol < 0.2) tol = 0.2
        if (d > 0 && w + tol < d) printf "%.2f", w }')
    if [ -n "$short" ]; then
        echo "$NAME: failed: $IN ends after ${short} s of the ${declared} s its container declares: the file is truncated or damaged" >&2
        exit 1
    fi
}

# Media seconds of "H:MM:SS.fraction" as gst-discoverer-1.0 prints a duration, and the frame
# rate of the first video stream ("N/D"), from INFO.
duration_s() {
    printf '%s\n' "$INFO" | awk -F'[: ]+' '/Duration:/ { print $3 * 3600 + $4 * 60 + $5; exit }'
}
frame_rate() {
    printf '%s\n' "$INFO" | awk '/Frame rate:/ { split($3, r, "/"); if (r[2] > 0) print r[1] / r[2]; exit }'
}

# Runs gst-launch-1.0 on the pipeline "$@" (which holds $PROGRESS where progress is measured),
# with EOS on interrupt, and exits with its status.
run_pipeline() {
    err=$(mktemp)
    # shellcheck disable=SC2016
    trap 'rm -f "$err" ${PARTIAL:+"$PARTIAL"}' EXIT
    if [ -t 2 ] && [ -z "${QUIET:-}" ]; then
        # gst-launch's messages go to the progress line, a line at a time (stdbuf: its stdout
        # is a pipe); its status comes out on fd 3.
        line_buffered=""
        ! command -v stdbuf >/dev/null || line_buffered="stdbuf -oL"
        status=$({ { $line_buffered gst-launch-1.0 -m -e "$@" 2>"$err"; echo $? >&3; } \
            | progress_line "$(duration_s)" "$(frame_rate)"; } 3>&1 >&2)
    else
        status=0
        gst-launch-1.0 -q -e "$@" >/dev/null 2>"$err" || status=$?
    fi
    if [ "$status" -ne 0 ]; then
        if [ -n "${VERBOSE:-}" ]; then
            grep -v 'XDG_RUNTIME_DIR' "$err" >&2 || true
        fi
        # The first error: "ERROR: from element /GstPipeline:pipeline0/GstFileSrc:filesrc0:
        # MESSAGE", then "Additional debug info:", the source location and the details, if
        # any (not gst-launch's own lines after it, as "ERROR: pipeline doesn't want to
        # preroll.").
        why=$(awk '
            /^ERROR: from element / && msg == "" {
                s = $0; sub(/^ERROR: from element /, "", s); i = index(s, ": ")
                n = split(substr(s, 1, i - 1), path, ":"); element = path[n]; msg = substr(s, i + 2)
                next
            }
            msg != "" && /^Additional debug info:/ { debug = 1; next }
            debug == 1 { debug = 2; next }
            debug == 2 { if ($0 !~ /^(ERROR|WARNING|Failed|Setting|Execution|Got)/) detail = " " $0; exit }
            END { if (msg != "") print msg detail " (" element ")" }' "$err")
        [ -n "$why" ] || why=$(grep -v 'XDG_RUNTIME_DIR' "$err" | grep -m 1 . || echo "gst-launch-1.0 exit status $status")
        hint="; VERBOSE=1 shows GStreamer's report"
        [ -z "${VERBOSE:-}" ] || hint=""
        echo "$NAME: failed: $why$hint" >&2
        exit 1
    fi
    # What GStreamer warned of (a provider falling back, a missing GPU) is the user's to read;
    # VERBOSE=1 shows all it said.
    if [ -n "${VERBOSE:-}" ]; then
        grep -v 'XDG_RUNTIME_DIR' "$err" >&2 || true
    else
        grep '^WARNING' "$err" >&2 || true
    fi
}

# Reads gst-launch-1.0 -m's messages and keeps one line on stderr (this function's stdout)
# up to date from progressreport's: position / duration, fps (or speed without video), time
# left; a last line when the run ends. DURATION in seconds, RATE frames per second (may be
# empty).
progress_line() {
    awk -v name="$NAME" -v duration="${1:-0}" -v rate="${2:-0}" '
        function now() { srand(); return srand() }
        function hms(s) { s = int(s + 0.5); return sprintf("%d:%02d:%02d", s / 3600, (s % 3600) / 60, s % 60) }
        BEGIN { start = now() }
        /progressreport.*\(element\): progress,/ {
            match($0, /current=\(gint64\)[0-9]+/)
            at = substr($0, RSTART + 16, RLENGTH - 16) + 0
            spent = now() - start
            # (A single picture or a clip under a second has no useful position to show.)
            line = name ": " hms(at) (duration >= 1 ? " / " hms(duration) sprintf(" (%d%%)", 100 * at / duration) : "")
            if (spent > 0 && at > 0) {
                speed = at / spent
                line = line (rate > 0 ? sprintf(", %.1f fps", speed * rate) : sprintf(", %.1fx real time", speed))
                if (duration > at) line = line ", " hms((duration - at) / speed) " left"
            }
            printf "\r%-78s", line
            fflush()
            shown = 1
        }
        END {
            spent = now() - start
            if (shown) printf "\r%-78s\r", ""
            printf "%s: done in %s%s\n", name, hms(spent), (spent > 0 && duration > 0 && rate > 0 ? sprintf(", %.1f fps", duration * rate / spent) : "")
        }'
}
