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
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/build/medchain
DEMO=$ROOT/demo
NET=$DEMO/net
KEYS=$DEMO/keys
API_PORT=${MEDCHAIN_DEMO_API_PORT:-7700}
P2P_PORT=${MEDCHAIN_DEMO_P2P_PORT:-26700}
NODES=7
URL=http://127.0.0.1:$API_PORT
HOME_DIR=$NET/node0
SYNTHEA=${MEDCHAIN_TESTDATA:-$ROOT/../shared/testdata}/synthea

running_pids() {
  local any=1
  for f in "$DEMO"/pids/node*.pid; do
    [ -f "$f" ] || continue
    local pid; pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then echo "$pid"; any=0; fi
  done
  return $any
}

if [ "${1:-}" = "stop" ]; then
  if pids=$(running_pids); then
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; done
    rm -f "$DEMO"/pids/node*.pid
    echo "demo: the consortium's $(echo $pids | wc -w) nodes stopped; data kept in $DEMO (rm -rf demo to start over)"
  else
    echo "demo: no demo consortium is running"
  fi
  exit 0
fi

if pids=$(running_pids); then
  echo "demo: a demo consortium is already running (pids $(echo $pids | tr '\n' ' '); API $URL)."
  echo "demo: stop it with 'make demo-stop', or remove the demo/ folder after stopping to start afresh."
  exit 0
fi
for i in $(seq 0 $((NODES - 1))); do
  if curl -s -o /dev/null "http://127.0.0.1:$((API_PORT + i))/v1/status"; then
    echo "demo: something else already answers on 127.0.0.1:$((API_PORT + i)); set MEDCHAIN_DEMO_API_PORT" \
         "and MEDCHAIN_DEMO_P2P_PORT to use other ports." >&2
    exit 1
  fi
done

fresh=0
if [ ! -f "$NET/genesis.json" ]; then
  rm -rf "$DEMO"; mkdir -p "$KEYS" "$DEMO/pids"; fresh=1
  "$BIN" testnet --validators 4 --members --dir "$NET" --chain-id medchain-demo \
         --api-port "$API_PORT" --p2p-port "$P2P_PORT" >"$DEMO/testnet.txt"
fi
mkdir -p "$DEMO/pids"
for i in $(seq 0 $((NODES - 1))); do
  nohup "$BIN" node --home "$NET/node$i" >"$NET/node$i/node.log" 2>&1 &
  echo $! >"$DEMO/pids/node$i.pid"
done
for i in $(seq 0 $((NODES - 1))); do
  u=http://127.0.0.1:$((API_PORT + i))
  for _ in $(seq 100); do curl -s -o /dev/null "$u/v1/status" && break; sleep 0.1; done
  curl -s -o /dev/null "$u/v1/status" || { echo "demo: node$i did not start, see $NET/node$i/node.log" >&2; exit 1; }
done
# wait for the validators to commit their first block together
for _ in $(seq 100); do
  h=$(curl -s "$URL/v1/status" | sed -n 's/.*"height": *\([0-9]*\).*/\1/p')
  [ "${h:-0}" -ge 1 ] && break; sleep 0.1
done

# Organisation admin keys as the testnet wrote them (node homes), by name.
if [ $fresh = 1 ]; then
  cp "$NET/node2/admin_key.json" "$KEYS/acme-admin.json"
  cp "$NET/node3/admin_key.json" "$KEYS/agency-admin.json"
  cp "$NET/node4/admin_key.json" "$KEYS/corner-pharmacy-admin.json"
  cp "$NET/node6/admin_key.json" "$KEYS/meddistrib-admin.json"
