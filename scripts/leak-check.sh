#!/bin/sh
# The leak check of `make soak`: every element's state cycles (the state_cycles example) under
# valgrind's memcheck; fails when a block definitely lost was allocated through our code (a
# stack through one of the project's plugins). Losses wholly inside GStreamer, GLib, ONNX
# Runtime or the C library are listed but not ours to fix.
#
#   scripts/leak-check.sh TARGET_DIR [CYCLES]    (TARGET_DIR: target/ci, with the plugins and
#                                                 the example built)
set -eu
cd "$(dirname "$0")/.."
DIR=$1
CYCLES=${2:-5}
command -v valgrind >/dev/null 2>&1 || {
    echo "leak-check: valgrind is missing (apt-get install valgrind)" >&2
    exit 1
}
LOG=$DIR/leak-check.log
GST_PLUGIN_PATH=$PWD/$DIR GST_REGISTRY_FORK=no valgrind --leak-check=full \
    --show-leak-kinds=definite --num-callers=40 --log-file="$LOG" \
    "$DIR/examples/state_cycles" "$CYCLES"
python3 - "$LOG" <<'PY'
import re, sys
log = open(sys.argv[1]).read().splitlines()
ours = re.compile(r"libgstmediaai\.so|mediaai|gst(facedetect|gpublur|audiodenoise|vhsrestore|qcfingerprint|upscale)::")
records, current = [], None
for line in log:
    body = re.sub(r"^==\d+== ?", "", line)
    if "definitely lost in loss record" in body:
        current = [body]
        records.append(current)
    elif current is not None:
        if body.strip():
            current.append(body)
        else:
            current = None
summary = [re.sub(r"^==\d+== ?", "", l) for l in log if "definitely lost:" in l]
print("leak-check:", summary[-1].strip() if summary else "no leak summary")
mine = [r for r in records if any(ours.search(l) for l in r)]
print(f"leak-check: {len(records)} definitely-lost records, {len(mine)} through our code")
for r in mine:
    print("\n".join(r) + "\n")
sys.exit(1 if mine else 0)
PY
