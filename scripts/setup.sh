#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine (as root) for tsbuild's tests and examples. Idempotent.
#  1. installs the peers and tools the tests use, from Debian's apt;
#  2. starts dockerd and a local registry on 127.0.0.1:5000 when they are not running;
#  3. creates the unprivileged user the rootless tests run as (with /etc/subuid ranges);
#  4. installs the npm dependencies and builds tsbuild (TypeScript and the native addon);
#  5. makes the busybox fixture image and imports it into docker.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  echo "setup: run as root (it installs packages and starts dockerd)" >&2
  exit 1
fi

PKGS=(docker.io busybox-static docker-registry skopeo umoci crun runc uidmap hyperfine buildah libseccomp-dev jq openssl bzip2 xz-utils zstd)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# dockerd: the reference builder and runtime for the conformance and interop tests.
if ! /usr/bin/docker info >/dev/null 2>&1; then
  log "starting dockerd"
  mkdir -p /var/log
  nohup dockerd >/var/log/tsbuild-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do /usr/bin/docker info >/dev/null 2>&1 && break; sleep 0.5; done
  /usr/bin/docker info >/dev/null 2>&1 || { echo "setup: dockerd did not start; see /var/log/tsbuild-dockerd.log" >&2; exit 1; }
fi

# A registry on loopback for pull and push tests.
if ! curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1; then
  log "starting docker-registry on 127.0.0.1:5000"
  mkdir -p /var/lib/tsbuild-registry /etc/tsbuild
  cat >/etc/tsbuild/registry.yml <<'YML'
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/tsbuild-registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
YML
  nohup docker-registry serve /etc/tsbuild/registry.yml >/var/log/tsbuild-registry.log 2>&1 &
  for _ in $(seq 1 40); do curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1 && break; sleep 0.25; done
  curl -fsS http://127.0.0.1:5000/v2/ >/dev/null || { echo "setup: registry did not start; see /var/log/tsbuild-registry.log" >&2; exit 1; }
fi

# The unprivileged user for rootless tests, with subordinate id ranges for newuidmap/newgidmap.
if ! id tsbuild-test >/dev/null 2>&1; then
  log "creating user tsbuild-test"
  useradd --create-home --shell /bin/bash tsbuild-test
fi
grep -q '^tsbuild-test:' /etc/subuid || echo 'tsbuild-test:200000:65536' >>/etc/subuid
grep -q '^tsbuild-test:' /etc/subgid || echo 'tsbuild-test:200000:65536' >>/etc/subgid

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
else
  npm run --silent build
fi

bash fixtures/make-busybox.sh --docker
log "ready"
