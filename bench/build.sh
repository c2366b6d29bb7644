#!/usr/bin/env bash
# Build speed, side by side in one run: DOCKER_BUILDKIT=1 docker build, buildah build --layers
# and tsbuild build, over the six cases of the builder issue, each cold / fully cached / after one
# change. Prints a markdown table with tsbuild/peer ratios (below 1 = tsbuild faster).
#
#   bench/build.sh [builder...]          builders: docker-buildkit buildah tsbuild (default: all three)
#   CASES=small RUNS=1 bench/build.sh    quick smoke check (about a minute)
#
# Needs root, dockerd, buildah, hyperfine, jq, python3, openssl, and for tsbuild a built checkout
# (npm run build).
#
# Environment knobs:
#   CASES="small big-file"        cases, in that order (default: small many-files big-file run-heavy
#                                 parallel-stages change-one-file)
#   SCENARIOS="cold warm"         keep only these of each case's scenarios (default: cold warm change)
#   RUNS=n                        n timed runs for every scenario (default: the case.conf counts, 3-5)
#   RUNS_SCALE=k                  multiply the case.conf counts
#   OUT=dir REPORT=file.md        raw results (hyperfine JSON, logs) / the markdown report
#                                 (default bench/results/build-<run id>/ and bench/results/build-<run id>.md)
#   BENCH_WORK=/var/tmp/tsbench   generated contexts and the base rootfs (~650 MB)
#   TSBUILD_BIN, TSBUILD          how tsbuild is run (see build/lib/builders.sh)
#   KEEP_TSB_ROOT=1               keep each case's tsbuild store root after the case
#   BK_CLEAN=0                    keep the BuildKit cache records this run created (by default ours
#                                 are pruned one by one after each case; never a global prune)
#
# Scenarios (per builder x case), each timed by hyperfine (wall clock of the client command):
#   cold    --no-cache build from a fresh copy of the context (new mtimes: BuildKit must send it
#           all again); the previous image is removed before each run (untimed).
#   warm    identical rebuild after one untimed priming build: everything cached.
#   change  cases/<case>/mutate.sh (untimed) changes one file, then the timed rebuild.
set -uo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
KIT=$BENCH/build
BENCH_DIR=$KIT
. "$KIT/lib/common.sh"
. "$KIT/lib/builders.sh"

if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,32p' "$0"; exit 0; fi

if [ $# -gt 0 ]; then BUILDERS=("$@"); else BUILDERS=(docker-buildkit buildah tsbuild); fi
for b in "${BUILDERS[@]}"; do
  case $b in docker-buildkit|buildah|tsbuild) ;; *) die "unknown builder $b (docker-buildkit buildah tsbuild)" ;; esac
done
read -ra CASE_LIST <<<"${CASES:-small many-files big-file run-heavy parallel-stages change-one-file}"
SCENARIO_FILTER=${SCENARIOS:-}
RUNS_SCALE=${RUNS_SCALE:-1}
RUNS=${RUNS:-}
BK_CLEAN=${BK_CLEAN:-1}
RUN_ID=$(date -u +%Y%m%d-%H%M%S)
OUT=${OUT:-$BENCH/results/build-$RUN_ID}
REPORT=${REPORT:-$BENCH/results/build-$RUN_ID.md}
mkdir -p "$OUT/json" "$OUT/logs"
STATUS=$OUT/status.tsv
printf 'kind\tbuilder\tcase\tscenario\tstatus\tjson\tnote\tload_before\tload_after\n' >"$STATUS"
T_START=$(date +%s)

[ "$(id -u)" = 0 ] || die "run as root (docker, buildah and tsbuild's RUN need it)"
for t in hyperfine jq python3 openssl; do command -v "$t" >/dev/null || die "$t not found"; done

