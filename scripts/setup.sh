#!/usr/bin/env bash
# Sets up a fresh Debian 12 (bookworm) machine, which already has Node.js 20, to build, test and
# benchmark podyard: the container tools from Debian (runtime-notes §2), then `npm ci`.
# Run as root from anywhere: `bash scripts/setup.sh`. It is idempotent: installed packages are left
# alone (no upgrades), `apt-get update` runs only when the package lists are missing or an install
# fails, and `npm ci` runs only when node_modules does not match package-lock.json.
set -euo pipefail

PACKAGES=(
  busybox skopeo podman docker-registry crun runc umoci apache2-utils zstd attr time uidmap fuse-overlayfs
  slirp4netns ca-certificates conmon iproute2 openssl util-linux
  catatonit  # only for bench/pod-start: podman kube play builds its pause image with it
)
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STAMP="$REPO_ROOT/node_modules/.podyard-setup-stamp"
APT_UPDATED=0
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf '\nsetup.sh: error: %s\n' "$*" >&2; exit 1; }

check_host() {
  step "Checking the host"
  [ "$(id -u)" = 0 ] || die "must run as root (apt-get install needs it): sudo bash scripts/setup.sh"
  command -v apt-get >/dev/null || die "apt-get not found: this script is for Debian 12 (bookworm)"
  if [ -r /etc/debian_version ]; then info "Debian $(cat /etc/debian_version)"; fi
  command -v node >/dev/null || die "node not found: install Node.js 20 first (e.g. from nodesource.com)"
  command -v npm >/dev/null || die "npm not found: install Node.js 20 with npm"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js $(node --version) is too old: podyard needs Node.js 20 or later"
  info "node $(node --version), npm $(npm --version)"
}

apt_update() {
  step "apt-get update"
  apt-get update || die "apt-get update failed: check the network and /etc/apt/sources.list*"
  APT_UPDATED=1
}

lists_present() {
  compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null
}

has_candidate() {
  local candidate
  candidate="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }')"
  [ -n "$candidate" ] && [ "$candidate" != "(none)" ]
}

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

check_packages_exist() {
  step "Checking that the packages exist (apt-cache policy)"
  if ! lists_present; then
    info "no package lists yet"
    apt_update
  fi
  local p unknown=()
  for p in "${PACKAGES[@]}"; do has_candidate "$p" || unknown+=("$p"); done
  if [ "${#unknown[@]}" -gt 0 ] && [ "$APT_UPDATED" = 0 ]; then
    info "not in the current lists: ${unknown[*]}"
    apt_update
    unknown=()
    for p in "${PACKAGES[@]}"; do has_candidate "$p" || unknown+=("$p"); done
  fi
  [ "${#unknown[@]}" = 0 ] || die "no installable candidate for: ${unknown[*]} (is this Debian 12 with the main component enabled?)"
  info "all ${#PACKAGES[@]} packages available"
}

apt_install() {
  apt-get install -y "$@"
}

install_packages() {
  step "Installing Debian packages"
  local p missing=()
  for p in "${PACKAGES[@]}"; do is_installed "$p" || missing+=("$p"); done
  if [ "${#missing[@]}" = 0 ]; then
    info "already installed: ${PACKAGES[*]}"
    return
  fi
  info "to install: ${missing[*]}"
  if ! apt_install --no-install-recommends "${missing[@]}"; then
    [ "$APT_UPDATED" = 0 ] || die "apt-get install failed for: ${missing[*]}"
    info "install failed; refreshing the package lists and retrying"
    apt_update
    apt_install --no-install-recommends "${missing[@]}" || die "apt-get install failed for: ${missing[*]}"
  fi
}

# podman's first alternative of each Recommends group (buildah, catatonit, ...), without versions.
podman_recommends() {
  apt-cache show podman 2>/dev/null | awk -F': ' '/^Recommends:/ { print $2; exit }' \
    | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/[[:space:]]//g' | grep -v '^$' || true
}

podman_works() {
  podman --version && timeout 120 podman info >/dev/null
}

check_podman() {
  step "Checking podman (podman --version, podman info)"
  if podman_works; then
    info "podman works"
    return
  fi
  local recs
  mapfile -t recs < <(podman_recommends)
  info "podman does not work without its recommended packages; installing: ${recs[*]}"
  [ "${#recs[@]}" -gt 0 ] || die "podman info failed and podman has no Recommends to add"
  apt_install "${recs[@]}" || die "apt-get install of podman's recommends failed: ${recs[*]}"
  podman_works || die "podman info still fails after installing its recommends: see the output above"
  info "podman works with its recommends"
}

check_tools() {
  step "Checking the installed tools"
  if ! ldd /bin/busybox >/dev/null 2>&1; then
    die "/bin/busybox is not the dynamic build (busybox-static installed?): apt-get install busybox"
  fi
  info "busybox: $(/bin/busybox | head -n 1)"
  info "skopeo: $(skopeo --version)"
  info "crun: $(crun --version | head -n 1)"
  info "runc: $(runc --version | head -n 1)"
  info "umoci: $(umoci --version)"
  info "docker-registry: $(docker-registry --version)"
  info "zstd: $(zstd --version)"
  command -v htpasswd >/dev/null || die "htpasswd (apache2-utils) not found after install"
  info "htpasswd: $(command -v htpasswd)"
}

lock_stamp() {
  printf 'node %s\nlock %s\n' "$(node -p 'process.versions.node.split(".")[0]')" \
    "$(sha256sum "$REPO_ROOT/package-lock.json" | cut -d' ' -f1)"
}

# True when node_modules holds exactly the versions package-lock.json names (npm's hidden lockfile,
# node_modules/.package-lock.json, records what the last install put there).
node_modules_match_lock() {
  (cd "$REPO_ROOT" && node -e '
    const fs = require("node:fs");
    const want = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages ?? {};
    const have = JSON.parse(fs.readFileSync("node_modules/.package-lock.json", "utf8")).packages ?? {};
    for (const [path, p] of Object.entries(want)) {
      if (path === "" || p.link) continue;
      const h = have[path];
      if (!h && p.optional) continue; // optional packages for other platforms (@esbuild/darwin-x64, ...)
      if (!h || h.version !== p.version || (p.integrity && h.integrity !== p.integrity)) process.exit(1);
      if (!fs.existsSync(path)) process.exit(1);
    }
  ' 2>/dev/null)
}

install_node_modules() {
  step "npm ci in $REPO_ROOT"
  [ -f "$REPO_ROOT/package-lock.json" ] || die "$REPO_ROOT/package-lock.json missing: cannot run npm ci"
  local want
  want="$(lock_stamp)"
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -d "$REPO_ROOT/node_modules" ]; then
    info "node_modules is up to date with package-lock.json (stamp); skipping"
    return
  fi
  if [ -d "$REPO_ROOT/node_modules" ] && node_modules_match_lock; then
    info "node_modules already matches package-lock.json; skipping"
  else
    (cd "$REPO_ROOT" && npm ci --no-audit --no-fund) || die "npm ci failed in $REPO_ROOT: see the output above"
  fi
  printf '%s\n' "$want" >"$STAMP"
}

build_cli() {
  step "npm run build (the bundled CLI that bin/podyard.js runs while it is newer than src/)"
  (cd "$REPO_ROOT" && npm run --silent build) || die "npm run build failed: see the errors above"
}

check_host
check_packages_exist
install_packages
check_podman
check_tools
install_node_modules
build_cli
step "Done: podyard's build, test and benchmark dependencies are installed"
