#!/usr/bin/env bash
# Untimed preparation steps, called by hyperfine --prepare (bench/build.sh; from the shared kit).
#   prep.sh cold BUILDER CASE
# Re-creates $BENCH_WORK/build-cold/CASE as a fresh copy of the case context. The copy gets new
# mtimes, so BuildKit's incremental context sync cannot reuse what it received last time
# and must transfer the whole context (the other builders always read/send it in full).
# Removes the image from the previous cold run, flushes dirty pages so write-back of the
# copy does not overlap the timed build.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/builders.sh"
action=$1; b=$2; c=$3
case $action in
  cold)
    dst=$BENCH_WORK/build-cold/$c
    rm -rf "$dst"; mkdir -p "$BENCH_WORK/build-cold"
    cp -r "$BENCH_WORK/ctx/$c" "$dst"
    rm_image "$b" "$c"
    sync ;;
  *) echo "unknown action $action" >&2; exit 2 ;;
esac
