#!/usr/bin/env bash
# The project's benchmark: how much does the api worker cost per request, and does
# POST /v1/usage/track stay flat as the number of platforms grows?
#
# It measures, in one run:
#   * the wasm size of the api worker, of its objects worker and of the baseline
#     worker, raw and gzip -9; the api worker's gzipped size is checked against the
#     350 KiB target, and so is the objects worker's (the two were one worker until the
#     objects moved out, and neither may grow past it); and the size of
#     the dashboard's wasm (frontend/dist), which every developer downloads before
#     seeing anything, checked against 300 KiB gzipped;
#   * with wrk, under `wrangler dev` on this machine: p50, p99, requests/s and the CPU
#     each request cost the worker's processes (wrangler and workerd, from /proc) of
#       js:     the trivial JavaScript worker (bench/js-baseline: `{"ok":true}`), the
#               cheapest thing the runtime can do, which the targets are ratios to;
#       js answer: the same worker's GET /answer, a fixed copy of what an allowed
#               track answers (its headers, a body of its shape), so that the answer's
#               own price is seen apart from the code that makes it (checked against
#               a real track before measuring);
#       wasm:   the smallest useful workers-rs worker (bench/baseline-worker, GET /);
#       floor:  the least a track can cost under the storage layout (the baseline
#               worker's POST /floor, below), with the object in the worker's own
#               script;
#       split floor: the same POST /floor with the object in a second worker, bound by
#               script name, as the api worker's objects are (below);
#       track:  the api's POST /v1/usage/track, spread round-robin over a set of end
#               users of one platform (bench/track.lua),
#     scenario A: on an api worker with 1 platform registered,
#     scenario B: on a second api worker with 1000 platforms registered (tracking as
#                 the last one), measured in the same interleaved rounds as A;
#     each api worker with its objects worker in one `wrangler dev` session, as
#     scripts/test.sh and scripts/dev.sh run them;
#   * two passes: first with the workers' state on tmpfs (the targets), then the same
#     with the state on this machine's disk, reported beside it.
#
# Why ratios: absolute numbers from `wrangler dev` on a noisy 2-core machine say
# little and drift from run to run, and wrk competes with workerd for the same cores.
# The reference workers run under identical conditions (same runtime, same wrk
# settings, interleaved rounds of all of them so that noise hits each alike), so
# track/js is the meaningful number. A and B run side by side, one api worker each, for
# the same reason: measured one after the other in one process, B also carried how the
# run drifted meanwhile (the process's CPU per request moves by 10-25 % over a run as
# its JIT and heap settle), which is not what B asks. Targets (tmpfs pass): track throughput >= 0.7x
# and p50 <= 1.5x the trivial JavaScript worker's. A track needs one atomic object
# call, so it is two invocations where the trivial worker has one: these targets are
# close to that floor. The B/A ratios of track should stay near 1.0: a track must not
# get slower with more platforms. PASS/FAIL is informational; the exit code is 0
# unless the run itself broke (build failure, a worker not starting, a non-2xx status).
#
# The floor explains the rest: it is the least any track can cost under the storage
# layout of API.md ("One writer per piece of platform state") — one Durable Object per
# platform, asked once, adding one to an end-user's SQLite row — with none of
# dream-api's code but its client for the objects (dream_edge::objects). So floor/js
# is the price of the layout on this runtime, and track/floor is what dream-api adds to
# it (keys, tiers, quota, rate windows, idempotency, the JSON contract).
#
# The two floors differ only in where the object lives. `wrangler dev` runs an object of
# the worker's own script in the worker's isolate, and one of another script in that
# script's isolate, so the split floor's call crosses isolates as a track's does (the
# api worker's objects are a worker of their own to keep each wasm under the size
# target). At the edge an object runs in an isolate of its own either way, so the split
# floor is the local price of the layout as deployed, and track/split floor is what
# dream-api's code adds to it.
#
# Every request measured under `wrangler dev` first passes through wrangler's own proxy
# worker and the runtime's entry worker, in two workerd processes, which production does
# not have. To show what that adds to each request alike, the trivial JavaScript worker
# (both paths) is also measured under `workerd serve` alone, before the passes.
#
# Local SQLite's fsyncs measure this machine's disk, not our code (in production,
# storage is Cloudflare's): that is why the targets are read off the tmpfs pass.
#
# wrangler dev's local trace collector and local explorer are turned off for every
# worker measured (X_LOCAL_OBSERVABILITY=false, X_LOCAL_EXPLORER=false): they are
# development tools that stream every invocation to a collector in the same process,
# which cost more CPU than the baseline's own request did, and production has
# neither in the request path. For the same reason the api worker runs with
# REQUEST_LOGS=off: under `wrangler dev` each request's JSON log line is piped from
# workerd to wrangler's Node process on the same two cores (measured: a track with the
# line runs at ~0.58x the throughput of one without), while production's Workers Logs
# collects console output outside the request.
#
# With --ceiling, it measures instead one platform's object at rising concurrency
# (wrk -c 1 … 64, tmpfs): how many tracks a second one platform can take on this
# machine, the number docs/scaling.md starts from.
#
# With --webhooks, it measures instead what webhooks to developers cost a track (tmpfs):
# two platforms on one api worker with the same tiers (1000 calls per end-user) and
# alert thresholds (1, 2, 5, 8 and 10 %: each end-user's 10th, 20th, 50th, 80th and
# 100th call raises an alert), one with no endpoints, the other with two endpoints
# subscribed to every event at the stand-ins' webhook receiver; interleaved rounds over
# the same end-users (a platform in preview serves 100), whose counts cross the next
# thresholds as the rounds go on (a few tracks in a hundred raise an alert). The
# deliveries (queue, consumer, receiver) run on the same cores as the tracks. Target:
# track throughput with webhooks >= 0.95x without.
#
# Usage: bash bench/run.sh [--no-build] [--ceiling | --webhooks]
# Env:   BENCH_DURATION (10s)  BENCH_CONNECTIONS (16)  BENCH_THREADS (2)
#        BENCH_WARMUP (3s)     BENCH_ROUNDS (2)        BENCH_USERS (100)
#        BENCH_PLATFORMS (1000) BENCH_PASSES ("tmpfs disk", or either alone)
# Output: the report on stdout and in bench/results/latest.txt; wrk's raw output in
# bench/results/latest-wrk.txt. Progress goes to stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BUILD=1
CEILING=0
WEBHOOKS=0
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    --ceiling) CEILING=1 ;;
    --webhooks) WEBHOOKS=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
