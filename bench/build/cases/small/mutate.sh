#!/usr/bin/env sh
# Edit config/app.conf, COPYed in the last stage: new content each call (a comment line first, the
# settings unchanged), so every rebuild redoes the last stage's COPY and RUN; stages 1-2 stay cached.
set -eu
f=$1/config/app.conf
{ echo "# edited $(date +%s%N) $$"; grep -v '^#' "$f"; } > "$f.tmp"
mv "$f.tmp" "$f"
