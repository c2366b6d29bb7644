#!/usr/bin/env bash
# Container start latency, side by side in one run (shared/research/runtime.md §6 has the method):
#   1. `true` through NativeRuntime (in one Node process, per run) against `crun run` on the same rootfs;
#   2. `tsbuild run --rm IMAGE true` (the whole CLI, an image from the store, and a rootfs directory)
#      against `docker run --rm --network none IMAGE true`, as ratios;
#   3. a breakdown of `tsbuild run --rm IMAGE true` by phase (TSBUILD_TRACE_RUN=1 marks).
# Targets (issue 3): 1 <= 1.5x crun, 2 <= 1/3 of docker. Run as root after `npm ci && npm run build`.
# Usage: bench/runtime.sh [runs=50]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-50}
CLI_RUNS=$(( RUNS < 20 ? RUNS : 20 ))
FIXTURE=${TSBUILD_FIXTURES:-/var/tmp/tsbuild-fixtures}/busybox
DOCKER_IMAGE=${DOCKER_IMAGE:-tsbuild-busybox:latest}
for tool in hyperfine crun jq awk; do command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install $tool)" >&2; exit 1; }; done
[ -d "$FIXTURE/rootfs" ] || { echo "bench: no fixture at $FIXTURE: bash fixtures/make-busybox.sh --docker" >&2; exit 1; }
[ -f dist/bin/main.cjs ] || { echo "bench: run npm run build first" >&2; exit 1; }

WORK=$(mktemp -d /var/tmp/tsbuild-bench-runtime.XXXXXX)
trap 'crun delete -f tsbuild-bench >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
cp -a "$FIXTURE/rootfs" "$WORK/rootfs"

# An OCI bundle for crun on the same rootfs: `crun spec` defaults, `true`, no terminal.
(cd "$WORK" && crun spec >/dev/null)
jq '.process.args = ["true"] | .process.terminal = false' "$WORK/config.json" >"$WORK/config.tmp" && mv "$WORK/config.tmp" "$WORK/config.json"

ms() { jq -r ".results[0] | \"\(.min * 1000 | . * 100 | round / 100) \(.median * 1000 | . * 100 | round / 100)\"" "$1"; }

echo "## runtime start latency ($(date -u +%Y-%m-%dT%H:%MZ), load: $(cut -d' ' -f1-3 /proc/loadavg))"
echo

