#!/usr/bin/env bash
# Installs the Debian packages medchain needs when any is missing; does
# nothing (and needs no network) when all are present.
set -euo pipefail
pkgs=(build-essential pkg-config clang libclang-rt-14-dev
      libsodium-dev libsqlite3-dev libuv1-dev libmicrohttpd-dev libjansson-dev
      libqrencode-dev libcurl4-gnutls-dev libssl-dev libcriterion-dev faketime
      sqlite3 curl python3 zbar-tools libxml2-utils openssl chromium nodejs
      git iproute2 procps
      libgnutls28-dev rsyslog rsyslog-gnutls gnutls-bin
      ceph-mon ceph-osd radosgw ceph-common)
# npm ships inside some nodejs builds (NodeSource); Debian's is separate.
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

# The web application's npm packages (web/package-lock.json): installed and
# their browser builds copied into web/vendor/ when the lock file changed.
web_npm() {
  local web; web="$(cd "$(dirname "$0")/../web" && pwd)"
  if cmp -s "$web/package-lock.json" "$web/node_modules/.medchain-lock.json" &&
     [ -f "$web/vendor/libsodium-wrappers.mjs" ]; then
    echo "deps: web npm packages present"
    return 0
  fi
  echo "deps: npm ci in web/"
  (cd "$web" && npm ci --no-audit --no-fund && node vendor.mjs &&
   cp package-lock.json node_modules/.medchain-lock.json)
}
# The FHIR conformance tests' npm packages (tests/fhir/package-lock.json:
# an R4 validator and a FHIR client), installed when the lock file changed.
fhir_npm() {
  local dir; dir="$(cd "$(dirname "$0")/../tests/fhir" && pwd)"
  if cmp -s "$dir/package-lock.json" "$dir/node_modules/.medchain-lock.json"; then
    echo "deps: FHIR test npm packages present"
    return 0
  fi
  echo "deps: npm ci in tests/fhir/"
  (cd "$dir" && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.medchain-lock.json)
}
# The SMART tests' npm packages (tests/smart/package-lock.json: a JOSE
# library that signs client assertions, a FHIR client), when it changed.
smart_npm() {
  local dir; dir="$(cd "$(dirname "$0")/../tests/smart" && pwd)"
  if cmp -s "$dir/package-lock.json" "$dir/node_modules/.medchain-lock.json"; then
    echo "deps: SMART test npm packages present"
    return 0
  fi
  echo "deps: npm ci in tests/smart/"
  (cd "$dir" && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.medchain-lock.json)
}
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} packages present"
  web_npm
  fhir_npm
  smart_npm
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
web_npm
fhir_npm
smart_npm
