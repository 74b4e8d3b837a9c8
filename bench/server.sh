#!/usr/bin/env bash
# Server benchmark (not a test): requests per second and p50/p99 latency of the overview
# page and one chart endpoint with 64 concurrent connections on loopback (wrk, from
# Debian's package). Builds nothing: pass the yishi binary (a release build for numbers
# worth recording). Writes a demo warehouse into a temporary folder and removes it.
#
#   bench/server.sh [path/to/yishi] [seconds per run]
set -euo pipefail
bin="${1:-${CARGO_TARGET_DIR:-$HOME/.cache/yishi-target}/release/yishi}"
secs="${2:-15}"
port="${YISHI_BENCH_PORT:-18080}"
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 2; }
work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$bin" --warehouse "$work/data" demo --no-serve >/dev/null
YISHI_PASSWORD=bench-password-1 "$bin" --warehouse "$work/data" user add bench --platform >/dev/null
"$bin" --warehouse "$work/data" serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
cookie="$(curl -s -o /dev/null -D - -d 'username=bench&password=bench-password-1' "http://127.0.0.1:$port/login" \
  | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')"
[ -n "$cookie" ] || { echo "bench: login failed" >&2; exit 1; }

overview="http://127.0.0.1:$port/overview?year=2025"
chart="http://127.0.0.1:$port/api/v1/charts/community_ranking.png?year=2025"
for url in "$overview" "$chart"; do
  start=$(date +%s.%N)
  curl -fs -o /dev/null -H "Cookie: $cookie" "$url"
  echo "first (cold) request $(echo "$(date +%s.%N) - $start" | bc) s: $url"
done
for url in "$overview" "$chart"; do
  echo "== $url"
  wrk -t2 -c64 -d"${secs}s" --latency -H "Cookie: $cookie" "$url" | grep -E "Requests/sec|^ +(50|75|90|99)%|requests in|Non-2xx|Socket errors"
done
curl -fs "http://127.0.0.1:$port/healthz"; echo