# buildah defaults that fail on this host (see the shared kit): root lacks CAP_SYS_RESOURCE,
# so the default rootful rlimits cannot be set; crun refuses the hybrid cgroups, so use runc.
# A private containers.conf, selected with CONTAINERS_CONF; the system config is untouched.
mkdir -p "$BENCH_WORK/conf"
nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=1048576
nproc=$(ulimit -Hu); { [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
cat >"$BENCH_WORK/conf/containers.conf" <<EOF
# written by bench/build.sh
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "${BUILDAH_RUNTIME:-runc}"
EOF
export CONTAINERS_CONF=$BENCH_WORK/conf/containers.conf

record() { local IFS=$'\t'; printf '%s\n' "$*" >>"$STATUS"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
oneline() { grep -v '^\s*$' "$1" 2>/dev/null | tail -"${2:-1}" | tr '\t\n' '  ' | cut -c1-300; }
# The reason a build failed: its last line that says "error", else its last two lines.
failnote() {
  local e
  e=$(grep -iE 'error' "$1" 2>/dev/null | grep -v '^\s*$' | tail -1 | tr '\t' ' ' | cut -c1-300)
  if [ -n "$e" ]; then echo "$e"; else oneline "$1" 2; fi
}

# measure BUILDER CASE SCENARIO RUNS PREPARE CMD: one hyperfine run, recorded in status.tsv.
measure() {
  local b=$1 c=$2 s=$3 runs=$4 prep=$5 cmd=$6
  local tag="${b}__${c}__${s}"
  local json="$OUT/json/$tag.json" log="$OUT/logs/$tag.hyperfine.log" lb la rc note
  local args=(--runs "$runs" --style basic --export-json "$json" --command-name "$b $c $s")
  [ -n "$prep" ] && args+=(--prepare "$prep")
  { echo "# command: $cmd"; [ -n "$prep" ] && echo "# prepare: $prep"; } >"$log"
  lb=$(loadavg)
  hyperfine "${args[@]}" "$cmd" >>"$log" 2>&1
  rc=$?
  la=$(loadavg)
  if [ $rc = 0 ] && [ -s "$json" ]; then
    record build "$b" "$c" "$s" ok "json/$tag.json" "" "$lb" "$la"
    log "$(printf '%-16s %-16s %-7s min %7.3fs  median %7.3fs  (n=%s, load %s)' "$b" "$c" "$s" \
      "$(jq '.results[0].min' "$json")" "$(jq '.results[0].median' "$json")" "$runs" "$lb")"
  else
    rm -f "$json"
    # once more with the command's own output kept, for the reason
    [ -n "$prep" ] && sh -c "$prep" >/dev/null 2>&1
    sh -c "$cmd" >"$OUT/logs/$tag.failed.log" 2>&1
    note=$(failnote "$OUT/logs/$tag.failed.log")
    record build "$b" "$c" "$s" FAILED "" "$note" "$lb" "$la"
    log "$(printf '%-16s %-16s %-7s FAILED: %s' "$b" "$c" "$s" "$note")"
  fi
}

# A fresh tsbuild store root for case $1 with bbase loaded from make-base.sh's docker-archive
# (the very image docker and buildah build on) and unpacked. Prints why it failed, if it did.
tsb_fresh_root() {
  local c=$1 root
  root=$(tsb_root "$c")
  tsb_drop_root "$c" || return 1
  mkdir -p "$root"
  if ! tsb "$c" load -q -i "$BENCH_WORK/base/bbase.docker.tar" >"$OUT/logs/tsbuild__${c}__load.log" 2>&1; then
    echo "tsbuild load of bbase failed: $(oneline "$OUT/logs/tsbuild__${c}__load.log")"; return 1
  fi
  tsb "$c" inspect "$BASE_IMAGE" >/dev/null 2>&1 || { echo "bbase missing from the tsbuild store after load"; return 1; }
  # Docker and buildah have bbase unpacked since make-base.sh: one untimed container start unpacks
  # it in tsbuild's store too, so the first cold build does not pay for that.
  if ! tsb "$c" run --rm "$BASE_IMAGE" true >"$OUT/logs/tsbuild__${c}__unpack.log" 2>&1; then
    echo "tsbuild run of bbase failed: $(oneline "$OUT/logs/tsbuild__${c}__unpack.log")"; return 1
  fi
}
tsb_drop_root() { # never rm -rf a root that still has something mounted under it
  local root
  root=$(tsb_root "$1")
  [ -d "$root" ] || return 0
  if awk -v r="$root/" 'index($2 "/", r) == 1 {found=1} END {exit !found}' /proc/self/mounts; then
    echo "mounts left under $root: not removed"; return 1
  fi
  rm -rf "$root"
}

{
  echo "run_id: $RUN_ID"
  echo "date_utc: $(date -u '+%Y-%m-%d %H:%M:%S')"
  echo "cpus: $(nproc)"
  echo "cpu_model: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "memory: $(free -g | awk '/Mem:/{print $2" GiB"}')"
  echo "kernel: $(uname -r)"
  echo "filesystem: $(findmnt -no FSTYPE -T "$BENCH_WORK") on $(findmnt -no SOURCE -T "$BENCH_WORK") (contexts and tsbuild roots in $BENCH_WORK)"
  echo "docker: $("$DOCKER" version -f 'client {{.Client.Version}}, server {{.Server.Version}}' 2>/dev/null), storage $("$DOCKER" info -f '{{.Driver}}' 2>/dev/null)"
  echo "buildah: $("$BUILDAH" version 2>/dev/null | awk '/^Version:/{print $2}') (runtime ${BUILDAH_RUNTIME:-runc})"
  echo "tsbuild: $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO_DIR" diff --quiet HEAD -- 2>/dev/null || echo '+changes'), node $(node --version 2>/dev/null), command '$TSBUILD'"
  echo "hyperfine: $(hyperfine --version)"
  echo "builders: ${BUILDERS[*]}"
  echo "cases: ${CASE_LIST[*]}"
  echo "load_at_start: $(loadavg)"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

# Ctrl-C / kill: forget the image being measured and its tsbuild root, then stop.
CUR_B="" CUR_C=""
on_signal() {
  trap - INT TERM
  log "interrupted: cleaning up ${CUR_B:-nothing} ${CUR_C}"
  if [ -n "$CUR_B" ]; then
    rm_image "$CUR_B" "$CUR_C"
    [ "$CUR_B" = tsbuild ] && [ "${KEEP_TSB_ROOT:-0}" != 1 ] && tsb_drop_root "$CUR_C"
  fi
  rm -rf "$BENCH_WORK/build-cold"
  exit 130
}
trap on_signal INT TERM

"$KIT/make-base.sh" >"$OUT/logs/make-base.log" 2>&1 || die "make-base.sh failed: $(oneline "$OUT/logs/make-base.log")"

for c in "${CASE_LIST[@]}"; do
  cdir=$KIT/cases/$c
  [ -d "$cdir" ] || { log "unknown case $c"; record build - "$c" - FAILED "" "unknown case" "" ""; continue; }
  ctx=$BENCH_WORK/ctx/$c
  log "== case $c"
  for b in "${BUILDERS[@]}"; do
    SCENARIOS="cold warm"; RUNS_COLD=3; RUNS_WARM=5; RUNS_CHANGE=5
    # shellcheck disable=SC1091
    . "$cdir/case.conf"
    if [ -n "$RUNS" ]; then RUNS_COLD=$RUNS; RUNS_WARM=$RUNS; RUNS_CHANGE=$RUNS; fi
    read -ra scen <<<"$SCENARIOS"
    if [ -n "$SCENARIO_FILTER" ]; then
      f=(); for s in "${scen[@]}"; do [[ " $SCENARIO_FILTER " == *" $s "* ]] && f+=("$s"); done; scen=("${f[@]}")
    fi
    skip() { for s in "${scen[@]}"; do record build "$b" "$c" "$s" FAILED "" "$1" "" ""; done; log "$b $c: $1"; }
    # every builder starts from the unmodified context (the change scenario edits it)
    "$cdir/gen.sh" "$ctx" >"$OUT/logs/${c}__gen.log" 2>&1 || { skip "gen.sh failed: $(oneline "$OUT/logs/${c}__gen.log")"; continue; }
    if ! why=$(builder_check "$b"); then skip "$why"; continue; fi
    CUR_B=$b CUR_C=$c
    if [ "$b" = tsbuild ] && ! why=$(tsb_fresh_root "$c"); then skip "$why"; continue; fi
    img=$(img_name "$b" "$c")
    rm_image "$b" "$c"
    [ "$b" = docker-buildkit ] && [ "$BK_CLEAN" = 1 ] && bk_records >"$OUT/logs/bk-snapshot.tsv"
    primed=0
    for s in "${scen[@]}"; do
      case $s in
        cold)
          measure "$b" "$c" cold $((RUNS_COLD * RUNS_SCALE)) "$KIT/lib/prep.sh cold $b $c" \
            "$(build_cmd "$b" "$c" "$BENCH_WORK/build-cold/$c" 1)" ;;
        warm|change)
          if [ $primed = 0 ]; then
            plog=$OUT/logs/${b}__${c}__prime.log
            if sh -c "$(build_cmd "$b" "$c" "$ctx" 0)" >"$plog" 2>&1; then
              primed=1
              got=$(run_image "$b" "$img" "$c" sh -c "$(cat "$cdir/verify")" 2>&1)
              if [ "$got" = "$(cat "$cdir/expect")" ]; then
                record verify "$b" "$c" - ok "" "" "" ""
              else
                record verify "$b" "$c" - FAILED "" "expected $(tr '\n' ' ' <"$cdir/expect")got $(echo "$got" | tr '\n' ' ' | cut -c1-200)" "" ""
                log "$b $c: VERIFY FAILED: $got"
              fi
            else
              primed=-1
              pnote="priming build failed: $(failnote "$plog")"
              log "$b $c: $pnote"
            fi
          fi
          if [ $primed = -1 ]; then record build "$b" "$c" "$s" FAILED "" "$pnote" "" ""; continue; fi
          if [ "$s" = warm ]; then
            measure "$b" "$c" warm $((RUNS_WARM * RUNS_SCALE)) "" "$(build_cmd "$b" "$c" "$ctx" 0)"
          else
            measure "$b" "$c" change $((RUNS_CHANGE * RUNS_SCALE)) "$cdir/mutate.sh $ctx" "$(build_cmd "$b" "$c" "$ctx" 0)"
          fi ;;
        *) log "unknown scenario $s" ;;
      esac
    done
    rm_image "$b" "$c"
    if [ "$b" = docker-buildkit ] && [ "$BK_CLEAN" = 1 ]; then
      log "docker-buildkit $c: pruned our new BuildKit cache records: $(bk_prune_new_mine "$OUT/logs/bk-snapshot.tsv")"
    fi
    if [ "$b" = tsbuild ] && [ "${KEEP_TSB_ROOT:-0}" != 1 ]; then
      why=$(tsb_drop_root "$c") || log "tsbuild $c: $why"
    fi
  done
  "$cdir/gen.sh" "$ctx" >/dev/null 2>&1
  rm -rf "$BENCH_WORK/build-cold/$c"
done

T_END=$(date +%s)
{ echo "load_at_end: $(loadavg)"; echo "total_seconds: $((T_END - T_START))"; } >>"$OUT/machine.txt"
python3 "$KIT/report.py" "$OUT" >"$REPORT" || die "report.py failed"
cat "$REPORT"
log "report: $REPORT (raw: $OUT); total $((T_END - T_START)) s"
