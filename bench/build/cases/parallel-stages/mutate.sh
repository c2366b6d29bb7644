#!/usr/bin/env sh
# Change stage s4's RUN (a new shell comment each call): s4 reruns (sleep 2) and the final
# stage's COPY --from=s4; s1-s3 stay cached.
set -eu
f=$1/Dockerfile
sed -e "s|^\(RUN sleep 2 \&\& echo four > /s4.txt\)\( # edit .*\)\{0,1\}\$|\1 # edit $(date +%s%N) $$|" "$f" > "$f.tmp"
mv "$f.tmp" "$f"
