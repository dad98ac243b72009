#!/bin/sh
# Prints the Python of the private venv that holds the comparison tools (deface 1.5.0 and what
# it needs, from PyPI), creating it on first use.
set -eu
cd "$(dirname "$0")/.."
VENV=.deps/bench-venv
if [ ! -x "$VENV/bin/deface" ]; then
    echo "bench: installing deface 1.5.0 into $VENV (PyPI)" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q deface==1.5.0 onnxruntime==1.31.1 onnx opencv-python-headless >&2
fi
echo "$PWD/$VENV/bin/python"
