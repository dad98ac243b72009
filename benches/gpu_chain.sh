#!/bin/sh
# `make bench`, part 6: frames that stay on the GPU between elements. The chain vhsrestore !
# gpublur ! qcfingerprint with GPU frames (memory:WgpuBuffer), with a readback and upload
# between each element, and on the CPU, beside each element alone and the source alone, in one
# run: frames/s, CPU ms per frame, and the uploads and readbacks per frame the elements counted;
# then upscale ! gpublur ! qcfingerprint likewise, and onnxfacedetect ! gpublur on a photograph
# (the detector sampling GPU frames on the GPU, beside system memory and the CPU).
# On a software Vulkan driver (lavapipe) the GPU's work is the CPU's, so only the transfer
# counts mean much here; the speed figures are for a GPU machine.
#
#   benches/gpu_chain.sh [FRAMES] [WIDTHxHEIGHT]    (defaults 60, 640x360)
set -eu
cd "$(dirname "$0")/.."
cargo build --release -q -p gst-plugin-mediaai --example gpu_chain
# Mesa's device-selection layer prints an error line on headless machines (see the Makefile).
export NODEVICE_SELECT="${NODEVICE_SELECT:-1}"
target/release/examples/gpu_chain "${1:-60}" "${2:-640x360}"
