#!/usr/bin/env bash
# Installs what mini needs on a fresh Debian machine, idempotently:
#   - Deno (pinned), from the npm package `deno`, linked as /usr/local/bin/deno
#   - the Debian packages mini uses at run time (busybox-static for the base image)
#   - with --test-peers, the real peers the tests compare against (containerd, runc,
#     skopeo, umoci, docker-registry, docker.io)
#   - the npm modules of deno.json, cached
#   - `mini-*` commands on PATH: small wrappers around `deno run cmd/<name>.ts`
set -euo pipefail

DENO_VERSION=2.9.6
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DENO_HOME=/opt/mini/deno-$DENO_VERSION
BIN_DIR=${MINI_BIN_DIR:-/usr/local/bin}

say() { printf '==> %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "install.sh: run as root (mini mounts, creates namespaces and cgroups)" >&2
  exit 1
fi

install_deno() {
  if [ -x "$DENO_HOME/deno" ] && "$DENO_HOME/deno" --version | grep -q "^deno $DENO_VERSION "; then
    :
  else
    say "installing Deno $DENO_VERSION from the npm package \`deno\`"
    command -v npm >/dev/null || { echo "install.sh: npm is needed to fetch Deno" >&2; exit 1; }
    local staging
    staging=$(mktemp -d)
    npm install --silent --no-audit --no-fund --prefix "$staging" "deno@$DENO_VERSION" >/dev/null
    mkdir -p "$DENO_HOME"
    local binary="$staging/node_modules/deno/deno"
    [ -x "$binary" ] || binary=$(ls "$staging"/node_modules/@deno/linux-*/deno | head -n 1)
    install -m 0755 "$binary" "$DENO_HOME/deno"
    rm -rf "$staging"
  fi
  ln -sf "$DENO_HOME/deno" "$BIN_DIR/deno"
}

install_debian_packages() {
  local wanted=(busybox-static)
  if [ "${1:-}" = --test-peers ]; then
    wanted+=(containerd runc skopeo umoci docker-registry docker.io containernetworking-plugins apache2-utils openssl iproute2 curl jq procps xz-utils bzip2 zstd)
  fi
  local missing=()
  for package in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    # The peers are only started by the tests, on temp paths and loopback: keep the
    # packages' init scripts from starting a system-wide dockerd or registry.
    local own_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
      chmod 0755 /usr/sbin/policy-rc.d
      own_policy=yes
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
  fi
}

install_wrappers() {
  local source name
  for source in "$REPO"/cmd/*.ts; do
    name=$(basename "$source" .ts)
    name=${name//_/-}
    cat > "$BIN_DIR/$name" <<WRAPPER
#!/bin/sh
# $name: written by mini's scripts/install.sh; runs $source with Deno.
exec "$DENO_HOME/deno" run --allow-all --quiet --no-prompt --config "$REPO/deno.json" "$source" "\$@"
WRAPPER
    chmod 0755 "$BIN_DIR/$name"
  done
}

install_deno
install_debian_packages "${1:-}"
say "caching mini's modules"
(cd "$REPO" && "$DENO_HOME/deno" install --quiet && "$DENO_HOME/deno" cache --quiet cmd/*.ts)
install_wrappers
say "mini is installed: $(cd "$REPO/cmd" && ls ./*.ts | sed 's#./##; s#\.ts$##; s#_#-#g' | tr '\n' ' ')"
