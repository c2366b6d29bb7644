# shellcheck shell=bash
# Builder adapters for bench/build.sh: how each builder builds, runs and forgets an image.
# Sourced by build.sh and lib/prep.sh (after lib/common.sh). Adapted from the shared
# benchmark kit (/work/shared/bench/lib/builders.sh), reduced to the three builders compared here.
#
# Builders: docker-buildkit buildah tsbuild
#
# tsbuild is run from this checkout (package.json's bin, bin/tsbuild, after `npm run build`) with a
# store root of its own per case ($TSB_ROOT_BASE/<case>), which bench/build.sh creates (bbase
# loaded into it) before the case and removes after it. Overrides:
#   TSBUILD_BIN='/path/bin/tsbuild'               the tsbuild command (default: this checkout's bin)
#   TSBUILD='... build NOCACHE -t NAME DIR'       the whole build command template; the words NAME,
#        DIR, NOCACHE and ROOT are replaced by the image name, the context folder, --no-cache (cold
#        builds only) and the case's store root. Split on whitespace, no quoting.

# The CLI entry point is package.json's "bin" (what `npm install -g` would put on the PATH).
TSB_MAIN=$(cd "$REPO_DIR" 2>/dev/null && realpath -m "$(node -p 'require("./package.json").bin.tsbuild' 2>/dev/null)")
TSB_MAIN=${TSB_MAIN:-$REPO_DIR/package.json bin.tsbuild}
TSBUILD_BIN=${TSBUILD_BIN:-$TSB_MAIN}
TSB_ROOT_BASE=${TSB_ROOT_BASE:-$BENCH_WORK/tsbuild-root}
TSBUILD=${TSBUILD:-$TSBUILD_BIN --root ROOT build NOCACHE -t NAME DIR}

img_name() { echo "$IMG_PREFIX-$1-$2"; }                 # builder case
owner_label() { echo "org.tsbench.owner=$(img_name "$1" "$2")"; }
tsb_root() { echo "$TSB_ROOT_BASE/$1"; }                  # case
tsb() { local c=$1; shift; $TSBUILD_BIN --root "$(tsb_root "$c")" "$@"; }

subst_words() { # template img ctx nocache(0/1) case
  local tpl=$1 img=$2 ctx=$3 nc=$4 c=$5 w out=()
  local -a words
  read -ra words <<<"$tpl"
  for w in "${words[@]}"; do
    case $w in
      NAME) out+=("$img") ;;
      DIR) out+=("$ctx") ;;
      ROOT) out+=("$(tsb_root "$c")") ;;
      NOCACHE) [ "$nc" = 1 ] && out+=(--no-cache) ;;
      *) out+=("$w") ;;
    esac
  done
  echo "${out[*]}"
}

# Prints the shell command (run by hyperfine through /bin/sh) that builds case $2 with
# builder $1 from context folder $3; $4=1 disables the build cache (cold).
build_cmd() {
  local b=$1 c=$2 ctx=$3 nc=$4 img ncf=""
  img=$(img_name "$b" "$c")
  [ "$nc" = 1 ] && ncf="--no-cache "
  case $b in
    docker-buildkit) echo "DOCKER_BUILDKIT=1 $DOCKER build ${ncf}-t $img $ctx" ;;
    # The owner label is plain image metadata (no extra step); it lets cleanup find this
    # builder's intermediate --layers images without touching anybody else's.
    buildah) echo "$BUILDAH build --layers ${ncf}--label $(owner_label "$b" "$c") -t $img $ctx" ;;
    tsbuild) subst_words "$TSBUILD" "$img" "$ctx" "$nc" "$c" ;;
    *) return 1 ;;
  esac
}

# Runs image $2 of builder $1 (case $3) with the remaining words as the command.
run_image() {
  local b=$1 img=$2 c=$3
  shift 3
  case $b in
    docker-buildkit) "$DOCKER" run --rm "$img" "$@" ;;
    buildah) # no podman here: a working container, buildah run, then remove it
      local ctr rc
      ctr=$("$BUILDAH" from -q "localhost/$img") || return 1
      "$BUILDAH" run "$ctr" -- "$@"; rc=$?
      "$BUILDAH" rm "$ctr" >/dev/null 2>&1
      return $rc ;;
    tsbuild) tsb "$c" run --rm "$img" "$@" ;;
  esac
}

# Forget what this kit built for (builder, case): final image and, for buildah, the
# intermediate --layers images carrying our owner label. tsbuild's per-case root goes as a whole
# after the case (build.sh), so only the image name is removed here.
rm_image() {
  local b=$1 c=$2 img
  img=$(img_name "$b" "$c")
  case $b in
    docker-buildkit)
      "$DOCKER" rmi -f "$img" >/dev/null 2>&1 || true
      docker_rm_dangling_mine ;;
    buildah)
      "$BUILDAH" rmi -f "localhost/$img" >/dev/null 2>&1 || true
      buildah_rm_labelled "$(owner_label "$b" "$c")" ;;
    tsbuild) [ -d "$(tsb_root "$c")" ] && { tsb "$c" rmi -f "$img" >/dev/null 2>&1 || true; } ;;
  esac
  return 0
}

