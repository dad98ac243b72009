#!/bin/sh
# Called by `meson install`: removes the per-element plugin libraries of earlier releases from
# GStreamer's plugin directory (argument), which libgstmediaai.so replaces.
set -eu
dir="${DESTDIR:-}$1"
for p in facedetect gpublur audiodenoise vhsrestore qcfingerprint upscale; do
    if [ -f "$dir/libgst$p.so" ]; then
        echo "removing $dir/libgst$p.so (now part of libgstmediaai.so)"
        rm -f "$dir/libgst$p.so"
    fi
done
