#!/usr/bin/env bash
# Builds and runs every libFuzzer target.
#
#   scripts/fuzz.sh [SECONDS]      (default 20 seconds per target)
#   FUZZ_TARGETS="fuzz_api fuzz_fhir" scripts/fuzz.sh 3600   (only those)
#
# Every fuzz/fuzz_<name>.c is a target: it is linked with clang
# (-fsanitize=fuzzer,address,undefined) against all library sources
# (src/*/*.c except src/cli) built with the same sanitizers into
# build-fuzz/. Each target starts from its committed seed corpus
# fuzz/corpus/<name>/ (read only); new inputs go to build-fuzz/corpus/<name>/
# and crash reproducers to build-fuzz/artifacts/<name>/. The script runs all
# targets and exits non-zero if any failed to build or found a crash.
# Replay a finding with: build-fuzz/bin/<name> build-fuzz/artifacts/<name>/crash-...
set -euo pipefail

secs="${1:-20}"
case "$secs" in ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2;; esac
cd "$(dirname "$0")/.."

PKGS="libsodium sqlite3 libuv libmicrohttpd jansson libqrencode libcurl libcrypto gnutls"
CC="${FUZZ_CC:-clang}"
OUT=build-fuzz
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c17 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Wno-unused-parameter $SAN -Isrc $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lpthread -lm"
JOBS="$(nproc 2>/dev/null || echo 2)"

mkdir -p "$OUT/obj" "$OUT/bin"

# Library objects, instrumented for coverage (fuzzer-no-link). Rebuilt when
# the source or any header under src/ is newer than the object.
newest_header="$(find src -name '*.h' -printf '%T@\n' | sort -n | tail -1)"
lib_objs=()
to_build=()
for src in src/*/*.c; do
  case "$src" in src/cli/*) continue;; esac
  obj="$OUT/obj/${src//\//_}"; obj="${obj%.c}.o"
  lib_objs+=("$obj")
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] ||
     awk -v h="$newest_header" -v o="$(stat -c %Y "$obj")" 'BEGIN{exit !(h > o)}'; then
    to_build+=("$src:$obj")
  fi
done
if [ ${#to_build[@]} -gt 0 ]; then
  echo "fuzz: compiling ${#to_build[@]} library sources"
  export CC CFLAGS
  printf '%s\n' "${to_build[@]}" | xargs -P "$JOBS" -I{} sh -c \
    'src="${1%%:*}"; obj="${1#*:}"; $CC $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj"' _ {}
fi

targets=(fuzz/fuzz_*.c)
if [ ! -e "${targets[0]}" ]; then echo "fuzz: no targets under fuzz/" >&2; exit 1; fi
# FUZZ_TARGETS="fuzz_api fuzz_fhir" runs only those (all by default).
if [ -n "${FUZZ_TARGETS:-}" ]; then
  targets=()
  for name in $FUZZ_TARGETS; do
    if [ ! -f "fuzz/$name.c" ]; then echo "fuzz: no target fuzz/$name.c" >&2; exit 2; fi
    targets+=("fuzz/$name.c")
  done
fi

failed=()
for t in "${targets[@]}"; do
  name="$(basename "$t" .c)"
  bin="$OUT/bin/$name"
  echo "fuzz: building $name"
  if ! $CC $CFLAGS -fsanitize=fuzzer "$t" "${lib_objs[@]}" $LIBS -o "$bin"; then
    failed+=("$name (build)")
    continue
  fi
  seeds="fuzz/corpus/$name"
  work="$OUT/corpus/$name"
  arts="$OUT/artifacts/$name"
  mkdir -p "$work" "$arts"
  extra=()
  [ -f "fuzz/$name.dict" ] && extra+=("-dict=fuzz/$name.dict")
  dirs=("$work")
  [ -d "$seeds" ] && dirs+=("$seeds")
  echo "fuzz: running $name for ${secs}s"
  if ! ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
       UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
       "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
              -artifact_prefix="$arts/" -print_final_stats=1 "${extra[@]}" "${dirs[@]}" \
              >"$OUT/$name.log" 2>&1; then
    tail -n 40 "$OUT/$name.log" >&2
    failed+=("$name")
  else
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$OUT/$name.log" | tail -2 | sed "s/^/fuzz: $name: /"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (logs and reproducers under $OUT/)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${secs}s without a finding"
