#!/usr/bin/env bash
# Layer commit and unpack: tsbuild's writeLayer/applyLayer against docker commit/load, side by side.
# Two layers, made by the same RUN on tsbuild-busybox: (a) 20,000 small files, (b) one 500 MB random file.
# Needs root, dockerd, the busybox fixture and a built dist/ (npm run build). Prints times and ratios
# (docker / tsbuild: above 1 means tsbuild is faster) and tsbuild's peak RSS per step.
# Usage: sudo bash bench/layers.sh [runs=3]
set -euo pipefail
RUNS=${1:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
DOCKER=/usr/bin/docker
FIX=${TSBUILD_FIXTURES:-/var/tmp/tsbuild-fixtures}/busybox/rootfs.tar
WORK=$(mktemp -d /var/tmp/tsb-bench-layers.XXXXXX)
trap 'umount -R "$WORK/mnt" 2>/dev/null || true; $DOCKER rm -f tsb-bench-a tsb-bench-b >/dev/null 2>&1 || true; $DOCKER rmi -f tsb-bench-a tsb-bench-b >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
[ -f "$HERE/dist/snapshotter/index.js" ] || { echo "run npm run build first" >&2; exit 1; }

SMALL='mkdir /data && cd /data && i=0; while [ $i -lt 20000 ]; do echo "file $i" > f$i; i=$((i+1)); done'
BIG='dd if=/dev/urandom of=/big bs=1M count=500 2>/dev/null'

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }

# The tsbuild side: a node child per step so that peak RSS is per step.
cat > "$WORK/step.mjs" <<JS
import { createReadStream, createWriteStream } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { applyLayer, mountAll, openSnapshotter, unmountAll, writeLayer } from '$HERE/dist/snapshotter/index.js';
const [step, root, arg, out] = process.argv.slice(2);
const sn = await openSnapshotter(root, { driver: 'overlay' });
let t0 = 0, r;
if (step === 'prepare') {
  await applyLayer(sn, { name: 'base', layer: createReadStream('$FIX') });
  await mountAll(await sn.prepare('work', 'base'), out);
  // /dev from the host for the RUN only (as a container would have it); the bind leaves the upper dir alone.
  execFileSync('mount', ['--bind', '/dev', out + '/dev']);
  try {
    execFileSync('chroot', [out, '/bin/sh', '-c', arg]);
  } finally {
    await unmountAll(out);
  }
} else if (step === 'commit') {
  t0 = performance.now();
  r = await writeLayer(sn, 'work', createWriteStream(out), { compression: arg });
} else if (step === 'unpack') {
  await applyLayer(sn, { name: 'base', layer: createReadStream('$FIX') });
  t0 = performance.now();
  r = await applyLayer(sn, { name: 'top', parent: 'base', layer: createReadStream(arg) });
}
const ms = t0 ? performance.now() - t0 : 0;
process.stdout.write(JSON.stringify({ s: ms / 1000, rssMB: Math.round(process.resourceUsage().maxRSS / 1024), r }) + '\n');
JS

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { node -e "process.stdout.write(String(JSON.parse(process.argv[1]).$1))" "$2"; }

run_case() {
  local label=$1 script=$2
  local dc=() dl=() tg=() tn=() ug=() un=() rss_c=0 rss_u=0 size_g=0
  for i in $(seq "$RUNS"); do
    # docker commit of the RUN, then docker load of the saved image (base layer already present).
    $DOCKER rm -f "tsb-bench-$label" >/dev/null 2>&1 || true
    $DOCKER run --name "tsb-bench-$label" tsbuild-busybox:latest sh -c "$script"
    sync
    local t=$(now); $DOCKER commit "tsb-bench-$label" "tsb-bench-$label:latest" >/dev/null; dc+=($(elapsed "$t" "$(now)"))
    $DOCKER save -o "$WORK/$label.docker.tar" "tsb-bench-$label:latest"
    $DOCKER rm -f "tsb-bench-$label" >/dev/null; $DOCKER rmi -f "tsb-bench-$label:latest" >/dev/null
    sync
    t=$(now); $DOCKER load -q -i "$WORK/$label.docker.tar" >/dev/null; dl+=($(elapsed "$t" "$(now)"))
    $DOCKER rmi -f "tsb-bench-$label:latest" >/dev/null; rm -f "$WORK/$label.docker.tar"

    # tsbuild: the same RUN in an overlay snapshot (chroot), then writeLayer and applyLayer.
    rm -rf "$WORK/store" "$WORK/store2" "$WORK/store3"; mkdir -p "$WORK/mnt"
    node "$WORK/step.mjs" prepare "$WORK/store" "$script" "$WORK/mnt" >/dev/null
    sync
    local o; o=$(node "$WORK/step.mjs" commit "$WORK/store" gzip "$WORK/$label.tar.gz")
    tg+=($(field s "$o")); rss_c=$(field rssMB "$o"); size_g=$(field r.size "$o")
    o=$(node "$WORK/step.mjs" commit "$WORK/store" none "$WORK/$label.tar"); tn+=($(field s "$o"))
    sync
    o=$(node "$WORK/step.mjs" unpack "$WORK/store2" "$WORK/$label.tar.gz"); ug+=($(field s "$o")); rss_u=$(field rssMB "$o")
    o=$(node "$WORK/step.mjs" unpack "$WORK/store3" "$WORK/$label.tar"); un+=($(field s "$o"))
    rm -rf "$WORK/store" "$WORK/store2" "$WORK/store3" "$WORK/$label.tar.gz" "$WORK/$label.tar"
  done
  local mdc mdl mtg mtn mug mun
  mdc=$(printf '%s\n' "${dc[@]}" | median); mdl=$(printf '%s\n' "${dl[@]}" | median)
  mtg=$(printf '%s\n' "${tg[@]}" | median); mtn=$(printf '%s\n' "${tn[@]}" | median)
  mug=$(printf '%s\n' "${ug[@]}" | median); mun=$(printf '%s\n' "${un[@]}" | median)
  printf '%-7s commit: docker %.2fs | tsbuild gzip %.2fs (x%.2f, blob %.1f MB, peak RSS %s MB) | tsbuild tar %.2fs (x%.2f)\n' \
    "$label" "$mdc" "$mtg" "$(echo "$mdc / $mtg" | bc -l)" "$(echo "$size_g / 1048576" | bc -l)" "$rss_c" "$mtn" "$(echo "$mdc / $mtn" | bc -l)"
  printf '%-7s unpack: docker load %.2fs | tsbuild gzip %.2fs (x%.2f, peak RSS %s MB) | tsbuild tar %.2fs (x%.2f)\n' \
    "$label" "$mdl" "$mug" "$(echo "$mdl / $mug" | bc -l)" "$rss_u" "$mun" "$(echo "$mdl / $mun" | bc -l)"
}

echo "layers: $RUNS run(s), medians; load: $(uptime | sed 's/.*load average: //')"
run_case a "$SMALL"
run_case b "$BIG"
