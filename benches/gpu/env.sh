#!/bin/sh
# On the GPU machine, from the project root, with .dev laid out as shared/device/README.md says
# (debs, the plugin library in .dev/plugins, the streams example as .dev/streams, the models in
# .dev/models) and ONNX Runtime's CUDA build unpacked into /tmp/ort.
# Sourced on the GPU machine from the project root: GStreamer, the plugins, CUDA's libraries.
. .dev/device/setup.sh   # the device recipe (shared/device/README.md) unpacked into .dev
export GST_PLUGIN_PATH=$PWD/.dev/plugins MEDIAAI_MODEL_DIR=$PWD/.dev/models NODEVICE_SELECT=1
export ORT_DYLIB_PATH=/tmp/ort/libonnxruntime.so
P=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))')
for d in $P/nvidia/*/lib; do LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$d; done; export LD_LIBRARY_PATH
RAW=/tmp/clip-1080p.i420
[ -s $RAW ] || python3 benches/gpu/mkclip.py $RAW 200
S="env -u GST_PLUGIN_PATH .dev/streams"
