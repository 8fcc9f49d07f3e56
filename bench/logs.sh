#!/usr/bin/env bash
# What logging costs a track under `wrangler dev`, measured in one run against the same
# code without it. Three api workers, state on tmpfs, in interleaved rounds (wrk -t2
# -c16, 8 s each) over the same 99 end-users, each platform's tier unlimited so that
# every round measures counted calls (not tier-limit refusals):
#
#   logged    the api worker as it ships (each call's entry in the platform's request
#             log, GET /v1/logs), with REQUEST_LOGS=off as bench/run.sh measures it;
#   unlogged  the same api worker with its objects worker built with the feature
#             `bench-without-call-log`, which skips only the request log's row;
#   line      the shipped build with REQUEST_LOGS on: each request's JSON access line
#             (dream_core::access::AccessLine) on top.
#
# It prints each round and two ratios: logged/unlogged (the request log's price; target
# >= 0.95x) and line/logged (the access line's price under wrangler dev, where every line
# is piped from workerd to wrangler's Node process on the same cores; production's
# Workers Logs collects console output outside the request, which is why bench/run.sh
# measures with REQUEST_LOGS=off).
#
#   bash bench/logs.sh [--no-build]     (BENCH_ROUNDS, default 5)
#
# Each api worker runs with its objects worker in one session (scripts/local-config.py).
# --no-build uses workers/*/build and the unlogged build left by an earlier run.
# Ports 18960-18962, loopback only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/env.sh
source bench/common.sh
ROUNDS=${BENCH_ROUNDS:-5}
UNLOGGED=target/bench-unlogged
if [[ "${1:-}" != "--no-build" ]]; then
  bash scripts/build.sh
  echo "==> worker-build workers/objects --features bench-without-call-log" >&2
  bash scripts/build-worker.sh workers/objects "$UNLOGGED" --features bench-without-call-log >&2
fi
[[ -f "$UNLOGGED/index.js" ]] || { echo "bench/logs.sh: no $UNLOGGED; run without --no-build" >&2; exit 1; }
state=$(mktemp -d /dev/shm/dream-logs.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
  rm -rf "$state"
}
trap cleanup EXIT
# The runs' own registry of local workers, apart from any stack on this machine.
export WRANGLER_REGISTRY_PATH="$state/registry"
# start NAME PORT [--objects-build DIR] [--var NAME:VALUE...], one after another: an api
# worker (dream-api-NAME) and its objects worker in one session; each inspector on its
# own port (inspector_port, scripts/env.sh).
start() {
  local name=$1 port=$2; shift 2
  local_config "$state/$name-config" --suffix="-$name" "${BENCH_UNLIMITED_VARS[@]}" \
    --var ALLOWED_ORIGINS:http://127.0.0.1:8790 "$@"
  X_LOCAL_OBSERVABILITY=false X_LOCAL_EXPLORER=false setsid wrangler dev \
    -c "$state/$name-config/api.json" -c "$state/$name-config/objects.json" \
    --ip 127.0.0.1 --port "$port" --inspector-port "$(inspector_port "$port")" \
    --show-interactive-dev-session=false --log-level=error --persist-to "$state/$name" \
    </dev/null >"$state/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && return 0
    sleep 0.2
  done
  cat "$state/$name.log" >&2
  exit 1
}
# key PORT: a new platform's API key, its one tier unlimited.
key() { bench_platform "http://127.0.0.1:$1" bench@example.com; }
# rps PORT DURATION KEY: track req/s; fails on any answer but 200.
rps() {
  local out
  out=$(wrk -t2 -c16 -d"$2" -s bench/track.lua "http://127.0.0.1:$1" -- "$3" 99 bench-logs-)
  if grep -q 'Non-2xx' <<<"$out"; then
    echo "bench/logs.sh: a track on port $1 was not answered 200:" >&2
    echo "$out" >&2
    exit 1
  fi
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}
start logged 18960 --var REQUEST_LOGS:off
start unlogged 18961 --objects-build "$ROOT/$UNLOGGED" --var REQUEST_LOGS:off
start line 18962
logged=$(key 18960)
unlogged=$(key 18961)
line=$(key 18962)
for port_key in "18960 $logged" "18961 $unlogged" "18962 $line"; do
  read -r port k <<<"$port_key"
  rps "$port" 3s "$k" >/dev/null
done
rows=()
for round in $(seq 1 "$ROUNDS"); do
  a=$(rps 18960 8s "$logged")
  b=$(rps 18961 8s "$unlogged")
  c=$(rps 18962 8s "$line")
  echo "round $round  track req/s  logged $a  unlogged $b  with the access line $c"
  rows+=("$a $b $c")
done
printf '%s\n' "${rows[@]}" | awk '{a += $1; b += $2; c += $3}
  END {
    r = a / b
    printf "REQUEST LOG   track req/s logged/unlogged %.2fx (target >= 0.95x) %s\n", r, (r >= 0.95 ? "PASS" : "FAIL")
    printf "ACCESS LINE   track req/s with/without the per-request JSON line %.2fx (under wrangler dev; no target)\n", c / a
  }'
