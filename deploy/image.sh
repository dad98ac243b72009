#!/bin/sh
# The runtime image (deploy/Containerfile) with podman, from the project root.
#
#   deploy/image.sh build [TAG]      stage `meson install` under deploy/stage, build TAG
#   deploy/image.sh run ARGS...      podman run --rm with this host's options (below)
#
# TAG defaults to gst-media-ai. Knobs (environment):
#   BASE         the Debian 12 image to start from (default docker.io/library/debian:12-slim).
#                BASE=debootstrap makes one from Debian's archive (debootstrap --variant=minbase,
#                imported as localhost/debian:12-minbase, made once) where no image registry
#                can be reached.
#   PLUGIN       a plugin library built already (default: meson's cargo release build).
#   PODMAN_OPTS  options for podman build and run. Where the container runtime cannot set
#                resource limits itself (a container inside a container, as on the CI machine:
#                crun and runc's defaults fail with "error setting rlimit"), name runc and the
#                limits this shell has, e.g.
#                PODMAN_OPTS="--runtime runc --ulimit nofile=$(ulimit -n) --ulimit nproc=4096"
set -eu
cd "$(dirname "$0")/.."
OPTS=${PODMAN_OPTS:-}
what=${1:-}
[ $# -gt 0 ] && shift
case "$what" in
build)
    TAG=${1:-gst-media-ai}
    BASE=${BASE:-docker.io/library/debian:12-slim}
    if [ "$BASE" = debootstrap ]; then
        BASE=localhost/debian:12-minbase
        if ! podman image exists "$BASE"; then
            root=$(mktemp -d)
            trap 'rm -rf "$root"' EXIT INT TERM
            echo "image: debootstrap of Debian 12 (minbase) into $root"
            debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian \
                >"$root.log" 2>&1 || { tail -5 "$root.log" >&2; rm -f "$root.log"; exit 1; }
            rm -f "$root.log"
            tar -C "$root" -c . | podman import - "$BASE" >/dev/null
        fi
    fi
    build=$(mktemp -d)
    rm -rf deploy/stage
    echo "image: meson install into deploy/stage (prefix /opt/gst-media-ai)"
    meson setup "$build" --prefix=/opt/gst-media-ai >"$build.log" 2>&1 &&
        MEDIAAI_PLUGIN_LIBRARY=${PLUGIN:-} DESTDIR="$PWD/deploy/stage" \
            meson install -C "$build" >>"$build.log" 2>&1 ||
        { tail -20 "$build.log" >&2; rm -rf "$build" "$build.log"; exit 1; }
    rm -rf "$build" "$build.log"
    echo "image: podman build -t $TAG from $BASE"
    # shellcheck disable=SC2086
    podman build $OPTS --build-arg BASE="$BASE" -f deploy/Containerfile -t "$TAG" . >/dev/null
    echo "image: $TAG built"
    ;;
run)
    # shellcheck disable=SC2086
    exec podman run --rm $OPTS "$@"
    ;;
*)
    echo "usage: deploy/image.sh build [TAG] | deploy/image.sh run ARGS..." >&2
    exit 2
    ;;
esac
