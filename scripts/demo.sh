#!/usr/bin/env bash
# make demo: starts a local medchain consortium with sample data and says
# what to try next. `make demo-stop` (or `scripts/demo.sh stop`) stops it.
#
# The consortium (medchain testnet --validators 4 --members): St Mary's
# Hospital, City General Hospital, Acme Pharmaceuticals (manufacturer) and
# the National Medicines Agency (regulator) run the four validators; Corner
# Pharmacy, the Institute for Clinical Research and MedDistrib Wholesale
# run member nodes that follow the chain. Every node listens on its own
# loopback ports; the data is loaded only through the public interfaces
# (the medchain CLI over HTTP).
#
# Life cycle:
#   - the first run writes demo/ (keys, node homes, sample data); later runs
#     start the stopped nodes again and keep the data (rm -rf demo to start
#     over);
#   - every node holds a lock on HOME/node.pid with its pid, so `stop` finds
#     each node of this demo, also one restarted by hand;
#   - MEDCHAIN_DEMO_API_PORT / MEDCHAIN_DEMO_P2P_PORT choose the first API
#     and peer ports (node I uses port+I); an existing demo is moved to them;
#   - MEDCHAIN_DEMO_DIR puts the demo somewhere else than demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${MEDCHAIN_BIN:-$ROOT/build/medchain} # the Makefile passes its own build
DEMO=${MEDCHAIN_DEMO_DIR:-$ROOT/demo}
case "$DEMO" in /*) ;; *) DEMO=$ROOT/$DEMO ;; esac
NET=$DEMO/net
KEYS=$DEMO/keys
NODES=7
SYNTHEA=$ROOT/testdata/synthea
GTIN=09506000134352

say() { printf '%s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# --- processes -------------------------------------------------------------

# The pid serving node home $1, if a medchain node runs there now. The pid
# comes from the node's own lock file (HOME/node.pid) or from the pid file
# this script wrote; it counts only if that process is a medchain node with
# this very home on its command line (a pid can be reused).
node_pid() {
  local home=$1 f pid
  for f in "$home/node.pid" "$DEMO/pids/$(basename "$home").pid"; do
    [ -f "$f" ] || continue
    pid=$(tr -cd '0-9' <"$f")
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || continue
    if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "node --home $home "; then
      echo "$pid"; return 0
    fi
  done
  return 1
}

running_pids() {
  local i pid any=1
  for i in $(seq 0 $((NODES - 1))); do
    if pid=$(node_pid "$NET/node$i"); then echo "$pid"; any=0; fi
  done
  return $any
}

stop_demo() {
  local pids pid n
  if ! pids=$(running_pids); then
    say "demo: no demo consortium is running (data in $DEMO)"
    return 0
  fi
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $pids; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "demo: node pid $pid did not stop within 10 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -f "$DEMO"/pids/node*.pid
  n=$(echo "$pids" | wc -w)
  say "demo: the consortium's $n running node(s) stopped; data kept in $DEMO"
  say "demo: 'make demo' starts it again where it was; 'rm -rf $DEMO' starts over"
}

if [ "${1:-}" = "stop" ]; then
  stop_demo
  exit 0
fi

[ -x "$BIN" ] || die "$BIN is missing: run 'make demo' (it builds it)"

# --- ports -----------------------------------------------------------------

# A demo made earlier keeps its ports in demo/ports.env; the environment
# overrides them (the node configs are then rewritten to the new ports).
OLD_API= OLD_P2P=
if [ -f "$DEMO/ports.env" ]; then
  OLD_API=$(sed -n 's/^API_PORT=//p' "$DEMO/ports.env")
  OLD_P2P=$(sed -n 's/^P2P_PORT=//p' "$DEMO/ports.env")
fi
API_PORT=${MEDCHAIN_DEMO_API_PORT:-${OLD_API:-7700}}
P2P_PORT=${MEDCHAIN_DEMO_P2P_PORT:-${OLD_P2P:-26700}}
for p in "$API_PORT" "$P2P_PORT"; do
  [[ "$p" =~ ^[0-9]+$ ]] && [ "$p" -ge 1024 ] && [ "$p" -le $((65535 - NODES)) ] ||
    die "ports must be numbers from 1024 to $((65535 - NODES)) (got '$p')"
done
[ $((API_PORT + NODES)) -le "$P2P_PORT" ] || [ $((P2P_PORT + NODES)) -le "$API_PORT" ] ||
  die "the API ports ($API_PORT..) and peer ports ($P2P_PORT..) overlap; choose ports $NODES or more apart"
URL=http://127.0.0.1:$API_PORT
HOME_DIR=$NET/node0

# Who listens on TCP port $1 on this machine: "pid N (command line)".
port_holder() {
  local line pid
  line=$(ss -ltnpH "( sport = :$1 )" 2>/dev/null | head -1)
  [ -n "$line" ] || return 1
  pid=$(printf '%s' "$line" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
  if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ]; then
    echo "pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-120))"
  else
    echo "a process this user cannot see"
  fi
}

# --- start -----------------------------------------------------------------

fresh=0
if [ ! -f "$NET/genesis.json" ]; then
  # A half-made demo (interrupted first run) is started over.
  if [ -d "$DEMO" ] && running_pids >/dev/null; then
    die "nodes of an unfinished demo still run in $DEMO; run 'make demo-stop' first"
  fi
  rm -rf "$DEMO"; fresh=1
fi

# Nodes of this demo that run already (e.g. one restarted by hand) are kept;
# the ports of the others must be free.
declare -A up=()
for i in $(seq 0 $((NODES - 1))); do
  if pid=$(node_pid "$NET/node$i"); then up[$i]=$pid; fi
done
if [ ${#up[@]} -gt 0 ] && [ -n "$OLD_API" ] && { [ "$API_PORT" != "$OLD_API" ] || [ "$P2P_PORT" != "$OLD_P2P" ]; }; then
  die "the demo runs on ports $OLD_API/$OLD_P2P; run 'make demo-stop' before moving it to $API_PORT/$P2P_PORT"
fi
for i in $(seq 0 $((NODES - 1))); do
  [ -n "${up[$i]:-}" ] && continue
  for p in $((API_PORT + i)) $((P2P_PORT + i)); do
    if holder=$(port_holder "$p"); then
      die "port $p (node$i) is already in use by $holder. Stop that process, or choose other ports:" \
          "MEDCHAIN_DEMO_API_PORT=8700 MEDCHAIN_DEMO_P2P_PORT=28700 make demo"
    fi
  done
done

if [ $fresh = 1 ]; then
  mkdir -p "$KEYS" "$DEMO/pids"
  "$BIN" testnet --validators 4 --members --dir "$NET" --chain-id medchain-demo \
         --api-port "$API_PORT" --p2p-port "$P2P_PORT" >"$DEMO/testnet.txt"
elif [ -n "$OLD_API" ] && { [ "$API_PORT" != "$OLD_API" ] || [ "$P2P_PORT" != "$OLD_P2P" ]; }; then
  # Move an existing demo to new ports: every node's API and peer addresses.
  python3 - "$NET" "$NODES" "$OLD_API" "$OLD_P2P" "$API_PORT" "$P2P_PORT" <<'PY'
import json, sys
net, nodes, oa, op, na, np = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:])
def move(addr, old, new):
    host, port = addr.rsplit(":", 1)
    return "%s:%d" % (host, new + int(port) - old)
for i in range(nodes):
    path = "%s/node%d/config.json" % (net, i)
    cfg = json.load(open(path))
    cfg["api"] = move(cfg["api"], oa, na)
    cfg["p2p"] = move(cfg["p2p"], op, np)
    for peer in cfg.get("peers", []):
        peer["addr"] = move(peer["addr"], op, np)
    json.dump(cfg, open(path + ".new", "w"), indent=2)
    __import__("os").replace(path + ".new", path)
PY
  sed -i "s|api http://127.0.0.1:$OLD_API|api http://127.0.0.1:$API_PORT|" "$DEMO/testnet.txt" 2>/dev/null || true
  for i in $(seq 0 $((NODES - 1))); do
    sed -i "s|api http://127.0.0.1:$((OLD_API + i))\b|api http://127.0.0.1:$((API_PORT + i))|" "$DEMO/testnet.txt"
  done
  say "demo: moved the existing demo from ports $OLD_API/$OLD_P2P to $API_PORT/$P2P_PORT"
fi
printf 'API_PORT=%s\nP2P_PORT=%s\n' "$API_PORT" "$P2P_PORT" >"$DEMO/ports.env"

mkdir -p "$DEMO/pids"
started=0
for i in $(seq 0 $((NODES - 1))); do
  [ -n "${up[$i]:-}" ] && continue
  nohup "$BIN" node --home "$NET/node$i" >>"$NET/node$i/node.log" 2>&1 </dev/null &
  echo $! >"$DEMO/pids/node$i.pid"
  started=$((started + 1))
done
for i in $(seq 0 $((NODES - 1))); do
  u=http://127.0.0.1:$((API_PORT + i))
  for _ in $(seq 150); do curl -s -o /dev/null "$u/v1/status" && break; sleep 0.1; done
  curl -s -o /dev/null "$u/v1/status" ||
    die "node$i did not start; its log: $NET/node$i/node.log (last line: $(tail -1 "$NET/node$i/node.log"))"
done
# wait for the validators to commit a block together
for _ in $(seq 150); do
  h=$(curl -s "$URL/v1/status" | sed -n 's/.*"height": *\([0-9]*\).*/\1/p')
  [ "${h:-0}" -ge 1 ] && break; sleep 0.1
