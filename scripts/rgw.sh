#!/usr/bin/env bash
# A throwaway single-node Ceph cluster answering S3 (RADOS Gateway) on a
# loopback port, all of it inside one folder: one monitor, one OSD on
# memstore (data in RAM), one radosgw with the beast frontend, no cephx.
#
#   scripts/rgw.sh start DIR PORT ACCESS_KEY SECRET_KEY [OWNER_PID]
#       creates DIR (must not exist yet or be empty), starts the daemons,
#       waits until S3 answers, creates an S3 user with the given keys.
#       Exits non-zero (with the tail of the logs) when any step fails.
#       With OWNER_PID, a watchdog stops everything when that process ends
#       (a test that fails or times out before it stops the cluster).
#   scripts/rgw.sh stop DIR
#       stops radosgw, the OSD and the monitor by their pid files in DIR.
#   scripts/rgw.sh stop-gateway DIR / start-gateway DIR
#       stops or restarts only radosgw (the cluster keeps its data).
#   scripts/rgw.sh pause-gateway DIR / resume-gateway DIR
#       SIGSTOP / SIGCONT radosgw: a gateway that accepts connections and
#       answers nothing (a hung store).
#
# Debian's packages ceph-mon ceph-osd radosgw ceph-common (make deps).
set -euo pipefail

die() { echo "rgw: $*" >&2; exit 1; }

# Alive and not a zombie (a daemon's zombie waits for init to reap it).
alive() {
  [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

stop_pid() {
  local f="$1" pid i
  [ -f "$f" ] || return 0
  pid="$(cat "$f" 2>/dev/null || true)"
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || { rm -f "$f"; return 0; }
  # The data is throwaway: a short grace, then SIGKILL (a clean Ceph
  # shutdown takes about 2 s a daemon here).
  for i in 1 2 3 4; do
    alive "$pid" || { rm -f "$f"; return 0; }
    sleep 0.05
  done
  kill -9 "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do
    alive "$pid" || break
    sleep 0.05
  done
  rm -f "$f"
}

start_gateway() {
  local dir="$1" port i
  port="$(cat "$dir/port")"
  radosgw -c "$dir/ceph.conf" -n client.rgw.a
  for i in $(seq 1 300); do
    if [ -f "$dir/run/client.rgw.a.pid" ] && ! alive "$(cat "$dir/run/client.rgw.a.pid")"; then
      tail -20 "$dir/log/client.rgw.a.log" >&2 || true
      die "radosgw exited (port $port taken?)"
    fi
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)" = 200 ]; then
      return 0
    fi
    sleep 0.05
  done
  tail -20 "$dir/log/client.rgw.a.log" >&2 || true
  die "radosgw did not answer on port $port"
}

start() {
  local dir="$1" port="$2" access="$3" secret="$4" owner="${5:-}"
  [ -n "$dir" ] && [ -n "$port" ] && [ -n "$access" ] && [ -n "$secret" ] ||
    die "usage: rgw.sh start DIR PORT ACCESS_KEY SECRET_KEY"
  for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph; do
    command -v "$b" >/dev/null || die "$b is missing (make deps installs ceph-mon ceph-osd radosgw ceph-common)"
  done
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
  mkdir -p "$dir/run" "$dir/log" "$dir/mon" "$dir/osd" "$dir/rgw"
  echo "$port" > "$dir/port"
  local fsid; fsid="$(cat /proc/sys/kernel/random/uuid)"
  local monport; monport="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
  cat > "$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$monport
public network = 127.0.0.0/8
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
keyring = $dir/keyring
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
paxos propose interval = 0.05
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
mon data avail crit = 1
osd mon shutdown timeout = 1
[mon.a]
mon data = $dir/mon
[osd.0]
osd data = $dir/osd
osd objectstore = memstore
memstore device bytes = 536870912
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$port tcp_nodelay=1
rgw data = $dir/rgw
rgw dns name = localhost
EOF
  : > "$dir/keyring"
  local conf="$dir/ceph.conf"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$monport]" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" -i a --mkfs --monmap "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" -i a
  local uuid; uuid="$(cat /proc/sys/kernel/random/uuid)"
  local id; id="$(timeout 30 ceph -c "$conf" osd new "$uuid")" || die "ceph osd new failed"
  [ "$id" = 0 ] || die "unexpected osd id $id"
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$uuid" >/dev/null 2>&1 || die "ceph-osd --mkfs failed"
  ceph-osd -c "$conf" -i 0 2>/dev/null
  start_gateway "$dir"
  timeout 30 radosgw-admin -c "$conf" -n client.admin user create --uid=medchain \
    --display-name=medchain --access-key="$access" --secret-key="$secret" >/dev/null ||
    die "radosgw-admin user create failed"
  if [ -n "$owner" ]; then
    setsid bash "$0" watch "$dir" "$owner" </dev/null >/dev/null 2>&1 &
    echo $! > "$dir/run/watchdog.pid"
  fi
}

watch() {
  local dir="$1" owner="$2"
  while alive "$owner" && [ -f "$dir/run/mon.a.pid" ]; do sleep 0.5; done
  rm -f "$dir/run/watchdog.pid"
  stop "$dir"
}

stop() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  if [ -f "$dir/run/watchdog.pid" ]; then
    kill "$(cat "$dir/run/watchdog.pid")" 2>/dev/null || true
    rm -f "$dir/run/watchdog.pid"
  fi
  stop_pid "$dir/run/client.rgw.a.pid"
  stop_pid "$dir/run/osd.0.pid"
  stop_pid "$dir/run/mon.a.pid"
}

cmd="${1:-}"
shift || true
case "$cmd" in
  start) start "${1:-}" "${2:-}" "${3:-}" "${4:-}" "${5:-}" ;;
  watch) watch "$1" "$2" ;;
  stop) stop "${1:?usage: rgw.sh stop DIR}" ;;
  stop-gateway) stop_pid "${1:?usage: rgw.sh stop-gateway DIR}/run/client.rgw.a.pid" ;;
  start-gateway) start_gateway "$(cd "${1:?usage: rgw.sh start-gateway DIR}" && pwd)" ;;
  pause-gateway) kill -STOP "$(cat "${1:?usage: rgw.sh pause-gateway DIR}/run/client.rgw.a.pid")" ;;
  resume-gateway) kill -CONT "$(cat "${1:?usage: rgw.sh resume-gateway DIR}/run/client.rgw.a.pid")" ;;
  *) die "usage: rgw.sh start DIR PORT ACCESS SECRET | stop DIR | stop-gateway DIR | start-gateway DIR" ;;
esac