# 1a. NativeRuntime, in process: the per-run time a builder or `tsbuild run` pays after Node has started.
native=$(node --input-type=module -e "
  const { NativeRuntime } = await import('$PWD/dist/runtime-native/index.js');
  const rt = new NativeRuntime();
  const spec = { rootfs: '$WORK/rootfs', readonlyRootfs: true, args: ['true'] };
  for (let i = 0; i < 5; i++) await rt.run(spec, 'ignore');
  const t = [];
  for (let i = 0; i < $RUNS; i++) { const s = performance.now(); await rt.run(spec, 'ignore'); t.push(performance.now() - s); }
  t.sort((a, b) => a - b);
  console.log(t[0].toFixed(2), t[Math.floor(t.length / 2)].toFixed(2));
")
read -r native_min native_med <<<"$native"

# 1b. crun on the same rootfs; crun refuses this hybrid cgroup host unless the cgroup2 tree is hidden (as in shared/bench).
cat >"$WORK/nocg2.sh" <<'SH'
#!/bin/sh
mount -t tmpfs -o size=4k tsbuild-bench-nocg2 /sys/fs/cgroup/unified
exec "$@"
SH
chmod +x "$WORK/nocg2.sh"
unshare -m --propagation private "$WORK/nocg2.sh" hyperfine -N --warmup 5 --runs "$RUNS" \
  --prepare "crun delete -f tsbuild-bench" "crun run -b $WORK tsbuild-bench" \
  --export-json "$WORK/crun.json" >/dev/null 2>&1
read -r crun_min crun_med <<<"$(ms "$WORK/crun.json")"

echo "| what | runs | min ms | median ms |"
echo "|---|---|---|---|"
echo "| NativeRuntime \`true\` (in process, cgroup + seccomp) | $RUNS | $native_min | $native_med |"
echo "| \`crun run\` \`true\` (same rootfs, cgroup2 tree hidden) | $RUNS | $crun_min | $crun_med |"
echo
echo "NativeRuntime / crun (median): $(awk "BEGIN { printf \"%.2f\", $native_med / $crun_med }") (target <= 1.5)"
echo

# 2. The whole CLI against docker, as installed: package.json's bin, bin/tsbuild (a sh launcher that starts Node on
#    the bundle, dist/bin/main.cjs). Node 20 parses the whole CA bundle at start-up when NODE_EXTRA_CA_CERTS is set
#    (this sandbox sets it: ~45 ms of every `node` start); the launcher hands it to tsbuild's HTTPS client instead, so
#    the rows of `node` itself are also shown with it unset, for scale.
ROOT="$WORK/store"
BIN=bin/tsbuild
$BIN --root "$ROOT" import "$FIXTURE/rootfs.tar" tsbench:latest >/dev/null
$BIN --root "$ROOT" run --rm tsbench:latest true # unpacks the layer once, writes the code cache
NOCA="env -u NODE_EXTRA_CA_CERTS"
hyperfine -N --warmup 3 --runs "$CLI_RUNS" \
  "$BIN --root $ROOT run --rm tsbench:latest true" \
  "node dist/cli/main.js --root $ROOT run --rm tsbench:latest true" \
  "$BIN run --rm $WORK/rootfs true" \
  "node -e 0" \
  "/usr/bin/docker run --rm --network none $DOCKER_IMAGE true" \
  "node dist/bin/main.cjs --root $ROOT run --rm tsbench:latest true" \
  "$NOCA node -e 0" \
  --export-json "$WORK/cli.json" >/dev/null 2>&1
row() { jq -r ".results[$1] | \"\(.min * 1000 | round) \(.median * 1000 | round)\"" "$WORK/cli.json"; }
read -r img_min img_med <<<"$(row 0)"
read -r tsc_min tsc_med <<<"$(row 1)"
read -r dir_min dir_med <<<"$(row 2)"
read -r node_min node_med <<<"$(row 3)"
read -r dock_min dock_med <<<"$(row 4)"
read -r nimg_min nimg_med <<<"$(row 5)"
read -r nnode_min nnode_med <<<"$(row 6)"
echo "| what | runs | min ms | median ms |"
echo "|---|---|---|---|"
echo "| \`tsbuild run --rm IMAGE true\` ($BIN; store image, overlay snapshot) | $CLI_RUNS | $img_min | $img_med |"
echo "| \`tsbuild run --rm IMAGE true\` (dist/cli/main.js, not bundled) | $CLI_RUNS | $tsc_min | $tsc_med |"
echo "| \`tsbuild run --rm ROOTFS-DIR true\` | $CLI_RUNS | $dir_min | $dir_med |"
echo "| \`node -e 0\` (Node's own start, for scale) | $CLI_RUNS | $node_min | $node_med |"
echo "| \`docker run --rm --network none IMAGE true\` | $CLI_RUNS | $dock_min | $dock_med |"
echo "| \`node dist/bin/main.cjs run --rm IMAGE true\` (no launcher: Node parses NODE_EXTRA_CA_CERTS) | $CLI_RUNS | $nimg_min | $nimg_med |"
echo "| \`node -e 0\`, NODE_EXTRA_CA_CERTS unset | $CLI_RUNS | $nnode_min | $nnode_med |"
echo
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }
echo "tsbuild run IMAGE / docker run (median): $(ratio "$img_med" "$dock_med") (target <= 0.33)"
echo "node dist/bin/main.cjs run IMAGE (no launcher) / docker run (median): $(ratio "$nimg_med" "$dock_med")"
echo "tsbuild run IMAGE beyond node -e 0 (NODE_EXTRA_CA_CERTS unset) / docker run (median): $(ratio "$((img_med - nnode_med))" "$dock_med")"
echo

# 3. Where the time of `tsbuild run --rm IMAGE true` goes: the CLI's TSBUILD_TRACE_RUN marks, per phase.
for _ in $(seq 1 "$CLI_RUNS"); do
  TSBUILD_TRACE_RUN=1 "$BIN" --root "$ROOT" run --rm tsbench:latest true 2>&1 >/dev/null | grep '^tsbuild-trace '
  echo "tsbuild-trace end"
done | node -e '
  const names = { cli: "node start, CLI modules, argument parsing", modules: "store + snapshotter + runtime modules",
    store: "better-sqlite3 load, database open", image: "resolve, lease, config, snapshotter open",
    snapshot: "writable snapshot (prepare)", spawn: "RunSpec, addon load, helper spawn",
    started: "helper: cgroup dirs, clone into the cgroup",
    exited: "container set-up, exec true, exit, namespace teardown, cgroup removal", removed: "writable snapshot removed" };
  const runs = []; let cur = [];
  for (const line of require("fs").readFileSync(0, "utf8").split("\n")) {
    const [, phase, ms] = line.split(" ");
    if (phase === "end") { runs.push(cur); cur = []; } else if (phase) cur.push([phase, Number(ms)]);
  }
  const per = new Map();
  for (const r of runs) r.forEach(([p, t], i) => { const d = t - (i ? r[i - 1][1] : 0); per.set(p, [...(per.get(p) ?? []), d]); });
  const q = (a, f) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * f))]; };
  console.log("| phase (ends at) | what | min ms | median ms |"); console.log("|---|---|---|---|");
  for (const [p, d] of per) console.log(`| ${p} | ${names[p] ?? ""} | ${q(d, 0).toFixed(1)} | ${q(d, 0.5).toFixed(1)} |`);
  const tot = runs.map((r) => r[r.length - 1][1]);
  console.log(`| total | process start to snapshot removed (exit follows) | ${q(tot, 0).toFixed(1)} | ${q(tot, 0.5).toFixed(1)} |`);
'
