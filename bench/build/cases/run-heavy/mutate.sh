#!/usr/bin/env sh
# Change the 11th of the 20 RUN steps (a new shell comment each call), so steps 11-20 rerun and
# steps 1-10 stay cached. The files written are unchanged.
set -eu
f=$1/Dockerfile
sed -e "s|^\(RUN mkdir -p /w/11 .*; done\)\( # edit .*\)\{0,1\}\$|\1 # edit $(date +%s%N) $$|" "$f" > "$f.tmp"
mv "$f.tmp" "$f"