fi
ACME_ORG=3 AGENCY_ORG=4 PHARMACY_ORG=5 DISTRIBUTOR_ORG=7
DISTRIBUTOR_GLN=$(curl -s "$URL/v1/org/$DISTRIBUTOR_ORG" | sed -n 's/.*"gln": *"\([0-9]*\)".*/\1/p')
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
  for bundle in "$SYNTHEA"/*.json; do
    [ -f "$bundle" ] || continue
    base=$(basename "$bundle" .json); first=${base%%_*}
    f=$KEYS/patient-$(echo "$first" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9').json
    count=$(mc record import --key "$KEYS/dr-ignaz-semmelweis.json" --patient-key "$f" --bundle "$bundle" \
            | sed -n 's/^imported: //p')
    echo "  imported $count FHIR resources of $first (encrypted, one anchor) by Dr Ignaz Semmelweis"
  done
  pat=$(ls "$KEYS"/patient-*.json 2>/dev/null | awk 'NR == 1' || true)
  if [ -n "$pat" ]; then
    grant=$(mc grant add --key "$pat" --to-member-key "$KEYS/dr-grace-hopper-2025.json" \
            --categories problems,results,medications,encounters | awk '/^id:/ && !g {g=$2} END {print g}')
    echo "  $(basename "$pat" .json) granted Dr Grace Hopper (rotated key) problems, results, medications, encounters: grant $grant"
    rec=$(mc record list --key "$pat" --type Observation | awk '/^record:/ && !r {r=$2} END {print r}')
    mc record get "Observation/$rec" --key "$KEYS/dr-grace-hopper-2025.json" --purpose TREAT \
       --out "$DEMO/read-by-grace.json" >/dev/null
    echo "  Dr Grace Hopper read Observation/$rec (granted; saved in $DEMO/read-by-grace.json)"
    if mc record get "Observation/$rec" --key "$KEYS/dr-virginia-apgar.json" >/dev/null 2>"$DEMO/refused.txt"; then
      echo "demo: a read without a grant was allowed" >&2; exit 1
    fi
    echo "  Dr Virginia Apgar was refused (no grant): $(sed 's/^medchain: error: //' "$DEMO/refused.txt")"
    mc record get "Observation/$rec" --key "$KEYS/dr-virginia-apgar.json" \
       --break-glass "unconscious patient in the emergency room" --out "$DEMO/read-break-glass.json" >/dev/null
    echo "  Dr Virginia Apgar read it with break-glass (flagged, listed for the auditor's review)"
  fi

  # A drug journey: Acme commissions a lot, ships it to MedDistrib, which
  # ships two packs on to Corner Pharmacy, which dispenses one. Then a
  # recalled lot, and labels (QR codes) to scan, one of them counterfeit.
  GTIN=09506000134352
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
  mc drug dispense --key "$KEYS/corner-pharmacist.json" --gtin $GTIN --serial PK1 >/dev/null
  mc drug commission --key "$KEYS/acme-line.json" --gtin $GTIN --lot LOT2025Z --expiry 2027-01-31 \
     --serials RC1 >/dev/null
  mc drug recall --key "$KEYS/agency-inspector.json" --gtin $GTIN --lot LOT2025Z \
     --reason "sterility failure" >/dev/null
  echo "  drug journey: Acme Pharmaceuticals -> MedDistrib Wholesale -> Corner Pharmacy (PK1 dispensed), lot LOT2025Z recalled by the agency"
  mkdir -p "$DEMO/labels"
  for l in "PK2:LOT2026A:2028-06-30:genuine" "PK1:LOT2026A:2028-06-30:dispensed" \
           "FAKE42:LOT2026A:2028-06-30:counterfeit" "RC1:LOT2025Z:2027-01-31:recalled"; do
    IFS=: read -r serial lot exp what <<<"$l"
    "$BIN" drug label --gtin $GTIN --lot "$lot" --serial "$serial" --expiry "$exp" --base "$URL" \
       --png "$DEMO/labels/$what-$serial.png" --svg "$DEMO/labels/$what-$serial.svg" >/dev/null
  done
  echo "  labels (QR PNG and SVG) in $DEMO/labels/: genuine, dispensed, counterfeit, recalled"

  # Research: Dr Rosalind Franklin registers a study with pre-specified
  # outcomes; every Synthea patient consents to "hiv-research"; one is
  # enrolled; enrolment closes, the database is locked, results are posted
  # and the trial verifies clean (docs/RESEARCH.md).
  RES=$KEYS/dr-rosalind-franklin.json
  RES_PUB=$(sed -n 's/.*"public_key": *"\([0-9a-f]*\)".*/\1/p' "$RES")
  echo "protocol of HIV-VL-1, version 1" >"$DEMO/protocol.txt"
  mc study register --key "$RES" --id HIV-VL-1 --title "Viral load under ART" --sponsor "St Mary's Research" \
     --registry-id NCT09999999 --protocol-file "$DEMO/protocol.txt" --purpose hiv-research \
     --categories all --k 1 --primary "viral load at 48 weeks" --secondary "CD4 count at 48 weeks" \
     --researchers "$RES_PUB" >/dev/null
  for f in "$KEYS"/patient-*.json; do
    [ -f "$f" ] || continue
    mc research consent --key "$f" --purpose hiv-research --version 1 --categories all >/dev/null
  done
  first=$(ls "$KEYS"/patient-*.json 2>/dev/null | awk 'NR == 1' || true)
  if [ -n "$first" ]; then
    mc trial enrol --key "$RES" --study HIV-VL-1 \
       --patient "$(sed -n 's/.*"public_key": *"\([0-9a-f]*\)".*/\1/p' "$first")" >/dev/null
  fi
  echo "locked dataset of HIV-VL-1" >"$DEMO/locked.txt"
  mc trial close --key "$RES" --study HIV-VL-1 >/dev/null
  mc trial lock --key "$RES" --study HIV-VL-1 --dataset-file "$DEMO/locked.txt" >/dev/null
  mc trial results --key "$RES" --study HIV-VL-1 --dataset-file "$DEMO/locked.txt" \
     --primary "viral load at 48 weeks" --secondary "CD4 count at 48 weeks" >/dev/null
  echo "  research: study HIV-VL-1 registered, patients consented, 1 enrolled, locked, results posted: $(mc trial verify HIV-VL-1 | sed -n 's/^verdict: //p')"
