#!/usr/bin/env bash
# make soak: a long run of a 4-validator testnet on loopback at a steady load
# (no perturbations), reporting over time each node's resident memory (RSS)
# and open file descriptors and the load's commit rate and latency, so a
# leak or a drift shows. It reports; it does not judge (the figures go into
# the release notes). Bounded: it stops by itself after SOAK_SECONDS.
#
#   SOAK_SECONDS  length of the run (default 3600)
#   SOAK_RATE     offered load in tx/s (default 300, about half of what four
#                 validators and the load generator sustain on 2 cores)
#   SOAK_CHUNK    seconds per load run (default 60; one report line each)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/build/medchain
SECONDS_TOTAL=${SOAK_SECONDS:-3600}
RATE=${SOAK_RATE:-300}
CHUNK=${SOAK_CHUNK:-60}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/medchain-soak-XXXXXX")
N=4

free_base() { # n consecutive free loopback ports below the ephemeral range
  local base p ok
  for base in $(seq 14000 20 19980); do
    ok=1
    for p in $(seq "$base" $((base + $1 - 1))); do
      if ss -ltnH "( sport = :$p )" | grep -q .; then ok=0; break; fi
    done
    [ $ok = 1 ] && { echo "$base"; return; }
  done
  echo "soak: no free ports" >&2; exit 1
}
API=$(free_base $N)
P2P=$((API + 10))
"$BIN" testnet --validators $N --dir "$DIR/net" --api-port "$API" --p2p-port "$P2P" \
       --chain-id medchain-soak >/dev/null
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
for i in $(seq 0 $((N - 1))); do
  "$BIN" node --home "$DIR/net/node$i" >"$DIR/net/node$i/node.log" 2>&1 &
  pids+=($!)
done
for i in $(seq 0 $((N - 1))); do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$((API + i))/v1/status" && break; sleep 0.1; done
done

rss_kb() { awk '/^VmRSS:/ {print $2; f=1} END {if (!f) print 0}' "/proc/$1/status" 2>/dev/null || echo 0; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
nodes=""
for i in $(seq 0 $((N - 1))); do nodes="$nodes --node http://127.0.0.1:$((API + i))"; done

echo "soak: $N validators, $RATE tx/s offered, ${SECONDS_TOTAL} s in ${CHUNK} s runs; data in $DIR"
printf '%8s %10s %10s %10s %8s %8s %8s  %s\n' "t(s)" "tx/s" "p50(ms)" "p99(ms)" "rss0(MB)" "rssmax" "fdsmax" "height"
start=$(date +%s)
first_rss=0 first_fds=0 last_rss=0 last_fds=0 first_p50="" last_p50=""
while [ $(( $(date +%s) - start )) -lt "$SECONDS_TOTAL" ]; do
  out=$("$BIN" load --key "$DIR/net/node0/admin_key.json" --rate "$RATE" --duration "$CHUNK" $nodes 2>&1 || true)
  tps=$(printf '%s\n' "$out" | sed -n 's/^load: committed \([0-9.]*\) tx\/s/\1/p')
  p50=$(printf '%s\n' "$out" | sed -n 's/^load: latency p50 \([0-9]*\) ms.*/\1/p')
  p99=$(printf '%s\n' "$out" | sed -n 's/.*p99 \([0-9]*\) ms.*/\1/p')
  rmax=0 fmax=0 r0=0
  for k in "${!pids[@]}"; do
    p=${pids[$k]}
    kill -0 "$p" 2>/dev/null || { echo "soak: node$k (pid $p) died; see $DIR/net/node$k/node.log" >&2; exit 1; }
    r=$(rss_kb "$p"); f=$(fds "$p")
    [ "$k" = 0 ] && r0=$r
    [ "$r" -gt "$rmax" ] && rmax=$r
    [ "$f" -gt "$fmax" ] && fmax=$f
  done
  h=$(curl -s "http://127.0.0.1:$API/v1/status" | sed -n 's/.*"height": *\([0-9]*\).*/\1/p')
  t=$(( $(date +%s) - start ))
  printf '%8s %10s %10s %10s %8s %8s %8s  %s\n' "$t" "${tps:-?}" "${p50:-?}" "${p99:-?}" \
         $((r0 / 1024)) $((rmax / 1024)) "$fmax" "${h:-?}"
  [ "$first_rss" = 0 ] && { first_rss=$rmax; first_fds=$fmax; first_p50=${p50:-}; }
  last_rss=$rmax last_fds=$fmax last_p50=${p50:-}
done
echo "soak: max node RSS $((first_rss / 1024)) MB after the first run, $((last_rss / 1024)) MB at the end;" \
     "max fds $first_fds -> $last_fds; p50 latency ${first_p50:-?} -> ${last_p50:-?} ms"
rm -rf "$DIR"
