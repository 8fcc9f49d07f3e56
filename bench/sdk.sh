#!/usr/bin/env bash
# The TypeScript client's benchmark: its size, and what it adds to a track.
#
#   * size: the built module (sdk/typescript/dist, raw), and bundled, minified with the
#     pinned esbuild and gzipped, as an app would ship it; target <= 6 KiB;
#   * overhead: POST /v1/usage/track made by @dream-api/client and by a bare fetch of
#     the same request, in interleaved rounds against one api worker this script
#     starts under `wrangler dev` (state on tmpfs, platform quotas and the rate limit
#     raised, the local trace collector and explorer off, as in bench/run.sh);
#     prints both p50s and their ratio, target <= 1.05 (bench/sdk.mjs).
#
# PASS/FAIL is informational; the exit code is 0 unless the run itself broke.
# Usage: bash bench/sdk.sh [--no-build]   (--no-build: use the existing workers/api/build)
# Env:   SDK_BENCH_ROUNDS, SDK_BENCH_CALLS, SDK_BENCH_WARMUP, SDK_BENCH_USERS (see bench/sdk.mjs)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
source "$DREAM_ROOT/scripts/workers.sh"
source "$DREAM_ROOT/bench/common.sh"
cd "$DREAM_ROOT"

BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    *) echo "bench/sdk.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
PORT=18920
SIZE_TARGET=6144

work=$(mktemp -d "${TMPDIR:-/tmp}/dream-sdk-bench.XXXXXX")
state=$(mktemp -d /dev/shm/dream-sdk-bench-state.XXXXXX)
export DREAM_LOGS="$work/logs"
trap 'stop_workers; rm -rf "$work" "$state"' EXIT

if ((BUILD)); then bash scripts/build.sh >&2; fi
(cd sdk/typescript && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm run --silent build)

echo "@dream-api/client size"
raw=$(cat sdk/typescript/dist/*.js | wc -c)
min=$("$ESBUILD_BIN" sdk/typescript/dist/index.js --bundle --minify --format=esm --platform=neutral --log-level=warning | wc -c)
gz=$("$ESBUILD_BIN" sdk/typescript/dist/index.js --bundle --minify --format=esm --platform=neutral --log-level=warning | gzip -9 | wc -c)
printf '  raw (dist/*.js)     %6d bytes\n  minified            %6d bytes\n' "$raw" "$min"
printf '  minified + gzip -9  %6d bytes   target <= %d: %s\n\n' "$gz" "$SIZE_TARGET" "$( ((gz <= SIZE_TARGET)) && echo PASS || echo FAIL)"

# A snapshot of the api and objects workers' builds, so that a rebuild meanwhile cannot
# restart them; the two run in one session (scripts/local-config.py), with the run's own
# registry of local workers.
mkdir -p "$work/api"
cp -R workers/api/build "$work/api/build"
cp -R workers/objects/build "$work/api/objects-build"
export WRANGLER_REGISTRY_PATH="$work/registry"
local_config "$work/api/config" --api-build "$work/api/build" --objects-build "$work/api/objects-build" \
  "${BENCH_UNLIMITED_VARS[@]}"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "bench/sdk.sh: port $PORT is in use; is another benchmark running?" >&2; exit 1
fi
export X_LOCAL_OBSERVABILITY=false X_LOCAL_EXPLORER=false
start_api api "$PORT" "$state" "$work/api/config" --log-level=error >&2
node bench/sdk.mjs "http://127.0.0.1:$PORT"
