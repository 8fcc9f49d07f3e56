#!/usr/bin/env bash
# What each request's JSON log line (dream_core::access::AccessLine) costs a track under
# `wrangler dev`: two api workers from the same build, state on tmpfs, one with
# REQUEST_LOGS=off, measured in interleaved rounds (wrk -t2 -c16, 8 s each) over the same
# 99 end-users; prints each round's req/s and the ratio with/without.
#
#   bash bench/request-logs.sh [--no-build]
#
# Locally the line crosses from workerd to wrangler's Node process for every request,
# which is why bench/run.sh measures with REQUEST_LOGS=off; in production Workers Logs
# collects console output outside the request. Ports 18960-18961, loopback only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/env.sh
[[ "${1:-}" == "--no-build" ]] || bash scripts/build.sh
state=$(mktemp -d /dev/shm/dream-request-logs.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
  rm -rf "$state"
}
trap cleanup EXIT
start() {
  local name=$1 port=$2; shift 2
  X_LOCAL_OBSERVABILITY=false X_LOCAL_EXPLORER=false setsid wrangler dev --name "$name" \
    --ip 127.0.0.1 --port "$port" --show-interactive-dev-session=false --log-level=error \
    --persist-to "$state/$name" --var 'PLATFORM_TIERS:{"free":{"limit":null},"paid":{"limit":null}}' \
    --var RATE_LIMIT_PER_MINUTE:1000000000 --var ALLOWED_ORIGINS:http://127.0.0.1:8790 "$@" \
    </dev/null >"$state/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && return 0
    sleep 0.2
  done
  cat "$state/$name.log" >&2
  exit 1
}
key() {
  curl -sf -X POST "http://127.0.0.1:$1/v1/developers" -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com"}' | jq -r .apiKey
}
rps() {
  wrk -t2 -c16 -d"$2" -s bench/track.lua "http://127.0.0.1:$1" -- "$3" 99 bench-logs- |
    awk '/Requests\/sec/ {print $2}'
}
start dream-api-logs-on 18960
start dream-api-logs-off 18961 --var REQUEST_LOGS:off
on=$(key 18960)
off=$(key 18961)
rps 18960 3s "$on" >/dev/null
rps 18961 3s "$off" >/dev/null
rounds=()
for round in 1 2 3; do
  a=$(rps 18960 8s "$on")
  b=$(rps 18961 8s "$off")
  echo "round $round  track req/s with the log line $a, without $b"
  rounds+=("$a $b")
done
printf '%s\n' "${rounds[@]}" | awk '{on += $1; off += $2}
  END {printf "REQUEST LOGS  track req/s with/without the per-request log line: %.2fx\n", on / off}'
