#!/usr/bin/env bash
# Builds one worker crate to CRATE/build (or OUT_DIR): worker-build, then wasm-opt, then,
# for a worker with Durable Objects, its entry module (CRATE/entry.mjs, with
# crates/edge/js/entry.mjs beside it as edge.mjs) in front of worker-build's module
# (moved to wasm.js), so that its objects take commands by RPC.
#   bash scripts/build-worker.sh CRATE [OUT_DIR [cargo build args…]]
# The result's index.js is the worker's `main` either way.
set -euo pipefail
source "$(dirname "$0")/env.sh"
crate=$(cd "$DREAM_ROOT/$1" && pwd)
out=${2:-$crate/build}
[[ $out = /* ]] || out="$DREAM_ROOT/$out"
shift $(($# < 2 ? $# : 2))
log=$(mktemp)
if ! (cd "$crate" && worker-build --release --out-dir "$out" . "$@") >"$log" 2>&1; then
  cat "$log" >&2; rm -f "$log"; exit 1
fi
rm -f "$log"
# worker-build keeps the function-names section (~40 KiB gzipped); production stack
# traces then show offsets instead of names, which we accept for the size. worker-build's
# single -Oz pass leaves a little behind; repeating it until nothing changes takes
# ~2 KiB gzipped more off the api worker. With DREAM_KEEP_NAMES=1 (bench/profile.sh)
# the names stay, so that a CPU profile names Rust functions.
names=(--strip-debug)
[[ ${DREAM_KEEP_NAMES:-} == 1 ]] && names=(--debuginfo)
wasm-opt "$out/index_bg.wasm" -Oz --converge "${names[@]}" "${WASM_FEATURES[@]}" -o "$out/index_bg.wasm"
if [[ -f $crate/entry.mjs ]]; then
  mv "$out/index.js" "$out/wasm.js"
  cp "$crate/entry.mjs" "$out/index.js"
  cp "$DREAM_ROOT/crates/edge/js/entry.mjs" "$out/edge.mjs"
fi
