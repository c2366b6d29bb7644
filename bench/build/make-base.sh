#!/usr/bin/env bash
# Build the busybox base rootfs deterministically and import it as bbase:latest into
# docker, save it as a docker-archive and pull that into buildah's containers/storage. From the shared benchmark kit.
#
# Idempotent: the rootfs tarball is byte-for-byte reproducible (fixed mtimes, sorted
# entries, numeric root ownership), its sha256 is stored as a label on the imported image,
# and an import is skipped when the existing bbase:latest already carries that label.
# Use --force to re-import anyway.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

BASE=$BENCH_WORK/base
ROOTFS=$BASE/rootfs
TAR=$BASE/rootfs.tar
EPOCH=1577836800   # 2020-01-01T00:00:00Z, fixed for reproducibility
PATH_ENV='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

mkdir -p "$BASE"
umask 022

# ---- 1. rootfs folder ------------------------------------------------------------------
rm -rf "$ROOTFS"
mkdir -p "$ROOTFS"
for d in bin sbin usr/bin usr/sbin etc root tmp var/tmp proc sys dev home; do
  mkdir -p "$ROOTFS/$d"
done
chmod 1777 "$ROOTFS/tmp" "$ROOTFS/var/tmp"
chmod 0700 "$ROOTFS/root"
install -m 0755 "$BUSYBOX" "$ROOTFS/bin/busybox"
# Applet symlinks in their canonical locations (bin/sh, usr/bin/find, ...).
"$BUSYBOX" --list-full | LC_ALL=C sort | while read -r applet; do
  [ "$applet" = "bin/busybox" ] && continue
  [ -e "$ROOTFS/$applet" ] || [ -L "$ROOTFS/$applet" ] || ln -s /bin/busybox "$ROOTFS/$applet"
done
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' > "$ROOTFS/etc/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' > "$ROOTFS/etc/group"
chmod 0644 "$ROOTFS/etc/passwd" "$ROOTFS/etc/group"

# ---- 2. deterministic tarball ----------------------------------------------------------
tar --sort=name --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner --format=gnu \
    -C "$ROOTFS" -cf "$TAR.tmp" .
mv "$TAR.tmp" "$TAR"
SHA=$(sha256sum "$TAR" | cut -d' ' -f1)
log "rootfs tarball $TAR sha256=$SHA ($(stat -c %s "$TAR") bytes, $("$BUSYBOX" --list-full | wc -l) applets)"

CHANGES=(--change "ENV $PATH_ENV" --change 'CMD ["/bin/sh"]' --change "LABEL $BASE_LABEL=$SHA")

# ---- 3. docker -------------------------------------------------------------------------
cur=$("$DOCKER" image inspect -f "{{ index .Config.Labels \"$BASE_LABEL\" }}" "$BASE_IMAGE" 2>/dev/null || true)
if [ "$FORCE" = 0 ] && [ "$cur" = "$SHA" ]; then
  log "docker: $BASE_IMAGE already up to date"
else
  "$DOCKER" import "${CHANGES[@]}" "$TAR" "$BASE_IMAGE" >/dev/null
  log "docker: imported $BASE_IMAGE ($("$DOCKER" image inspect -f '{{.Id}}' "$BASE_IMAGE"))"
fi

# ---- 4. the same image as a docker-archive, for buildah and tsbuild --------------------
"$DOCKER" save -o "$BASE/bbase.docker.tar.tmp" "$BASE_IMAGE" && mv "$BASE/bbase.docker.tar.tmp" "$BASE/bbase.docker.tar"
log "docker-archive of $BASE_IMAGE at $BASE/bbase.docker.tar"

# ---- 5. buildah (containers/storage) ----------------------------------------------------
# Pulled from the docker-archive, so buildah builds FROM the very image (config and layer) docker
# uses; bench/build.sh loads the same archive into each per-case tsbuild root (`tsbuild load`).
cur=$("$BUILDAH" inspect --type image -f "{{ index .OCIv1.Config.Labels \"$BASE_LABEL\" }}" "localhost/$BASE_IMAGE" 2>/dev/null || true)
if [ "$FORCE" = 0 ] && [ "$cur" = "$SHA" ]; then
  log "buildah: localhost/$BASE_IMAGE already up to date"
else
  id=$("$BUILDAH" pull -q "docker-archive:$BASE/bbase.docker.tar")
  "$BUILDAH" tag "$id" "localhost/$BASE_IMAGE"
  log "buildah: localhost/$BASE_IMAGE is $id"
fi