fi

PAT=$(ls "$KEYS"/patient-*.json 2>/dev/null | awk 'NR == 1' || true)
height=$(curl -s "$URL/v1/status" | sed -n 's/.*"height": *\([0-9]*\).*/\1/p')
cat <<TXT

medchain demo is running: a consortium of $NODES nodes, chain medchain-demo, height $height.
$(sed -n 's/^\(node[0-9]*\): *\(.*\) api \(http[^ ]*\).*/  \1  \3  \2/p' "$DEMO/testnet.txt")
  logs    $NET/nodeI/node.log     keys  $KEYS  (St Mary's admin: $ADMIN)
  web     $URL/  (patient portal, clinician, verify a medicine, research, explorer)

Try:
  build/medchain status --node $URL ; curl -s $URL/v1/validators ; curl -s $URL/metrics | head
  build/medchain block show latest --node http://127.0.0.1:$((API_PORT + 5))   # same block on a member node
  build/medchain load --key $ADMIN --rate 200 --duration 10 --node $URL --node http://127.0.0.1:$((API_PORT + 1))
  kill -9 \$(cat $DEMO/pids/node3.pid)   # the other three validators go on; restart it with:
  build/medchain node --home $NET/node3 >>$NET/node3/node.log 2>&1 &   # it catches up
  build/medchain account show --key $KEYS/dr-john-snow.json --node $URL      # revoked
  curl -s $URL/v1/blocks | head -40
  build/medchain tx show <id> --node $URL ; build/medchain proof <id> --node $URL
  build/medchain verify --home $HOME_DIR      # re-checks every hash, signature and state row
  # Medicines (scan a label in $DEMO/labels/ with a phone on this machine, or):
  build/medchain drug verify '$URL/01/09506000134352/10/LOT2026A/21/PK2?17=280630' --node $URL   # genuine
  build/medchain drug verify '$URL/01/09506000134352/10/LOT2026A/21/FAKE42?17=280630' --node $URL # counterfeit
  curl -s -H 'Accept: text/html' '$URL/01/09506000134352/10/LOT2025Z/21/RC1?17=270131'   # recalled, as a phone sees it
  curl -s '$URL/01/09506000134352/10/LOT2026A/21/PK1?17=280630' ; curl -s '$URL/v1/supply/alerts?org=$ACME_ORG'
  build/medchain drug vrs --key $KEYS/meddistrib-depot.json --gtin 09506000134352 --serial PK3 \\
      --lot LOT2026A --expiry 280630 --gln $DISTRIBUTOR_GLN --context dscsaSaleableReturn --node $URL
TXT
if [ -n "$PAT" ]; then
cat <<TXT
  # Medical records (FHIR R4, encrypted, every access on the ledger); patient key $PAT:
  build/medchain record list --key $PAT --node $URL
  build/medchain access log --key $PAT --node $URL          # every read and refusal, break-glass flagged
  build/medchain record export --key $PAT --out /tmp/export.json --node $URL   # FHIR Bundle + Provenance
  build/medchain grant list --key $PAT --node $URL ; build/medchain breakglass list --key $KEYS/ada-audit.json --node $URL
  build/medchain record get Observation/<id> --key $KEYS/dr-grace-hopper-2025.json --node $URL
TXT
fi
cat <<TXT
  # Research: the trial's report, the study with its dataset query log
  build/medchain trial verify HIV-VL-1 --node $URL
  curl -s $URL/v1/research/study/HIV-VL-1
TXT
cat <<TXT

Stop it with:  make demo-stop
TXT