# Remove the buildah images carrying label $1 (intermediate --layers images), children first:
# repeated until a pass removes nothing, since an image with a child cannot go.
buildah_rm_labelled() {
  local ids id n
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24; do
    ids=$("$BUILDAH" images -a -q --no-trunc --filter "label=$1" 2>/dev/null | sort -u)
    [ -z "$ids" ] && return 0
    n=0
    for id in $ids; do "$BUILDAH" rmi -f "$id" >/dev/null 2>&1 && n=$((n + 1)); done
    [ $n = 0 ] && return 0
  done
}

# RUN command strings of this kit's Dockerfiles: an image whose history contains one was
# built by this kit (BuildKit history: "RUN /bin/sh -c CMD # buildkit"); big-file has no RUN,
# its COPY destination /data/blob.bin serves as marker. The change scenario only appends to
# RUN lines, so the original strings still match.
mine_markers() { { sed -n 's/^RUN //p' "$BENCH_DIR"/cases/*/Dockerfile; echo "/data/blob.bin"; } | sort -u; }

# Remove dangling docker images left by this kit (the previous final image after a tag moved).
# Anything whose history has none of our RUN strings is left alone (the daemon is shared).
docker_rm_dangling_mine() {
  local id hist m markers=()
  mapfile -t markers < <(mine_markers)
  for id in $("$DOCKER" images -q --no-trunc -f dangling=true 2>/dev/null); do
    hist=$("$DOCKER" history --no-trunc --format '{{.CreatedBy}}' "$id" 2>/dev/null) || continue
    for m in "${markers[@]}"; do
      if [[ "$hist" == *"$m"* ]]; then "$DOCKER" rmi "$id" >/dev/null 2>&1 || true; break; fi
    done
  done
}

# Prints why a builder cannot run (and returns 1), or nothing.
builder_check() {
  case $1 in
    docker-buildkit) "$DOCKER" info >/dev/null 2>&1 || { echo "docker daemon not reachable via $DOCKER"; return 1; } ;;
    buildah) "$BUILDAH" version >/dev/null 2>&1 || { echo "$BUILDAH not usable"; return 1; } ;;
    tsbuild)
      if [ "$TSBUILD_BIN" = "$TSB_MAIN" ] && [ ! -f "$REPO_DIR/dist/bin/main.cjs" ]; then
        echo "tsbuild build not available: $REPO_DIR/dist/bin/main.cjs missing (run npm run build)"; return 1
      fi
      if ! $TSBUILD_BIN --help 2>/dev/null | grep -qE '^ +tsbuild build( |$)'; then
        echo "tsbuild build not available: '$TSBUILD_BIN --help' lists no build command"; return 1
      fi ;;
    *) echo "unknown builder"; return 1 ;;
  esac
}

# BuildKit cache records: "ID<TAB>size in bytes<TAB>depth<TAB>description", one per line;
# depth = length of the record's parent chain, so that children can be pruned before parents.
bk_records() {
  "$DOCKER" system df -v --format '{{json .BuildCache}}' 2>/dev/null | jq -r '
    (. // []) as $r | ($r | map({key: .ID, value: (.Parent // "")}) | from_entries) as $p
    | def depth($id): if ($p[$id] // "") == "" then 0 else 1 + depth($p[$id]) end;
      $r[] | [.ID, .Size, depth(.ID), .Description] | @tsv' |
    awk -F'\t' 'BEGIN{OFS="\t"} { s=$2; m=1; if (s ~ /kB$/) m=1e3; else if (s ~ /MB$/) m=1e6; else if (s ~ /GB$/) m=1e9;
                   gsub(/[^0-9.]/, "", s); printf "%s\t%d\t%s\t%s\n", $1, s*m, $3, $4 }'
}

# Prune the BuildKit cache records created since the snapshot file $1 (from bk_records) that are
# ours: exec records running one of our RUN strings, and records of 10 MB or more (our big-file /
# many-files contexts and COPY results). One by one with --filter id=, deepest first; never a
# global prune (the daemon is shared).
bk_prune_new_mine() {
  local snap=$1 id size depth desc m markers=() cand=() bytes=0
  mapfile -t markers < <(mine_markers)
  while IFS=$'\t' read -r id size depth desc; do
    grep -q "^$id"$'\t' "$snap" && continue
    if [ "$size" -ge 10000000 ]; then cand+=("$depth $id $size"); continue; fi
    for m in "${markers[@]}"; do [[ "$desc" == *"$m"* ]] && cand+=("$depth $id $size") && break; done
  done < <(bk_records)
  [ ${#cand[@]} = 0 ] && { echo "0 records"; return 0; }
  for m in $(printf '%s\n' "${cand[@]}" | sort -rn | awk '{print $2":"$3}'); do
    "$DOCKER" builder prune -f --filter "id=${m%%:*}" >/dev/null 2>&1
    bytes=$((bytes + ${m#*:}))
  done
  echo "${#cand[@]} records ($((bytes / 1000000)) MB)"
}
