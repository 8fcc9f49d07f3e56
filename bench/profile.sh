#!/usr/bin/env bash
# Where a track's time goes: a V8 CPU profile of the api worker's isolate, its objects
# worker's isolate and wrangler's entry worker while wrk sends POST /v1/usage/track, with
# the conditions of bench/run.sh (state on tmpfs, trace collector off, REQUEST_LOGS=off,
# one platform with an unlimited tier, 100 end-users round-robin, wrk -t2 -c16).
#
#   bash bench/profile.sh [--no-build]     (BENCH_DURATION, default 10s)
#
# It builds the two workers with their names section kept (DREAM_KEEP_NAMES=1
# scripts/build-worker.sh, into target/bench-profile/), so that the profile names Rust
# functions; --no-build uses the ones an earlier run left there. The profiles go to
# bench/results/profile/*.cpuprofile (Chrome DevTools opens them) and the report, each
# isolate's top functions by self and inclusive time (bench/profile.py), to
# bench/results/profile.txt. A profile is for finding where time goes; the numbers to
# compare are bench/run.sh's, measured without a profiler attached.
#
# bench/profile.py talks to the runtime's inspector with websocket-client, installed
# from bench/profile-requirements.txt into a virtualenv outside the checkout. Port 18970
# (its inspector 19970), loopback only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/env.sh
source bench/common.sh
DURATION=${BENCH_DURATION:-10s}
PORT=18970
URL="http://127.0.0.1:$PORT"
OUT=target/bench-profile
RESULTS=bench/results
log() { echo "==> $*" >&2; }
die() { echo "bench/profile.sh: error: $*" >&2; exit 1; }

if [[ "${1:-}" != "--no-build" ]]; then
  for crate in api objects; do
    log "worker-build workers/$crate (names kept)"
    DREAM_KEEP_NAMES=1 bash scripts/build-worker.sh "workers/$crate" "$OUT/$crate"
  done
fi
[[ -f $OUT/api/index.js && -f $OUT/objects/index.js ]] || die "no build in $OUT; run without --no-build"

tools="$DREAM_CACHE/profile-tools/$(sha256sum bench/profile-requirements.txt | cut -c1-16)"
if [[ ! -f $tools/.installed ]]; then
  log "websocket-client into $tools"
  rm -rf "$tools"
  python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet --no-deps -r bench/profile-requirements.txt
  touch "$tools/.installed"
fi

work=$(mktemp -d)
state=$(mktemp -d /dev/shm/dream-profile.XXXXXX)
PID=
cleanup() {
  [[ -n $PID ]] && kill -- "-$PID" 2>/dev/null || true
  rm -rf "$work" "$state"
}
trap cleanup EXIT
export WRANGLER_REGISTRY_PATH="$work/registry"
local_config "$work/config" --api-build "$OUT/api" --objects-build "$OUT/objects" \
  "${BENCH_UNLIMITED_VARS[@]}" --var REQUEST_LOGS:off >/dev/null
X_LOCAL_OBSERVABILITY=false X_LOCAL_EXPLORER=false \
  setsid wrangler dev -c "$work/config/api.json" -c "$work/config/objects.json" --ip 127.0.0.1 \
  --port "$PORT" --inspector-port "$(inspector_port "$PORT")" --show-interactive-dev-session=false \
  --log-level=error --persist-to "$state" </dev/null >"$work/wrangler.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do
  curl -sf "$URL/health" >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || { cat "$work/wrangler.log" >&2; die "wrangler dev exited"; }
  sleep 0.2
done
curl -sf "$URL/health" >/dev/null || die "the api worker did not answer on $URL"

# The runtime's own inspector: the port of the session's workerd that lists the api worker.
inspector=
for pid in $(pgrep -g "$PID" workerd); do
  for port in $(ss -ltnpH 2>/dev/null | grep "pid=$pid," | grep -o '127.0.0.1:[0-9]*' | cut -d: -f2); do
    if curl -s --max-time 1 "http://127.0.0.1:$port/json/list" | grep -q 'core:user:dream-api'; then
      inspector=$port
    fi
  done
done
[[ -n $inspector ]] || die "found no runtime inspector listing the api worker"

key=$(bench_platform "$URL" profile@example.com) || die "setting up the platform failed"
wrk -t2 -c16 -d3s -s bench/track.lua "$URL" -- "$key" 100 profile- >/dev/null
sleep 1

log "profiling $DURATION of tracks (runtime inspector on port $inspector)"
mkdir -p "$RESULTS/profile"
"$tools/bin/python" bench/profile.py "$inspector" "$RESULTS/profile" -- \
  wrk -t2 -c16 -d"$DURATION" --latency -s bench/track.lua "$URL" -- "$key" 100 profile- \
  | tee "$RESULTS/profile.txt"
