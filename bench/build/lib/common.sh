# shellcheck shell=bash
# Common settings for bench/build.sh (adapted from the shared benchmark kit). Sourced by
# build.sh, make-base.sh and lib/prep.sh. Everything can be overridden from the environment.

BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# The tsbuild checkout (bench/build/../..), whose dist/ is benchmarked.
REPO_DIR=${REPO_DIR:-$(cd "$BENCH_DIR/../.." && pwd)}
# Scratch space for generated rootfs, contexts and OCI bundles (kept out of the git tree:
# the big-file + many-files contexts are ~600 MB).
BENCH_WORK=${BENCH_WORK:-/var/tmp/tsbench}

# Use the distro docker CLI (20.10, talks to the running dockerd). /usr/local/bin/docker is a
# different (newer, static) client and must not be used here.
DOCKER=${DOCKER:-/usr/bin/docker}
BUILDAH=${BUILDAH:-/usr/bin/buildah}
BUSYBOX=${BUSYBOX:-/usr/bin/busybox}

# Every image this kit creates is named tsbb-<builder>-<case> so cleanup never touches
# anything else (the shared kit's images are tsbench-*).
IMG_PREFIX=${IMG_PREFIX:-tsbb}

BASE_IMAGE=${BASE_IMAGE:-bbase:latest}
BASE_LABEL=org.tsbench.rootfs.sha256

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