THREADS=${BENCH_THREADS:-2}
WARMUP=${BENCH_WARMUP:-3s}
ROUNDS=${BENCH_ROUNDS:-2}
USERS=${BENCH_USERS:-100}
PLATFORMS=${BENCH_PLATFORMS:-1000}
PASSES=${BENCH_PASSES:-tmpfs disk}
API_PORT=18900
BASE_PORT=18901
JS_PORT=18902
# The trivial JavaScript worker under `workerd serve` alone.
WORKERD_PORT=18908
# The split floor: the baseline worker with its object in a second copy of itself.
FLOOR_PORT=18907
# Scenario B's api worker (1000 platforms), beside scenario A's on API_PORT.
API_B_PORT=18906
# The stand-ins' webhook receiver (and the Clerk and Stripe stand-ins it comes with).
RECEIVER_PORT=18905
RECEIVER_URL="http://127.0.0.1:$RECEIVER_PORT"
API_URL="http://127.0.0.1:$API_PORT"
API_B_URL="http://127.0.0.1:$API_B_PORT"
# The api worker that call, register and register_many talk to: A's, unless a caller
# names B's (API_TARGET=$API_B_URL register_many …).
API_TARGET=$API_URL
BASE_URL="http://127.0.0.1:$BASE_PORT"
JS_URL="http://127.0.0.1:$JS_PORT"
WORKERD_URL="http://127.0.0.1:$WORKERD_PORT"
FLOOR_URL="http://127.0.0.1:$FLOOR_PORT"
USER_PREFIX="bench-user-"
GZIP_TARGET_KIB=350
DASHBOARD_GZIP_TARGET_KIB=300

for v in CONNECTIONS THREADS ROUNDS USERS PLATFORMS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench/run.sh: BENCH_$v must be a positive integer, got '${!v}'" >&2; exit 2; }
done
((USERS <= 1000)) || { echo "bench/run.sh: BENCH_USERS must be at most 1000" >&2; exit 2; }
((THREADS <= CONNECTIONS)) || { echo "bench/run.sh: BENCH_THREADS must not exceed BENCH_CONNECTIONS" >&2; exit 2; }
for pass in $PASSES; do
  [[ $pass == tmpfs || $pass == disk ]] || { echo "bench/run.sh: BENCH_PASSES takes tmpfs and disk, got '$pass'" >&2; exit 2; }
done

log() { echo "==> $*" >&2; }
die() { echo "bench/run.sh: error: $*" >&2; exit 1; }

source scripts/env.sh
source bench/common.sh
for tool in wrk curl jq gzip xargs setsid wrangler workerd; do
  command -v "$tool" >/dev/null || die "'$tool' is not on PATH (run scripts/setup.sh?)"
done

RESULTS="$ROOT/bench/results"
mkdir -p "$RESULTS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dream-bench.XXXXXX")
# Where each pass keeps the workers' KV and Durable Object state: tmpfs (/dev/shm),
# or this machine's disk (under the checkout's target/, not /tmp, which may be tmpfs).
STATE_ROOTS=()
state_root() {  # state_root tmpfs|disk -> a fresh directory
  local dir
  if [[ $1 == tmpfs ]]; then
    [[ -d /dev/shm && -w /dev/shm ]] || die "no writable /dev/shm for the tmpfs pass"
    dir=$(mktemp -d /dev/shm/dream-bench-state.XXXXXX)
  else
    mkdir -p "$ROOT/target"
    dir=$(mktemp -d "$ROOT/target/dream-bench-state.XXXXXX")
  fi
  STATE_ROOTS+=("$dir")
  echo "$dir"
}
REPORT="$WORK/report.txt"
WRK_RAW="$WORK/wrk.txt"
: >"$REPORT"; : >"$WRK_RAW"

