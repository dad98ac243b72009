#!/bin/sh
# Called by meson.build: cargo build --release of the named plugins, then the .so files are
# copied to meson's build directory.
#   meson-cargo.sh CARGO SOURCE_DIR BUILD_DIR PLUGIN...
set -eu
CARGO=$1 SRC=$2 BUILD=$3
shift 3
args=""
for p in "$@"; do args="$args -p gst-plugin-$p"; done
# shellcheck disable=SC2086
"$CARGO" build --release --manifest-path "$SRC/Cargo.toml" --target-dir "$BUILD/cargo" $args
for p in "$@"; do
    cp "$BUILD/cargo/release/libgst$p.so" "$BUILD/libgst$p.so"
done