done
[ "${h:-0}" -ge 1 ] || die "the validators committed no block within 15 s; see $NET/node0/node.log"

# Organisation admin keys as the testnet wrote them (node homes), by name.
if [ $fresh = 1 ]; then
  cp "$NET/node2/admin_key.json" "$KEYS/acme-admin.json"
  cp "$NET/node3/admin_key.json" "$KEYS/agency-admin.json"
  cp "$NET/node4/admin_key.json" "$KEYS/corner-pharmacy-admin.json"
  cp "$NET/node6/admin_key.json" "$KEYS/meddistrib-admin.json"
fi
ACME_ORG=3 PHARMACY_ORG=5 DISTRIBUTOR_ORG=7
DISTRIBUTOR_GLN=$(curl -s "$URL/v1/org/$DISTRIBUTOR_ORG" | sed -n 's/.*"gln": *"\([0-9]*\)".*/\1/p')
ADMIN=$HOME_DIR/admin_key.json
mc() { "$BIN" "$@" --node "$URL"; }
pubkey() { sed -n 's/.*"public_key": *"\([0-9a-f]*\)".*/\1/p' "$1"; }

if [ $fresh = 1 ]; then
  bundles=("$SYNTHEA"/*.json)
  [ -f "${bundles[0]}" ] || die "no Synthea patients in $SYNTHEA (the repository's testdata/ is incomplete)"
  say "demo: loading sample data through the CLI ..."
  for who in "clinician:Dr Grace Hopper" "clinician:Dr John Snow" "auditor:Ada Audit" \
             "researcher:Dr Rosalind Franklin" "pharmacist:Florence Pharm"; do
    role=${who%%:*}; name=${who#*:}; f=$KEYS/$(echo "$name" | tr ' A-Z' '-a-z' | tr -cd 'a-z-').json
    "$BIN" keygen --out "$f" >/dev/null
    mc member enroll --key "$ADMIN" --member-key "$f" --role "$role" --name "$name" >/dev/null
    say "  enrolled $role $name ($f)"
  done
  for bundle in "${bundles[@]}"; do
    base=$(basename "$bundle" .json); first=${base%%_*}
    f=$KEYS/patient-$(echo "$first" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9').json
    "$BIN" keygen --out "$f" >/dev/null
    mc patient register --key "$KEYS/dr-grace-hopper.json" --patient-key "$f" >/dev/null
    say "  registered synthetic patient $first (Synthea) with key $f"
  done
  mc member revoke --key "$ADMIN" --member-key "$KEYS/dr-john-snow.json" --reason "left the hospital" >/dev/null
  say "  revoked Dr John Snow"
  "$BIN" keygen --out "$KEYS/dr-grace-hopper-2025.json" >/dev/null
  mc key rotate --key "$KEYS/dr-grace-hopper.json" --new-key "$KEYS/dr-grace-hopper-2025.json" >/dev/null
  say "  Dr Grace Hopper rotated her key (her current key: $KEYS/dr-grace-hopper-2025.json)"

  # Medical records: each Synthea patient's history is imported by a
  # clinician (one transaction Bundle, one anchor each); the first patient
  # grants Dr Grace Hopper (her current key, after the rotation) access;
  # she reads, a clinician without a grant is refused, then reads with
  # break-glass. Every read and refusal is on the patient's access log.
  for who in "clinician:Dr Ignaz Semmelweis" "clinician:Dr Virginia Apgar"; do
    role=${who%%:*}; name=${who#*:}; f=$KEYS/$(echo "$name" | tr ' A-Z' '-a-z' | tr -cd 'a-z-').json
    "$BIN" keygen --out "$f" >/dev/null
    mc member enroll --key "$ADMIN" --member-key "$f" --role "$role" --name "$name" >/dev/null
  done
  imported_total=0
  for bundle in "${bundles[@]}"; do
    base=$(basename "$bundle" .json); first=${base%%_*}
    f=$KEYS/patient-$(echo "$first" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9').json
    count=$(mc record import --key "$KEYS/dr-ignaz-semmelweis.json" --patient-key "$f" --bundle "$bundle" \
            | sed -n 's/^imported: //p')
    [ "${count:-0}" -gt 0 ] || die "importing $bundle imported nothing"
    imported_total=$((imported_total + count))
    say "  imported $count FHIR resources of $first (encrypted, one anchor) by Dr Ignaz Semmelweis"
  done
  PAT=$(ls "$KEYS"/patient-*.json | awk 'NR == 1')
  GRANT=$(mc grant add --key "$PAT" --to-member-key "$KEYS/dr-grace-hopper-2025.json" \
          --categories problems,results,medications,encounters | awk '/^id:/ && !g {g=$2} END {print g}')
  say "  $(basename "$PAT" .json) granted Dr Grace Hopper (rotated key) problems, results, medications, encounters: grant $GRANT"
  REC=$(mc record list --key "$PAT" --type Observation | awk '/^record:/ && !r {r=$2} END {print r}')
  [ -n "$REC" ] || die "the first patient has no Observation to read"
  mc record get "Observation/$REC" --key "$KEYS/dr-grace-hopper-2025.json" --purpose TREAT \
     --out "$DEMO/read-by-grace.json" >/dev/null
  say "  Dr Grace Hopper read Observation/$REC (granted; saved in $DEMO/read-by-grace.json)"
  if mc record get "Observation/$REC" --key "$KEYS/dr-virginia-apgar.json" >/dev/null 2>"$DEMO/refused.txt"; then
    die "a read without a grant was allowed"
  fi
  say "  Dr Virginia Apgar was refused (no grant): $(sed 's/^medchain: error: //' "$DEMO/refused.txt")"
  mc record get "Observation/$REC" --key "$KEYS/dr-virginia-apgar.json" \
     --break-glass "unconscious patient in the emergency room" --out "$DEMO/read-break-glass.json" >/dev/null
  say "  Dr Virginia Apgar read it with break-glass (flagged, listed for the auditor's review)"

  # A drug journey: Acme commissions a lot, ships it to MedDistrib, which
  # ships two packs on to Corner Pharmacy, which dispenses one. Then a
  # recalled lot, and labels (QR codes) to scan, one of them counterfeit.
  for who in "acme-admin:acme-line:manufacturer:Acme packaging line" \
             "meddistrib-admin:meddistrib-depot:distributor:MedDistrib depot" \
             "corner-pharmacy-admin:corner-pharmacist:pharmacist:Corner Pharmacy counter" \
             "agency-admin:agency-inspector:regulator:Agency inspector"; do
    IFS=: read -r admin member role name <<<"$who"
    "$BIN" keygen --out "$KEYS/$member.json" >/dev/null
    mc member enroll --key "$KEYS/$admin.json" --member-key "$KEYS/$member.json" --role "$role" --name "$name" >/dev/null
  done
  mc drug commission --key "$KEYS/acme-line.json" --gtin $GTIN --lot LOT2026A --expiry 2028-06-30 \
     --count 6 --prefix PK >/dev/null
  mc drug ship --key "$KEYS/acme-line.json" --to $DISTRIBUTOR_ORG --gtin $GTIN --serials PK1,PK2,PK3 >/dev/null
  mc drug receive --key "$KEYS/meddistrib-depot.json" --gtin $GTIN --serials PK1,PK2,PK3 >/dev/null
  mc drug ship --key "$KEYS/meddistrib-depot.json" --to $PHARMACY_ORG --gtin $GTIN --serials PK1,PK2 >/dev/null
  mc drug receive --key "$KEYS/corner-pharmacist.json" --gtin $GTIN --serials PK1,PK2 >/dev/null
  DISPENSE_TX=$(mc drug dispense --key "$KEYS/corner-pharmacist.json" --gtin $GTIN --serial PK1 |
                sed -n 's/^id: //p' | head -1)
  mc drug commission --key "$KEYS/acme-line.json" --gtin $GTIN --lot LOT2025Z --expiry 2027-01-31 \
     --serials RC1 >/dev/null
  mc drug recall --key "$KEYS/agency-inspector.json" --gtin $GTIN --lot LOT2025Z \
     --reason "sterility failure" >/dev/null
  say "  drug journey: Acme Pharmaceuticals -> MedDistrib Wholesale -> Corner Pharmacy (PK1 dispensed), lot LOT2025Z recalled by the agency"

  # Research: Dr Rosalind Franklin registers a study with pre-specified
  # outcomes; every Synthea patient consents to "hiv-research"; one is
  # enrolled; enrolment closes, the database is locked, results are posted
  # and the trial verifies clean (docs/RESEARCH.md).
  RES=$KEYS/dr-rosalind-franklin.json
  echo "protocol of HIV-VL-1, version 1" >"$DEMO/protocol.txt"
  mc study register --key "$RES" --id HIV-VL-1 --title "Viral load under ART" --sponsor "St Mary's Research" \
     --registry-id NCT09999999 --protocol-file "$DEMO/protocol.txt" --purpose hiv-research \
     --categories all --k 1 --primary "viral load at 48 weeks" --secondary "CD4 count at 48 weeks" \
     --researchers "$(pubkey "$RES")" >/dev/null
  consented=0
  for f in "$KEYS"/patient-*.json; do
    mc research consent --key "$f" --purpose hiv-research --version 1 --categories all >/dev/null
    consented=$((consented + 1))
  done
  mc trial enrol --key "$RES" --study HIV-VL-1 --patient "$(pubkey "$PAT")" >/dev/null
  echo "locked dataset of HIV-VL-1" >"$DEMO/locked.txt"
  mc trial close --key "$RES" --study HIV-VL-1 >/dev/null
  mc trial lock --key "$RES" --study HIV-VL-1 --dataset-file "$DEMO/locked.txt" >/dev/null
  mc trial results --key "$RES" --study HIV-VL-1 --dataset-file "$DEMO/locked.txt" \
     --primary "viral load at 48 weeks" --secondary "CD4 count at 48 weeks" >/dev/null
  say "  research: study HIV-VL-1 registered, $consented patients consented, 1 enrolled, locked, results posted: $(mc trial verify HIV-VL-1 | sed -n 's/^verdict: //p')"

  # What the hints below need on a later start (no data is loaded then).
  printf 'PAT=%s\nREC=%s\nGRANT=%s\nDISPENSE_TX=%s\nIMPORTED=%s\n' \
         "$PAT" "$REC" "$GRANT" "$DISPENSE_TX" "$imported_total" >"$DEMO/ids.env"
fi
[ -f "$DEMO/ids.env" ] || die "$DEMO/ids.env is missing (an interrupted first run?): make demo-stop; rm -rf $DEMO; make demo"
# shellcheck disable=SC1091
. "$DEMO/ids.env"

# Labels (QR codes, PNG and SVG) to scan; they carry this demo's address.
mkdir -p "$DEMO/labels"
for l in "PK2:LOT2026A:2028-06-30:genuine" "PK1:LOT2026A:2028-06-30:dispensed" \
         "FAKE42:LOT2026A:2028-06-30:counterfeit" "RC1:LOT2025Z:2027-01-31:recalled"; do
  IFS=: read -r serial lot exp what <<<"$l"
  "$BIN" drug label --gtin $GTIN --lot "$lot" --serial "$serial" --expiry "$exp" --base "$URL" \
     --png "$DEMO/labels/$what-$serial.png" --svg "$DEMO/labels/$what-$serial.svg" >/dev/null
done
[ $fresh = 1 ] && say "  labels (QR PNG and SVG) in $DEMO/labels/: genuine, dispensed, counterfeit, recalled"

height=$(curl -s "$URL/v1/status" | sed -n 's/.*"height": *\([0-9]*\).*/\1/p')
PATNAME=$(basename "$PAT" .json)
if [ $fresh = 1 ]; then how="started with sample data"; else how="started again ($started node(s) started, data kept)"; fi
cat <<TXT

medchain demo is running: a consortium of $NODES nodes, chain medchain-demo, height $height; $how.
$(sed -n 's/^\(node[0-9]*\): *\(.*\) api \(http[^ ]*\).*/  \1  \3  \2/p' "$DEMO/testnet.txt")
  logs  $NET/node0/node.log ... node6/node.log
  keys  $KEYS  (St Mary's Hospital admin: $ADMIN)

In a browser on this machine (each page asks for a key file: use "Open your key file"):
  $URL/patient.html     patient portal       key $PAT
  $URL/clinician.html   clinician            key $KEYS/dr-grace-hopper-2025.json
  $URL/auditor.html     auditor              key $KEYS/ada-audit.json
  $URL/verify.html      verify a medicine    no key (public); type or upload a label, e.g.
                            $DEMO/labels/counterfeit-FAKE42.png
                        pharmacist actions   key $KEYS/corner-pharmacist.json
  $URL/research.html    research             key $KEYS/dr-rosalind-franklin.json
  $URL/explorer.html    ledger explorer      no key

In a shell (each line runs as printed):
  $BIN status --node $URL
  $BIN block show latest --node http://127.0.0.1:$((API_PORT + 5))
  $BIN account show --key $KEYS/dr-john-snow.json --node $URL
  $BIN tx show $DISPENSE_TX --node $URL
  $BIN proof $DISPENSE_TX --node $URL
  $BIN verify --home $HOME_DIR
  curl -s $URL/v1/validators
  curl -s $URL/metrics
Medical records of $PATNAME (FHIR R4, encrypted; every read and refusal is on the ledger):
  $BIN record list --key $PAT --node $URL
  $BIN record get Observation/$REC --key $KEYS/dr-grace-hopper-2025.json --node $URL
  $BIN access log --key $PAT --node $URL
  $BIN grant list --key $PAT --node $URL
  $BIN breakglass list --key $KEYS/ada-audit.json --node $URL
  $BIN record export --key $PAT --out $DEMO/export-$PATNAME.json --node $URL
Medicines (the labels in $DEMO/labels/ encode these addresses):
  $BIN drug verify '$URL/01/$GTIN/10/LOT2026A/21/PK2?17=280630' --node $URL      # genuine
  $BIN drug verify '$URL/01/$GTIN/10/LOT2026A/21/FAKE42?17=280630' --node $URL   # exit 1: unknown serial
  $BIN drug verify '$URL/01/$GTIN/10/LOT2025Z/21/RC1?17=270131' --node $URL      # exit 1: recalled
  curl -s '$URL/01/$GTIN/10/LOT2026A/21/PK1?17=280630'
  curl -s '$URL/v1/supply/alerts?org=$ACME_ORG'
  $BIN drug vrs --key $KEYS/meddistrib-depot.json --gtin $GTIN --serial PK3 --lot LOT2026A --expiry 280630 --gln $DISTRIBUTOR_GLN --context dscsaSaleableReturn --node $URL
Research:
  $BIN trial verify HIV-VL-1 --node $URL
  curl -s $URL/v1/research/study/HIV-VL-1
Faults (the consortium tolerates one validator down; restart it and it catches up):
  kill -9 \$(cat $NET/node3/node.pid)
  nohup $BIN node --home $NET/node3 >>$NET/node3/node.log 2>&1 &
  $BIN load --key $ADMIN --rate 200 --duration 10 --node $URL --node http://127.0.0.1:$((API_PORT + 1))

Stop it with:  make demo-stop      (make demo starts it again with its data; rm -rf $DEMO starts over)
TXT