# ---------------------------------------------------------------- worker processes
PIDS=()
declare -A WORKER_PID=()
# alive NAME: dies with the tail of the worker's log if its process is gone.
alive() {
  local pid=${WORKER_PID[$1]}
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "--- tail of the $1 worker's log" >&2; tail -n 40 "$WORK/$1.log" >&2
    die "the $1 worker (pid $pid) has exited"
  fi
}
stop_workers() {
  local pid i
  for pid in "${PIDS[@]}"; do
    # Each worker was started with setsid: its pid leads a process group holding
    # node (wrangler) and its workerd child. Stop that group, and only it.
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for ((i = 0; i < 50; i++)); do
      kill -0 -- "-$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
cleanup() {
  local rc=$?
  stop_workers
  # Keep the workers' logs: the first place to look when a run breaks.
  local name
  for name in api api-b baseline floor js; do
    [[ -f $WORK/$name.log ]] && cp "$WORK/$name.log" "$RESULTS/latest-$name.log"
  done
  ((rc == 0)) || echo "bench/run.sh: the run broke; worker logs: bench/results/latest-{api,api-b,baseline,floor,js}.log" >&2
  rm -rf "$WORK" "${STATE_ROOTS[@]}"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_worker NAME CONFIG PORT READY_PATH [wrangler args...]
start_worker() {
  local name=$1 config=$2 port=$3 ready=$4; shift 4
  local logfile="$WORK/$name.log" state="$STATE_ROOT/$name-state" pid
  port_in_use "$port" && die "port $port is already in use; is another benchmark running?"
  mkdir -p "$state"
  X_LOCAL_OBSERVABILITY=false X_LOCAL_EXPLORER=false \
    setsid wrangler dev -c "$config" --ip 127.0.0.1 --port "$port" --inspector-port "$(inspector_port "$port")" \
    --show-interactive-dev-session=false --log-level=error --persist-to "$state" "$@" \
    </dev/null >"$logfile" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  WORKER_PID[$name]=$pid
  await_worker "$name" "$port" "$ready" "wrangler dev -c $config"
}

# await_worker NAME PORT READY WHAT: waits up to ~60 s for the worker WORKER_PID[NAME]
# (its log in $WORK/NAME.log) to answer 200 on GET READY; dies with the log's tail if it
# exits first or never does. WHAT says how it was started.
await_worker() {
  local name=$1 port=$2 ready=$3 what=$4 pid=${WORKER_PID[$1]} logfile="$WORK/$1.log" code i
  for ((i = 0; i < 600; i++)); do  # up to ~60 s
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "--- $logfile" >&2; tail -n 40 "$logfile" >&2
      die "the $name worker ($what) exited before answering"
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port$ready" || true)
    [[ $code == 200 ]] && { log "$name worker up on port $port (pid $pid)"; return 0; }
    sleep 0.1
  done
  echo "--- $logfile" >&2; tail -n 40 "$logfile" >&2
  die "the $name worker did not answer 200 on GET $ready within 60 s (last status: ${code:-none})"
}

# ---------------------------------------------------------------- HTTP helpers
# ip_for N: a unique CF-Connecting-IP per registration (at most 5 per hour per IP).
ip_for() { echo "10.$(($1 / 65536 % 256)).$(($1 / 256 % 256)).$(($1 % 256))"; }

# call METHOD PATH KEY BODY STATUS [curl args...]: prints the answer's body; dies unless
# the status is STATUS. KEY may be empty (no Authorization header).
call() {
  local method=$1 path=$2 key=$3 data=$4 want=$5 out code body auth=()
  shift 5
  [[ -n $key ]] && auth=(-H "Authorization: Bearer $key")
  out=$(curl -sS --max-time 30 -w '\n%{http_code}' -X "$method" "$API_TARGET$path" \
    -H 'Content-Type: application/json' "${auth[@]}" "$@" --data "$data") \
    || die "$method $path failed (curl)"
  code=${out##*$'\n'}; body=${out%$'\n'*}
  [[ $code == "$want" ]] || die "$method $path answered $code, expected $want: $body"
  printf '%s' "$body"
}

# register IP -> prints the apiKey.
register() {
  local body
  body=$(call POST /v1/developers "" '{"email":"bench@example.com"}' 201 -H "CF-Connecting-IP: $1")
  jq -er '.apiKey' <<<"$body" || die "POST /v1/developers: no apiKey in $body"
}

# New platforms give end users a free tier of 100 calls per period; the benchmark's
# platform makes that tier unlimited so that tracks keep answering 200.
unlimit_tiers() {
  call PUT /v1/tiers "$1" "$BENCH_UNLIMITED_TIERS" 200 >/dev/null
}

# answer_shape FILE: of an answer saved with curl -i, its header names (lowercase,
# sorted, without the transport's own), then its body's field paths.
answer_shape() {
  sed -n '2,/^\r\{0,1\}$/p' "$1" | cut -d: -f1 | tr 'A-Z' 'a-z' | tr -d '\r' |
    grep -v -x -e '' -e content-length -e date -e connection -e keep-alive -e transfer-encoding | sort
  sed '1,/^\r\{0,1\}$/d' "$1" | jq -c '[paths | map(tostring) | join(".")] | sort'
}

# check_answer KEY: the trivial worker's GET /answer still answers as a track does: the
# same header names and the same body fields (values differ: they are fixed there).
check_answer() {
  local track js
  curl -sS --max-time 30 -i -X POST "$API_URL/v1/usage/track" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' --data "{\"userId\":\"${USER_PREFIX}000\"}" >"$WORK/track.http" \
    || die "POST /v1/usage/track failed (curl)"
  curl -sS --max-time 30 -i "$JS_URL/answer" >"$WORK/js-answer.http" || die "GET $JS_URL/answer failed (curl)"
  track=$(answer_shape "$WORK/track.http")
  js=$(answer_shape "$WORK/js-answer.http")
  [[ $track == "$js" ]] || die "bench/js-baseline's GET /answer no longer answers as a track does; update it:
$(diff <(echo "$track") <(echo "$js"))"
}

# check_track KEY: one track by hand, so that a broken setup fails here, clearly.
check_track() {
  local body
  body=$(call POST /v1/usage/track "$1" "{\"userId\":\"${USER_PREFIX}000\"}" 200)
  [[ $(jq -r '.allowed' <<<"$body") == true ]] || die "POST /v1/usage/track did not allow the call: $body"
}

# register_many FROM TO: registers platforms FROM..TO with 8 parallel curls; platform
# N comes from IP $(ip_for N) and its answer lands in $WORK/reg/<ip>.json.
register_many() {
  local from=$1 to=$2 codes="$WORK/register.codes" bad
  mkdir -p "$WORK/reg"
  seq "$from" "$to" | while read -r n; do ip_for "$n"; done |
    xargs -P 8 -I{} curl -sS --max-time 30 -o "$WORK/reg/{}.json" -w '{} %{http_code}\n' \
      -X POST "$API_TARGET/v1/developers" -H 'Content-Type: application/json' \
      -H 'CF-Connecting-IP: {}' --data '{"email":"bench@example.com"}' >"$codes" \
    || die "registering platforms $from..$to: a curl failed"
  bad=$(grep -cv ' 201$' "$codes" || true)
  ((bad == 0)) || die "registering platforms $from..$to: $bad answers were not 201, e.g. $(grep -v ' 201$' "$codes" | head -n 1): $(cat "$WORK/reg/$(grep -v ' 201$' "$codes" | head -n 1 | cut -d' ' -f1).json")"
  (($(wc -l <"$codes") == to - from + 1)) || die "registering platforms $from..$to: expected $((to - from + 1)) answers, got $(wc -l <"$codes")"
}

# key_of N: the apiKey of platform N registered by register_many.
key_of() { jq -er '.apiKey' "$WORK/reg/$(ip_for "$1").json" || die "no apiKey for platform $1"; }

# ---------------------------------------------------------------- wrk
to_ms() {  # "1.23ms" / "850.00us" / "1.02s" / "1.5m" -> milliseconds
  awk -v v="$1" 'BEGIN {
    if (match(v, /^[0-9.]+/) == 0) { print "nan"; exit }
    n = substr(v, 1, RLENGTH); u = substr(v, RLENGTH + 1)
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : (u == "h") ? 3600000 : -1
    if (f < 0) { print "nan"; exit }
    printf "%.3f", n * f }'
}

# run_wrk LABEL DURATION [wrk options...] URL [-- script args...]
#   -> prints "p50_ms p99_ms requests/s errors"; dies on any non-2xx answer.
run_wrk() {
  local label=$1 duration=$2; shift 2
  local out p50 p99 rps non2xx sockerr
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency "$@" 2>&1) \
    || { echo "$out" >&2; die "wrk failed ($label); is the worker still up?"; }
  printf '### %s\n%s\n\n' "$label" "$out" >>"$WRK_RAW"
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  rps=$(awk '$1 == "Requests/sec:" { print $2 }' <<<"$out")
  [[ -n $p50 && -n $p99 && -n $rps ]] || { echo "$out" >&2; die "could not parse wrk's output ($label)"; }
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$out")
  sockerr=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' <<<"$out")
  awk '/requests in/ { print $1 }' <<<"$out" >"$WORK/last-requests"
  echo "$(to_ms "$p50") $(to_ms "$p99") $rps $((${non2xx:-0} + ${sockerr:-0}))"
  if [[ -n $non2xx ]]; then
    echo "$out" >&2
    die "$label: $non2xx responses were not 2xx (see above)"
  fi
}

# cpu_ticks NAME: the CPU time (user + system, in clock ticks) of every process of the
# NAME worker's session so far: wrangler, workerd and whatever they run.
cpu_ticks() {
  local p t=0
  for p in $(pgrep -s "${WORKER_PID[$1]}"); do
    [[ -r /proc/$p/stat ]] && t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
CLK_TCK=$(getconf CLK_TCK)

# timed_wrk NAME LABEL DURATION [wrk options...] URL [-- script args...]: run_wrk, then
# the CPU the NAME worker's processes spent per request during it, in microseconds
# (a fifth field). Steadier than requests/s on a noisy machine: it does not depend on
# how much of the two cores wrk and the other workers got meanwhile.
timed_wrk() {
  local name=$1 before after out requests; shift
  before=$(cpu_ticks "$name")
  out=$(run_wrk "$@") || exit 1
  after=$(cpu_ticks "$name")
  requests=$(cat "$WORK/last-requests")
  echo "$out $(awk -v t=$((after - before)) -v n="$requests" -v hz="$CLK_TCK" \
    'BEGIN { printf "%.0f", (n > 0) ? t * 1000000 / hz / n : 0 }')"
}

# ---------------------------------------------------------------- report helpers
say() { printf '%s\n' "$*" >>"$REPORT"; }
kib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "nan"; else printf "%.2f", a / b }'; }
# verdict A B OP T: whether A/B OP T, on the ratio itself, not on the two decimals
# printed (0.695 prints as 0.70 and is not >= 0.70).
verdict() { awk -v a="$1" -v b="$2" -v op="$3" -v t="$4" 'BEGIN {
  if (b == 0) { print "FAIL"; exit }
  v = a / b; ok = (op == "<=") ? (v <= t) : (v >= t); print ok ? "PASS" : "FAIL" }'; }
mean() { awk '{ s += $1; n++ } END { printf "%.3f", s / n }'; }

# measure PASS KEY_A KEY_B: interleaved js/js answer/wasm/floor/split floor/track A/track B rounds (track A
# on the api worker with 1 platform, B on the one with PLATFORMS); appends the rounds
# and each scenario's ratios to the report and sets ${PASS}_{A,B}_* (ratios, track p50
# and req/s) and ${PASS}_JS_CPU.
measure() {
  local pass=$1 key_a=$2 key_b=$3 r out
  local rows="$WORK/rows-$pass"
  : >"$rows"
  for ((r = 1; r <= ROUNDS; r++)); do
    log "$pass pass, round $r/$ROUNDS ($DURATION each: js, js answer, wasm, floor, split floor, track A, track B)"
    alive js
    out=$(timed_wrk js "$pass round $r js" "$DURATION" "$JS_URL/"); echo "js $r $out" >>"$rows"
    out=$(timed_wrk js "$pass round $r js answer" "$DURATION" "$JS_URL/answer"); echo "jsanswer $r $out" >>"$rows"
    alive baseline
    out=$(timed_wrk baseline "$pass round $r wasm" "$DURATION" "$BASE_URL/"); echo "wasm $r $out" >>"$rows"
    out=$(timed_wrk baseline "$pass round $r floor" "$DURATION" -s "$ROOT/bench/floor.lua" "$BASE_URL")
    echo "floor $r $out" >>"$rows"
    alive floor
    out=$(timed_wrk floor "$pass round $r split floor" "$DURATION" -s "$ROOT/bench/floor.lua" "$FLOOR_URL")
    echo "splitfloor $r $out" >>"$rows"
    alive api
    out=$(timed_wrk api "$pass round $r track A" "$DURATION" -s "$ROOT/bench/track.lua" "$API_URL" -- "$key_a" "$USERS" "$USER_PREFIX")
    echo "trackA $r $out" >>"$rows"
    alive api-b
    out=$(timed_wrk api-b "$pass round $r track B" "$DURATION" -s "$ROOT/bench/track.lua" "$API_B_URL" -- "$key_b" "$USERS" "$USER_PREFIX")
    echo "trackB $r $out" >>"$rows"
  done

  local fmt='  %-22s %10s %10s %10s %7s %12s\n'
  say "$(printf "$fmt" "" "p50 ms" "p99 ms" "req/s" "errors" "CPU us/req")"
  while read -r what round p50 p99 rps err cpu; do
    say "$(printf "$fmt" "$what (run $round)" "$(printf %.2f "$p50")" "$(printf %.2f "$p99")" "$(printf %.0f "$rps")" "$err" "$cpu")"
  done <"$rows"
  local w sc
  declare -A P50 P99 RPS CPU
  for w in js jsanswer wasm floor splitfloor trackA trackB; do
    P50[$w]=$(awk -v w="$w" '$1 == w { print $3 }' "$rows" | mean)
    P99[$w]=$(awk -v w="$w" '$1 == w { print $4 }' "$rows" | mean)
    RPS[$w]=$(awk -v w="$w" '$1 == w { print $5 }' "$rows" | mean)
    CPU[$w]=$(awk -v w="$w" '$1 == w { print $7 }' "$rows" | mean)
    say "$(printf "$fmt" "$w (mean)" "$(printf %.2f "${P50[$w]}")" "$(printf %.2f "${P99[$w]}")" "$(printf %.0f "${RPS[$w]}")" "" "$(printf %.0f "${CPU[$w]}")")"
  done
  say "  js answer/js  p50 $(ratio "${P50[jsanswer]}" "${P50[js]}")x  req/s $(ratio "${RPS[jsanswer]}" "${RPS[js]}")x  (what a track's answer itself costs the runtime; no target)"
  say "  floor/js     p50 $(ratio "${P50[floor]}" "${P50[js]}")x  req/s $(ratio "${RPS[floor]}" "${RPS[js]}")x  (the storage layout's own price, the object in the worker's isolate; no target)"
  say "  split floor/js  p50 $(ratio "${P50[splitfloor]}" "${P50[js]}")x  req/s $(ratio "${RPS[splitfloor]}" "${RPS[js]}")x  (the same, the object in another worker's isolate, as the api's; no target)"
  printf -v "${pass}_JS_CPU" '%s' "${CPU[js]}"
  local rp50 rrps t
  for sc in A B; do
    t=track$sc
    if [[ $sc == A ]]; then say "  SCENARIO A: 1 platform registered"
    else say "  SCENARIO B: $PLATFORMS platforms registered (tracking as the last one registered)"; fi
    rp50=$(ratio "${P50[$t]}" "${P50[js]}"); rrps=$(ratio "${RPS[$t]}" "${RPS[js]}")
    say "    track/js     p50 ${rp50}x  (target <= 1.50x)  $(verdict "${P50[$t]}" "${P50[js]}" "<=" 1.5)"
    say "    track/js   req/s ${rrps}x  (target >= 0.70x)  $(verdict "${RPS[$t]}" "${RPS[js]}" ">=" 0.7)"
    say "    track/js     p99 $(ratio "${P99[$t]}" "${P99[js]}")x  (no target)"
    say "    track/js answer  p50 $(ratio "${P50[$t]}" "${P50[jsanswer]}")x  req/s $(ratio "${RPS[$t]}" "${RPS[jsanswer]}")x  (against the trivial worker giving the same answer; no target)"
    say "    track/wasm   p50 $(ratio "${P50[$t]}" "${P50[wasm]}")x  req/s $(ratio "${RPS[$t]}" "${RPS[wasm]}")x  (against the smallest Rust worker; no target)"
    say "    track/floor  p50 $(ratio "${P50[$t]}" "${P50[floor]}")x  req/s $(ratio "${RPS[$t]}" "${RPS[floor]}")x  (dream-api's code and the objects' own worker; no target)"
    say "    track/split floor  p50 $(ratio "${P50[$t]}" "${P50[splitfloor]}")x  req/s $(ratio "${RPS[$t]}" "${RPS[splitfloor]}")x  CPU $(ratio "${CPU[splitfloor]}" "${CPU[$t]}")x  (what dream-api's code adds to the layout as deployed; no target)"
    say "    CPU per request (wrangler and workerd together): js/track $(ratio "${CPU[js]}" "${CPU[$t]}")x  js/floor $(ratio "${CPU[js]}" "${CPU[floor]}")x  floor/track $(ratio "${CPU[floor]}" "${CPU[$t]}")x  (as throughput ratios would be if CPU were all that bound them; no target)"
    printf -v "${pass}_${sc}_TRACK_P50" '%s' "${P50[$t]}"
    printf -v "${pass}_${sc}_TRACK_RPS" '%s' "${RPS[$t]}"
    printf -v "${pass}_${sc}_TRACK_CPU" '%s' "${CPU[$t]}"
    printf -v "${pass}_${sc}_RATIO_P50" '%s' "$rp50"
    printf -v "${pass}_${sc}_RATIO_RPS" '%s' "$rrps"
  done
}

# ================================================================== the run
if ((BUILD)); then
  log "building (bash scripts/build.sh)"
  bash scripts/build.sh >&2 || die "the build failed"
  if ((WEBHOOKS)); then cargo build -q -p dream-standins >&2 || die "building the stand-ins failed"; fi
else
  log "--no-build: measuring the existing build outputs"
fi

# Run (and size) a snapshot of the build outputs, not the checkout's build/ folders:
# wrangler dev reloads when its files change, and another session rebuilding
# during the run would otherwise restart the worker under wrk and mix two builds.
snapshot() {  # snapshot NAME BUILD_DIR [CONFIG] -> $WORK/NAME/{build/,wrangler.toml}
  local dir="$WORK/$1"
  [[ -s $2/index_bg.wasm && -s $2/index.js ]] || die "$2 has no build outputs; build first (drop --no-build)"
  mkdir -p "$dir"
  cp -R "$2" "$dir/build"
  # The api pair's configs come from api_config below; only the baseline needs its own.
  [[ -n ${3:-} ]] || return 0
  sed -e 's|^main = .*|main = "build/index.js"|' "$3" >"$dir/wrangler.toml"
  grep -q '^main = "build/index.js"$' "$dir/wrangler.toml" || die "$3 has no 'main = ...' line"
}
snapshot api "$ROOT/workers/api/build"
snapshot objects "$ROOT/workers/objects/build"
# wrangler.toml holds no local address: the local dashboard's origins, as scripts/dev.sh
# gives them.
API_LOCAL_VARS=(--var "ALLOWED_ORIGINS:http://127.0.0.1:8790,http://localhost:8790")
# The benchmark's own registry of local workers, apart from any stack on this machine.
export WRANGLER_REGISTRY_PATH="$WORK/registry"
# api_config DIR [--suffix=S] [--var NAME:VALUE]…: the snapshots of the api worker and
# its objects worker as one session's configs in DIR (scripts/local-config.py); the
# variables reach both. Start it with start_worker NAME DIR/api.json PORT /health -c
# DIR/objects.json.
api_config() {
  local dir=$1; shift
  local_config "$dir" --api-build "$WORK/api/build" --objects-build "$WORK/objects/build" "$@"
}
# The api pair's variables in every measurement: no platform quota, no rate limit, no
# per-request log line (see the top of this file).
API_BENCH_VARS=("${API_LOCAL_VARS[@]}" "${BENCH_UNLIMITED_VARS[@]}" --var REQUEST_LOGS:off)
snapshot baseline "$ROOT/bench/baseline-worker/build" "$ROOT/bench/baseline-worker/wrangler.toml"
# The split floor's session: the baseline build twice, the second holding the object.
sed -e 's|^name = .*|name = "dream-bench-floor-objects"|' "$WORK/baseline/wrangler.toml" >"$WORK/baseline/floor-objects.toml"
cat >"$WORK/baseline/floor-front.toml" <<TOML
name = "dream-bench-floor-front"
main = "build/index.js"
$(grep '^compatibility_date = ' "$WORK/baseline/wrangler.toml")

[durable_objects]
bindings = [{ name = "FLOOR_COUNTER", class_name = "FloorCounter", script_name = "dream-bench-floor-objects" }]
TOML
mkdir -p "$WORK/js" && cp "$ROOT/bench/js-baseline/index.js" "$ROOT/bench/js-baseline/wrangler.toml" "$WORK/js/"
API_WASM="$WORK/api/build/index_bg.wasm"
OBJECTS_WASM="$WORK/objects/build/index_bg.wasm"
BASE_WASM="$WORK/baseline/build/index_bg.wasm"
mapfile -t dashboard_wasm < <(compgen -G "$ROOT/frontend/dist/*.wasm" || true)
((${#dashboard_wasm[@]} == 1)) \
  || die "expected one .wasm in frontend/dist (the dashboard), found ${#dashboard_wasm[@]}: run scripts/build.sh (or drop --no-build)"
DASH_WASM="$WORK/dashboard.wasm"
cp "${dashboard_wasm[0]}" "$DASH_WASM"

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (+ uncommitted changes)"
say "dream-api benchmark  $(date -u '+%Y-%m-%d %H:%M:%SZ')  commit $commit"
say "machine: $(nproc) cores; wrangler $(wrangler --version 2>/dev/null | tail -n 1); $(wrk --version 2>&1 | head -n 1 | awk '{ print $1, $2 }')"
say "passes: $PASSES (the workers' state on tmpfs, then on this machine's disk; the targets are read off tmpfs)"
say "wrk: -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS interleaved round(s) per pass, warm-up $WARMUP each"
say "track: POST /v1/usage/track round-robin over $USERS userIds ${USER_PREFIX}000..${USER_PREFIX}$(printf %03d $((USERS - 1))) (bench/track.lua)"
say ""

say "WASM SIZE              raw KiB   gzip -9 KiB"
api_raw=$(stat -c %s "$API_WASM"); api_gz=$(gzip -9 -c "$API_WASM" | wc -c)
base_raw=$(stat -c %s "$BASE_WASM"); base_gz=$(gzip -9 -c "$BASE_WASM" | wc -c)
say "$(printf '  %-18s %10s %12s' "api worker" "$(kib "$api_raw")" "$(kib "$api_gz")")   target <= $GZIP_TARGET_KIB KiB gzipped: $( ((api_gz <= GZIP_TARGET_KIB * 1024)) && echo PASS || echo FAIL)"
objects_raw=$(stat -c %s "$OBJECTS_WASM"); objects_gz=$(gzip -9 -c "$OBJECTS_WASM" | wc -c)
say "$(printf '  %-18s %10s %12s' "objects worker" "$(kib "$objects_raw")" "$(kib "$objects_gz")")   target <= $GZIP_TARGET_KIB KiB gzipped: $( ((objects_gz <= GZIP_TARGET_KIB * 1024)) && echo PASS || echo FAIL)  (the api's Durable Objects and queue consumer)"
say "$(printf '  %-18s %10s %12s' "baseline worker" "$(kib "$base_raw")" "$(kib "$base_gz")")"
dash_raw=$(stat -c %s "$DASH_WASM"); dash_gz=$(gzip -9 -c "$DASH_WASM" | wc -c)
say "$(printf '  %-18s %10s %12s' "dashboard" "$(kib "$dash_raw")" "$(kib "$dash_gz")")   target <= $DASHBOARD_GZIP_TARGET_KIB KiB gzipped: $( ((dash_gz <= DASHBOARD_GZIP_TARGET_KIB * 1024)) && echo PASS || echo FAIL)"
say ""

# pass tmpfs|disk: fresh workers with their state there; scenarios A and B side by side.
run_pass() {
  local pass=$1 key_a key_b
  STATE_ROOT=$(state_root "$pass")
  log "$pass pass: starting the workers (ports $API_PORT, $API_B_PORT, $BASE_PORT, $FLOOR_PORT, $JS_PORT; state in $STATE_ROOT)"
  api_config "$WORK/config-a" "${API_BENCH_VARS[@]}"
  start_worker api "$WORK/config-a/api.json" "$API_PORT" /health -c "$WORK/config-a/objects.json"
  # Its own names, so that the two pairs never meet in wrangler's registry of local workers.
  api_config "$WORK/config-b" --suffix=-b "${API_BENCH_VARS[@]}"
  start_worker api-b "$WORK/config-b/api.json" "$API_B_PORT" /health -c "$WORK/config-b/objects.json"
  start_worker baseline "$WORK/baseline/wrangler.toml" "$BASE_PORT" /
  start_worker floor "$WORK/baseline/floor-front.toml" "$FLOOR_PORT" / -c "$WORK/baseline/floor-objects.toml"
  start_worker js "$WORK/js/wrangler.toml" "$JS_PORT" /

  log "scenario A: registering one platform on $API_URL"
  key_a=$(register "$(ip_for 1)")
  unlimit_tiers "$key_a"
  check_track "$key_a"
  check_answer "$key_a"

  if ((PLATFORMS > 1)); then
    log "scenario B: registering $PLATFORMS platforms on $API_B_URL (8 in parallel)"
    local t0
    t0=$(date +%s)
    rm -rf "$WORK/reg"
    API_TARGET=$API_B_URL register_many 1 "$PLATFORMS"
    log "registered $PLATFORMS platforms in $(($(date +%s) - t0)) s"
    key_b=$(key_of "$PLATFORMS")
  else
    key_b=$(API_TARGET=$API_B_URL register "$(ip_for 1)")
  fi
  API_TARGET=$API_B_URL unlimit_tiers "$key_b"
  API_TARGET=$API_B_URL check_track "$key_b"

  log "warming up ($WARMUP each)"
  run_wrk "warm-up js" "$WARMUP" "$JS_URL/" >/dev/null
  run_wrk "warm-up js answer" "$WARMUP" "$JS_URL/answer" >/dev/null
  run_wrk "warm-up wasm" "$WARMUP" "$BASE_URL/" >/dev/null
  run_wrk "warm-up floor" "$WARMUP" -s "$ROOT/bench/floor.lua" "$BASE_URL" >/dev/null
  run_wrk "warm-up split floor" "$WARMUP" -s "$ROOT/bench/floor.lua" "$FLOOR_URL" >/dev/null
  run_wrk "warm-up track A" "$WARMUP" -s "$ROOT/bench/track.lua" "$API_URL" -- "$key_a" "$USERS" "$USER_PREFIX" >/dev/null
  run_wrk "warm-up track B" "$WARMUP" -s "$ROOT/bench/track.lua" "$API_B_URL" -- "$key_b" "$USERS" "$USER_PREFIX" >/dev/null

  say "PASS $pass: scenarios A (1 platform, api worker :$API_PORT) and B ($PLATFORMS platforms, api worker :$API_B_PORT), in the same rounds"
  measure "$pass" "$key_a" "$key_b"
  say ""
  stop_workers
}

# runtime_alone: the trivial JavaScript worker's two paths under `workerd serve` itself,
# in interleaved rounds; appends them to the report and sets WORKERD_JS_CPU.
runtime_alone() {
  local dir="$WORK/workerd" compat r path out rows="$WORK/rows-workerd"
  mkdir -p "$dir"
  cp "$ROOT/bench/js-baseline/index.js" "$dir/index.js"
  compat=$(sed -n 's/^compatibility_date = "\(.*\)"$/\1/p' "$ROOT/bench/js-baseline/wrangler.toml")
  cat >"$dir/config.capnp" <<CAPNP
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "js", worker = .js)],
  sockets = [(name = "http", address = "127.0.0.1:$WORKERD_PORT", http = (), service = "js")],
);
const js :Workerd.Worker = (
  modules = [(name = "index.js", esModule = embed "index.js")],
  compatibilityDate = "$compat",
);
CAPNP
  port_in_use "$WORKERD_PORT" && die "port $WORKERD_PORT is already in use; is another benchmark running?"
  setsid workerd serve "$dir/config.capnp" </dev/null >"$WORK/workerd.log" 2>&1 &
  PIDS+=($!)
  WORKER_PID[workerd]=$!
  await_worker workerd "$WORKERD_PORT" / "workerd serve $dir/config.capnp"
  log "runtime alone: the trivial JavaScript worker under workerd serve ($ROUNDS rounds)"
  run_wrk "warm-up workerd js" "$WARMUP" "$WORKERD_URL/" >/dev/null
  run_wrk "warm-up workerd js answer" "$WARMUP" "$WORKERD_URL/answer" >/dev/null
  : >"$rows"
  for ((r = 1; r <= ROUNDS; r++)); do
    for path in / /answer; do
      alive workerd
      out=$(timed_wrk workerd "workerd round $r $path" "$DURATION" "$WORKERD_URL$path")
      echo "$path $out" >>"$rows"
    done
  done
  local fmt='  %-22s %10s %10s %7s %12s\n' p50 rps cpu js_rps
  say "RUNTIME ALONE: the trivial JavaScript worker under \`workerd serve\`, without wrangler dev in front"
  say "$(printf "$fmt" "" "p50 ms" "req/s" "errors" "CPU us/req")"
  for path in / /answer; do
    p50=$(awk -v p="$path" '$1 == p { print $2 }' "$rows" | mean)
    rps=$(awk -v p="$path" '$1 == p { print $4 }' "$rows" | mean)
    cpu=$(awk -v p="$path" '$1 == p { print $6 }' "$rows" | mean)
    say "$(printf "$fmt" "js $path (mean)" "$(printf %.2f "$p50")" "$(printf %.0f "$rps")" "$(awk -v p="$path" '$1 == p { s += $5 } END { print s }' "$rows")" "$(printf %.0f "$cpu")")"
    if [[ $path == / ]]; then WORKERD_JS_CPU=$cpu; js_rps=$rps; fi
  done
  say "  js answer/js  req/s $(ratio "$rps" "$js_rps")x  (what a track's answer costs the runtime itself; no target)"
  say ""
  stop_workers
}

# ceiling: track at rising concurrency against one platform (tmpfs), nothing else.
ceiling() {
  local key c out p50 p99 rps
  STATE_ROOT=$(state_root tmpfs)
  api_config "$WORK/config-ceiling" "${API_BENCH_VARS[@]}"
  start_worker api "$WORK/config-ceiling/api.json" "$API_PORT" /health -c "$WORK/config-ceiling/objects.json"
  key=$(register "$(ip_for 1)")
  unlimit_tiers "$key"
  check_track "$key"
  run_wrk "warm-up track" "$WARMUP" -s "$ROOT/bench/track.lua" "$API_URL" -- "$key" "$USERS" "$USER_PREFIX" >/dev/null
  say "CEILING: one platform's object, POST /v1/usage/track at rising concurrency (tmpfs)"
  say "$(printf '  %-12s %10s %10s %10s' connections "p50 ms" "p99 ms" "req/s")"
  for c in 1 2 4 8 16 32 64; do
    log "ceiling: $c connections for $DURATION"
    alive api
    read -r p50 p99 rps _ < <(CONNECTIONS=$c THREADS=$((c < THREADS ? c : THREADS)) \
      run_wrk "ceiling c$c" "$DURATION" -s "$ROOT/bench/track.lua" "$API_URL" -- "$key" "$USERS" "$USER_PREFIX")
    say "$(printf '  %-12s %10.2f %10.2f %10.0f' "$c" "$p50" "$p99" "$rps")"
  done
  stop_workers
}

# webhooks: track with and without two webhook endpoints while alerts fire (tmpfs).
webhooks() {
  local quiet loud r which key out received inbox
  local rows="$WORK/rows-webhooks"
  [[ -x $ROOT/target/debug/dream-standins ]] || die "no target/debug/dream-standins: run cargo build -p dream-standins (or drop --no-build)"
  port_in_use "$RECEIVER_PORT" && die "port $RECEIVER_PORT is already in use; is another benchmark running?"
  setsid "$ROOT/target/debug/dream-standins" --clerk 127.0.0.1:18903 --stripe 127.0.0.1:18904 \
    --receiver "127.0.0.1:$RECEIVER_PORT" </dev/null >"$WORK/standins.log" 2>&1 &
  PIDS+=($!)
  STATE_ROOT=$(state_root tmpfs)
  api_config "$WORK/config-webhooks" "${API_BENCH_VARS[@]}" --var ALLOW_LOOPBACK_WEBHOOKS:true \
    --var "TOKEN_ENCRYPTION_KEY:$(head -c 32 /dev/urandom | base64)"
  start_worker api "$WORK/config-webhooks/api.json" "$API_PORT" /health -c "$WORK/config-webhooks/objects.json"
  curl -s -o /dev/null --retry 20 --retry-connrefused --retry-delay 0 "$RECEIVER_URL/" \
    || die "the webhook receiver did not start (see $WORK/standins.log)"
  quiet=$(register "$(ip_for 1)")
  loud=$(register "$(ip_for 2)")
  for key in "$quiet" "$loud"; do
    call PUT /v1/tiers "$key" '{"tiers":[{"id":"free","name":"Free","priceCents":0,"limit":1000}]}' 200 >/dev/null
    call PUT /v1/alerts "$key" '{"thresholds":[1,2,5,8,10]}' 200 >/dev/null
  done
  for inbox in bench-a bench-b; do
    call POST /v1/webhooks "$loud" "{\"url\":\"$RECEIVER_URL/$inbox\"}" 201 >/dev/null
  done
  check_track "$quiet"; check_track "$loud"
  run_wrk "warm-up quiet" "$WARMUP" -s "$ROOT/bench/track.lua" "$API_URL" -- "$quiet" "$USERS" "$USER_PREFIX" >/dev/null
  run_wrk "warm-up loud" "$WARMUP" -s "$ROOT/bench/track.lua" "$API_URL" -- "$loud" "$USERS" "$USER_PREFIX" >/dev/null
  : >"$rows"
  for ((r = 1; r <= ROUNDS; r++)); do
    for which in quiet loud; do
      log "webhooks: round $r/$ROUNDS, $which for $DURATION"
      alive api
      key=$quiet; [[ $which == loud ]] && key=$loud
      out=$(run_wrk "webhooks $which round $r" "$DURATION" -s "$ROOT/bench/track.lua" "$API_URL" -- "$key" "$USERS" "$USER_PREFIX")
      echo "$which $r $out" >>"$rows"
    done
  done
  sleep 5
  received=$(curl -s "$RECEIVER_URL/" | jq '[.receivers[]] | add // 0')
  local fmt='  %-26s %10s %10s %10s\n'
  say "WEBHOOKS: POST /v1/usage/track without and with two webhook endpoints while alerts fire (tmpfs)"
  say "$(printf "$fmt" "" "p50 ms" "p99 ms" "req/s")"
  while read -r which round p50 p99 rps _; do
    say "$(printf "$fmt" "$which (run $round)" "$(printf %.2f "$p50")" "$(printf %.2f "$p99")" "$(printf %.0f "$rps")")"
  done <"$rows"
  local q_rps l_rps q_p50 l_p50 rr
  q_rps=$(awk '$1 == "quiet" { print $5 }' "$rows" | mean); l_rps=$(awk '$1 == "loud" { print $5 }' "$rows" | mean)
  q_p50=$(awk '$1 == "quiet" { print $3 }' "$rows" | mean); l_p50=$(awk '$1 == "loud" { print $3 }' "$rows" | mean)
  rr=$(ratio "$l_rps" "$q_rps")
  say "  with/without webhooks  req/s ${rr}x  (target >= 0.95x)  $(verdict "$l_rps" "$q_rps" ">=" 0.95)"
  say "  with/without webhooks    p50 $(ratio "$l_p50" "$q_p50")x  (no target)"
  say "  deliveries received by the two endpoints: $received (each alert once per endpoint; the rest still queued or retrying)"
  stop_workers
}

if ((WEBHOOKS)); then
  webhooks
  cp "$REPORT" "$RESULTS/webhooks.txt"
  cat "$REPORT"
  exit 0
fi

if ((CEILING)); then
  ceiling
  cp "$REPORT" "$RESULTS/ceiling.txt"
  cat "$REPORT"
  exit 0
fi

runtime_alone
for pass in $PASSES; do
  run_pass "$pass"
done

for pass in $PASSES; do
  a50=${pass}_A_TRACK_P50; b50=${pass}_B_TRACK_P50; arps=${pass}_A_TRACK_RPS; brps=${pass}_B_TRACK_RPS
  acpu=${pass}_A_TRACK_CPU; bcpu=${pass}_B_TRACK_CPU
  ap=${pass}_A_RATIO_P50; ar=${pass}_A_RATIO_RPS; bp=${pass}_B_RATIO_P50; br=${pass}_B_RATIO_RPS
  say "RATIOS $pass  track/js  A: p50 ${!ap}x req/s ${!ar}x | B: p50 ${!bp}x req/s ${!br}x | track B/A: p50 $(ratio "${!b50}" "${!a50}")x req/s $(ratio "${!brps}" "${!arps}")x CPU $(ratio "${!bcpu}" "${!acpu}")x (expect ~1.00: flat in the number of platforms)"
  jscpu=${pass}_JS_CPU
  say "  wrangler dev in front of each request ($pass): $(awk -v a="${!jscpu}" -v b="$WORKERD_JS_CPU" 'BEGIN { printf "%.0f", a - b }') us of CPU (the trivial worker's $(printf %.0f "${!jscpu}") us under wrangler dev, $(printf %.0f "$WORKERD_JS_CPU") us under workerd serve), which every request measured under it pays, and more with more headers"
done

cp "$REPORT" "$RESULTS/latest.txt"
cp "$WRK_RAW" "$RESULTS/latest-wrk.txt"
cat "$REPORT"
