#!/bin/sh
# Called by meson.build: cargo build --release of the plugin library (every element), then the
# .so file is copied to meson's build directory. MEDIAAI_PLUGIN_LIBRARY names a library built
# already (the test suite installs the one it tested) to copy instead.
#   meson-cargo.sh CARGO SOURCE_DIR BUILD_DIR
set -eu
CARGO=$1 SRC=$2 BUILD=$3
if [ -n "${MEDIAAI_PLUGIN_LIBRARY:-}" ]; then
    cp "$MEDIAAI_PLUGIN_LIBRARY" "$BUILD/libgstmediaai.so"
    exit 0
fi
"$CARGO" build --release --manifest-path "$SRC/Cargo.toml" --target-dir "$BUILD/cargo" -p gst-plugin-mediaai
cp "$BUILD/cargo/release/libgstmediaai.so" "$BUILD/libgstmediaai.so"
