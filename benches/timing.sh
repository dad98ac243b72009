# Sourced by the bench scripts (needs WORK and FRAMES set).
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
