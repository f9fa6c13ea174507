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
  # The drug supply chain's organisations, in the genesis before the first block.
  "$BIN" genesis add-org --home "$HOME_DIR" --id 2 --name "Acme Pharma" --kind manufacturer \
         --gln 0950600000002 --admin-key-out "$KEYS/acme-admin.json" >/dev/null
  "$BIN" genesis add-org --home "$HOME_DIR" --id 3 --name "MedDistrib" --kind distributor \
         --gln 4012345000009 --admin-key-out "$KEYS/meddistrib-admin.json" >/dev/null
  "$BIN" genesis add-org --home "$HOME_DIR" --id 4 --name "Corner Pharmacy" --kind pharmacy \
         --gln 5412345000020 --admin-key-out "$KEYS/corner-pharmacy-admin.json" >/dev/null
  "$BIN" genesis add-org --home "$HOME_DIR" --id 5 --name "Medicines Agency" --kind regulator \
         --gln 5412345000037 --admin-key-out "$KEYS/agency-admin.json" >/dev/null
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
  mc drug ship --key "$KEYS/acme-line.json" --to 3 --gtin $GTIN --serials PK1,PK2,PK3 >/dev/null
  mc drug receive --key "$KEYS/meddistrib-depot.json" --gtin $GTIN --serials PK1,PK2,PK3 >/dev/null
  mc drug ship --key "$KEYS/meddistrib-depot.json" --to 4 --gtin $GTIN --serials PK1,PK2 >/dev/null
  mc drug receive --key "$KEYS/corner-pharmacist.json" --gtin $GTIN --serials PK1,PK2 >/dev/null
  mc drug dispense --key "$KEYS/corner-pharmacist.json" --gtin $GTIN --serial PK1 >/dev/null
  mc drug commission --key "$KEYS/acme-line.json" --gtin $GTIN --lot LOT2025Z --expiry 2027-01-31 \
     --serials RC1 >/dev/null
  mc drug recall --key "$KEYS/agency-inspector.json" --gtin $GTIN --lot LOT2025Z \
     --reason "sterility failure" >/dev/null
  echo "  drug journey: Acme Pharma -> MedDistrib -> Corner Pharmacy (PK1 dispensed), lot LOT2025Z recalled"
  mkdir -p "$DEMO/labels"
  for l in "PK2:LOT2026A:2028-06-30:genuine" "PK1:LOT2026A:2028-06-30:dispensed" \
           "FAKE42:LOT2026A:2028-06-30:counterfeit" "RC1:LOT2025Z:2027-01-31:recalled"; do
    IFS=: read -r serial lot exp what <<<"$l"
    "$BIN" drug label --gtin $GTIN --lot "$lot" --serial "$serial" --expiry "$exp" --base "$URL" \
       --png "$DEMO/labels/$what-$serial.png" --svg "$DEMO/labels/$what-$serial.svg" >/dev/null
  done
  echo "  labels (QR PNG and SVG) in $DEMO/labels/: genuine, dispensed, counterfeit, recalled"
fi

PAT=$(ls "$KEYS"/patient-*.json 2>/dev/null | awk 'NR == 1' || true)
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
  # Medicines (scan a label in $DEMO/labels/ with a phone on this machine, or):
  build/medchain drug verify '$URL/01/09506000134352/10/LOT2026A/21/PK2?17=280630' --node $URL   # genuine
  build/medchain drug verify '$URL/01/09506000134352/10/LOT2026A/21/FAKE42?17=280630' --node $URL # counterfeit
  curl -s -H 'Accept: text/html' '$URL/01/09506000134352/10/LOT2025Z/21/RC1?17=270131'   # recalled, as a phone sees it
  curl -s '$URL/01/09506000134352/10/LOT2026A/21/PK1?17=280630' ; curl -s '$URL/v1/supply/alerts?org=2'
  build/medchain drug vrs --key $KEYS/meddistrib-depot.json --gtin 09506000134352 --serial PK3 \\
      --lot LOT2026A --expiry 280630 --gln 4012345000009 --context dscsaSaleableReturn --node $URL
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

Stop it with:  make demo-stop
TXT
