#!/usr/bin/env bash
# make demo: starts a local medchain node with sample data and says what to
# try next. `make demo-stop` (or `scripts/demo.sh stop`) stops it.
#
# Until the consortium network exists this is a single validator; the data
# is loaded only through the public interfaces (the medchain CLI over HTTP).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/build/medchain
DEMO=$ROOT/demo
HOME_DIR=$DEMO/node
KEYS=$DEMO/keys
API=${MEDCHAIN_DEMO_API:-127.0.0.1:7700}
URL=http://$API
SYNTHEA=${MEDCHAIN_TESTDATA:-$ROOT/../shared/testdata}/synthea

running_pid() {
  [ -f "$DEMO/node.pid" ] || return 1
  local pid; pid=$(cat "$DEMO/node.pid")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

if [ "${1:-}" = "stop" ]; then
  if pid=$(running_pid); then
    kill "$pid"; for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$DEMO/node.pid"; echo "demo: node (pid $pid) stopped; data kept in $DEMO (rm -rf demo to start over)"
  else
    echo "demo: no demo node is running"
  fi
  exit 0
fi

if pid=$(running_pid); then
  echo "demo: a demo node is already running (pid $pid, API $URL)."
  echo "demo: stop it with 'make demo-stop', or remove the demo/ folder after stopping to start afresh."
  exit 0
fi
if curl -s -o /dev/null "$URL/v1/status"; then
  echo "demo: something else already answers on $API; set MEDCHAIN_DEMO_API=127.0.0.1:PORT to use another port." >&2
  exit 1
fi

fresh=0
if [ ! -f "$HOME_DIR/genesis.json" ]; then
  rm -rf "$DEMO"; mkdir -p "$KEYS"; fresh=1
  "$BIN" init --home "$HOME_DIR" --chain-id medchain-demo --org "St Mary's Hospital" \
         --kind hospital --gln 5412345000013 --api "$API" >/dev/null
fi
nohup "$BIN" node --home "$HOME_DIR" --api "$API" >"$DEMO/node.log" 2>&1 &
echo $! >"$DEMO/node.pid"
for _ in $(seq 100); do curl -s -o /dev/null "$URL/v1/status" && break; sleep 0.1; done
curl -s -o /dev/null "$URL/v1/status" || { echo "demo: node did not start, see $DEMO/node.log" >&2; exit 1; }

ADMIN=$HOME_DIR/admin_key.json
mc() { "$BIN" "$@" --node "$URL"; }
if [ $fresh = 1 ]; then
  echo "demo: loading sample data through the CLI ..."
  for who in "clinician:Dr Grace Hopper" "clinician:Dr John Snow" "auditor:Ada Audit" \
             "researcher:Dr Rosalind Franklin" "pharmacist:Florence Pharm"; do
    role=${who%%:*}; name=${who#*:}; f=$KEYS/$(echo "$name" | tr ' A-Z' '-a-z' | tr -cd 'a-z-').json
    "$BIN" keygen --out "$f" >/dev/null
    mc member enroll --key "$ADMIN" --member-key "$f" --role "$role" --name "$name" >/dev/null
    echo "  enrolled $role $name ($f)"
  done
  n=0
  for bundle in "$SYNTHEA"/*.json; do
    [ -f "$bundle" ] || continue
    base=$(basename "$bundle" .json); first=${base%%_*}
    f=$KEYS/patient-$(echo "$first" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9').json
    "$BIN" keygen --out "$f" >/dev/null
    mc patient register --key "$KEYS/dr-grace-hopper.json" --patient-key "$f" >/dev/null
    echo "  registered synthetic patient $first (Synthea) with key $f"
    n=$((n+1))
  done
  mc member revoke --key "$ADMIN" --member-key "$KEYS/dr-john-snow.json" --reason "left the hospital" >/dev/null
  echo "  revoked Dr John Snow"
  "$BIN" keygen --out "$KEYS/dr-grace-hopper-2025.json" >/dev/null
  mc key rotate --key "$KEYS/dr-grace-hopper.json" --new-key "$KEYS/dr-grace-hopper-2025.json" >/dev/null
  echo "  Dr Grace Hopper rotated her key"
fi

height=$(curl -s "$URL/v1/status" | sed -n 's/.*"height": *\([0-9]*\).*/\1/p')
cat <<TXT

medchain demo is running: one validator (St Mary's Hospital), chain medchain-demo, height $height.
  API     $URL          log  $DEMO/node.log
  keys    $KEYS          (admin key: $ADMIN)

Try:
  build/medchain status --node $URL
  build/medchain block show latest --node $URL
  build/medchain account show --key $KEYS/dr-john-snow.json --node $URL      # revoked
  curl -s $URL/v1/blocks | head -40
  build/medchain tx show <id> --node $URL ; build/medchain proof <id> --node $URL
  build/medchain verify --home $HOME_DIR      # re-checks every hash, signature and state row

Stop it with:  make demo-stop
TXT
