#!/usr/bin/env sh
# Overwrite the first 4 KiB of the 500 MiB blob in place with new random bytes (same size): the
# COPY must re-read and re-copy the whole file.
set -eu
dd if=/dev/urandom of="$1/blob.bin" bs=4096 count=1 conv=notrunc status=none
