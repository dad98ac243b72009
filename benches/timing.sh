# Sourced by the bench scripts.
#   bench_setup DEFAULT_SECONDS [SECONDS]
#                  sets SECS (the script's argument or the default), FRAMES (25 fps),
#                  WORK (target/bench, made) and exports GST_PLUGIN_PATH (the built plugins)
#   bench_clip WxH sets CLIP to the clip of that size and SECS from scripts/make-clip.sh,
#                  made once
#   timed CMD...   runs CMD, output to $WORK/last.log, prints its wall seconds; stops the
#                  bench with the log when CMD fails
#   fps SECONDS    FRAMES over SECONDS

timed() {
    t0=$(date +%s.%N)
    "$@" >"$WORK/last.log" 2>&1 || { cat "$WORK/last.log" >&2; echo "bench: $* failed" >&2; exit 1; }
    t1=$(date +%s.%N)
    awk "BEGIN { print $t1 - $t0 }"
}

fps() { awk "BEGIN { print $FRAMES / $1 }"; }

bench_setup() {
    SECS=${2:-$1}
    FRAMES=$((SECS * 25))
    WORK=target/bench
    mkdir -p "$WORK"
    export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-$PWD/target/release}
}

bench_clip() {
    CLIP=$WORK/clip-$1-${SECS}s.mp4
    [ -s "$CLIP" ] || scripts/make-clip.sh "$CLIP" "$1" "$SECS" noaudio
}
