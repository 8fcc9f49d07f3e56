#!/usr/bin/env bash
# Deploys dream-api to Cloudflare: the objects worker (the Durable Objects and the
# webhook queue's consumer), the api worker, the dashboard's backend (platform-auth),
# Stripe Connect (stripe-oauth) and the dashboard (Pages), for one wrangler environment
# of the four wrangler.toml files. docs/deploy.md walks through
# the accounts and values it needs.
#
#   scripts/deploy.sh [--env staging|production] [--dry-run] [--no-build]
#                     [--secrets FILE] [--first-deploy]
#
# A deploy creates what does not exist yet (the KV namespace, the webhook queue and its
# dead-letter queue) and writes the namespace's id into the environment's sections, sets
# each secret from the environment (or FILE) or asks for it, deploys the objects worker
# first (the others bind its objects), then the api worker, platform-auth, stripe-oauth
# and the dashboard with its config.json, and prints the addresses to give Stripe.
#
# --dry-run needs no account and no network: it builds (unless --no-build), checks every
# secret, binding and var the environment needs, runs `wrangler deploy --dry-run` for
# each worker and checks the dashboard's build, and fails naming the worker, what is
# missing and how to set it. --first-deploy lets a dry run accept the KV namespace id
# placeholder, which the first real deploy replaces. It prints the addresses the deploy
# will have (with WORKERS_SUBDOMAIN=acme, the account's workers.dev subdomain, filled in).
#
# Secrets are never echoed, logged or written to a file by this script. A secret NAME for
# one worker is read from OBJECTS_NAME, API_NAME, PLATFORM_AUTH_NAME or STRIPE_OAUTH_NAME
# if set, else
# from NAME (the environment first, then FILE, in dotenv format: NAME=value lines).
set -euo pipefail
source "$(dirname "$0")/env.sh"
# write_dashboard_headers: the dashboard's Content Security Policy from its config.json.
source "$(dirname "$0")/workers.sh"
cd "$DREAM_ROOT"
# The pinned wrangler; WRANGLER names another (tests/deploy/stubbed_deploy.sh's stand-in).
wrangler() { command "${WRANGLER:-wrangler}" "$@"; }

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }
die() { printf 'deploy: %s\n' "$*" >&2; exit 1; }

ENV_NAME=staging DRY_RUN=0 BUILD=1 SECRETS_FILE="" FIRST_DEPLOY=0
while (($#)); do
  case $1 in
    --env) [[ $# -ge 2 ]] || die "--env needs staging or production"; ENV_NAME=$2; shift 2 ;;
    --env=*) ENV_NAME=${1#--env=}; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --secrets) [[ $# -ge 2 ]] || die "--secrets needs a file"; SECRETS_FILE=$2; shift 2 ;;
    --secrets=*) SECRETS_FILE=${1#--secrets=}; shift ;;
    --first-deploy) FIRST_DEPLOY=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ $ENV_NAME == staging || $ENV_NAME == production ]] ||
  die "--env must be staging or production, not '$ENV_NAME'"

# In deploy order: the objects worker first, as the others bind its classes.
WORKERS=(objects api platform-auth stripe-oauth)
declare -A CONFIG=([objects]=workers/objects/wrangler.toml [api]=wrangler.toml
  [platform-auth]=workers/platform-auth/wrangler.toml [stripe-oauth]=workers/stripe-oauth/wrangler.toml)
declare -A PREFIX=([objects]=OBJECTS [api]=API [platform-auth]=PLATFORM_AUTH [stripe-oauth]=STRIPE_OAUTH)
# What each worker cannot work without (docs/deploy.md "Secrets" says what each is).
# STRIPE_PRICE_ID and STRIPE_CLIENT_ID are not secret, but belong to your Stripe
# account, so they are set like secrets rather than kept in the repository.
declare -A SECRETS=(
  [objects]="TOKEN_ENCRYPTION_KEY"
  [api]="CLERK_SECRET_KEY STRIPE_SECRET_KEY STRIPE_WEBHOOK_SECRET STRIPE_PRICE_ID TOKEN_ENCRYPTION_KEY"
  [platform-auth]="CLERK_SECRET_KEY STRIPE_SECRET_KEY STRIPE_WEBHOOK_SECRET STRIPE_PRICE_ID TOKEN_ENCRYPTION_KEY"
  [stripe-oauth]="CLERK_SECRET_KEY STRIPE_SECRET_KEY STRIPE_CLIENT_ID TOKEN_ENCRYPTION_KEY")
PAGES_PROJECT=${PAGES_PROJECT:-dream-dashboard}
if [[ $ENV_NAME == production ]]; then PAGES_BRANCH=main; else PAGES_BRANCH=staging; fi
KV_TITLE="dream-api-tokens-$ENV_NAME"
PLACEHOLDER="placeholder-created-by-scripts-deploy-sh"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PROBLEMS=()
problem() { PROBLEMS+=("$*"); }

# ------------------------------------------------------------------ secrets
declare -A FILE_VALUES=()
if [[ -n $SECRETS_FILE ]]; then
  [[ -r $SECRETS_FILE ]] || die "--secrets $SECRETS_FILE: no such readable file"
  # Parsed, never sourced: a value is text, not shell.
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    line=${line#export }
    [[ $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=(.*)$ ]] ||
      die "--secrets $SECRETS_FILE: a line is not NAME=value (its name is not shown, in case it holds a secret)"
    name=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
    value=${value#"${value%%[![:space:]]*}"}
    if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
    FILE_VALUES[$name]=$value
  done <"$SECRETS_FILE"
fi

# lookup NAME: the environment's value, else the file's; empty when neither has one.
lookup() {
  if [[ -n ${!1:-} ]]; then printf '%s' "${!1}"; else printf '%s' "${FILE_VALUES[$1]:-}"; fi
}
# secret WORKER NAME: the worker's own value (PREFIX_NAME), else the shared one.
secret() {
  local own
  own=$(lookup "${PREFIX[$1]}_$2")
  if [[ -n $own ]]; then printf '%s' "$own"; else lookup "$2"; fi
}

# check_secret WORKER NAME VALUE: the value's shape, so a key pasted into the wrong
# place is caught before it is stored. Messages name the secret, never its value.
check_secret() {
  local worker=$1 name=$2 value=$3 at="$1 ($ENV_NAME): secret $2"
  case $name in
    TOKEN_ENCRYPTION_KEY)
      [[ $(printf '%s' "$value" | base64 -d 2>/dev/null | wc -c) == 32 ]] ||
        problem "$at is not 32 bytes in base64; make one with: head -c 32 /dev/urandom | base64" ;;
    STRIPE_WEBHOOK_SECRET)
      local entry
      IFS=',' read -ra entries <<<"$value"
      for entry in "${entries[@]}"; do
        [[ ${entry// /} == whsec_* ]] ||
          problem "$at: every comma-separated entry must be a signing secret (whsec_…) from Stripe's webhook endpoint page"
      done ;;
    STRIPE_SECRET_KEY)
      [[ $value == sk_* || $value == rk_* ]] || problem "$at must be a Stripe secret or restricted key (sk_… or rk_…)"
      if [[ $ENV_NAME == production && $value == ?k_test_* && -z ${WARNED_TEST_KEY:-} ]]; then
        echo "warning: production's STRIPE_SECRET_KEY is a test-mode key" >&2
        WARNED_TEST_KEY=1
      fi ;;
    CLERK_SECRET_KEY) [[ $value == sk_* ]] || problem "$at must be a Clerk secret key (sk_test_… or sk_live_…)" ;;
    STRIPE_PRICE_ID) [[ $value == price_* ]] || problem "$at must be a Stripe price id (price_…)" ;;
    STRIPE_CLIENT_ID) [[ $value == ca_* ]] || problem "$at must be the Connect OAuth client id (ca_…)" ;;
  esac
}

# Which secrets the worker already holds (a real deploy asks only for the others).
declare -A STORED=()
stored_secrets() {
  local worker=$1 out
  out=$(wrangler secret list --env "$ENV_NAME" -c "${CONFIG[$worker]}" --format json 2>/dev/null) || return 0
  while IFS= read -r name; do [[ -n $name ]] && STORED["$worker:$name"]=1; done \
    < <(printf '%s' "$out" | jq -r '.[].name' 2>/dev/null || true)
}

declare -A VALUES=()
gather_secrets() {
  local worker name value key
  for worker in "${WORKERS[@]}"; do
    ((DRY_RUN)) || stored_secrets "$worker"
    for name in ${SECRETS[$worker]}; do
      value=$(secret "$worker" "$name")
      key="$worker:$name"
      if [[ -z $value && $DRY_RUN == 0 && -n ${STORED[$key]:-} ]]; then
        continue  # already set on the worker, and not given anew
      fi
      if [[ -z $value && $DRY_RUN == 0 && -t 0 ]]; then
        read -rsp "$worker ($ENV_NAME) $name (not shown): " value </dev/tty; echo >&2
      fi
      if [[ -z $value ]]; then
        problem "$worker ($ENV_NAME): secret $name is not set. Give it as $name (or ${PREFIX[$worker]}_$name for this worker only) in the environment or in the file passed with --secrets; a deploy stores it with \`wrangler secret put $name --env $ENV_NAME -c ${CONFIG[$worker]}\`. docs/deploy.md \"Secrets\" says where to find it."
        continue
      fi
      check_secret "$worker" "$name" "$value"
      VALUES[$key]=$value
    done
  done
  # Every worker seals and opens the same records: one key for all of them.
  local keys
  keys=$(for worker in "${WORKERS[@]}"; do
    [[ -n ${VALUES[$worker:TOKEN_ENCRYPTION_KEY]:-} ]] && printf '%s\n' "${VALUES[$worker:TOKEN_ENCRYPTION_KEY]}"
  done | sort -u | wc -l)
  ((keys <= 1)) || problem "TOKEN_ENCRYPTION_KEY differs between the workers; every worker must share one key (records one seals, the others open)"
  CLERK_PUBLISHABLE_KEY=$(lookup CLERK_PUBLISHABLE_KEY)
  if [[ -z $CLERK_PUBLISHABLE_KEY && $DRY_RUN == 0 && -t 0 ]]; then
    read -rp "dashboard ($ENV_NAME) CLERK_PUBLISHABLE_KEY: " CLERK_PUBLISHABLE_KEY </dev/tty
  fi
  CLERK_FRONTEND_API=""
  if [[ -z $CLERK_PUBLISHABLE_KEY ]]; then
    problem "dashboard ($ENV_NAME): CLERK_PUBLISHABLE_KEY is not set (Clerk → API keys, pk_test_… or pk_live_…); give it in the environment or the --secrets file: the dashboard's config.json carries it"
  elif [[ $CLERK_PUBLISHABLE_KEY =~ ^pk_(test|live)_(.+)$ ]]; then
    # The key is base64 of the instance's Frontend API host followed by '$'.
    CLERK_FRONTEND_API=$(printf '%s' "${BASH_REMATCH[2]}" | base64 -d 2>/dev/null | tr -d '\0' || true)
    [[ $CLERK_FRONTEND_API == *'$' ]] && CLERK_FRONTEND_API=${CLERK_FRONTEND_API%\$} ||
      problem "dashboard ($ENV_NAME): CLERK_PUBLISHABLE_KEY does not hold a Frontend API host; copy it again from Clerk → API keys"
  else
    problem "dashboard ($ENV_NAME): CLERK_PUBLISHABLE_KEY must start with pk_test_ or pk_live_"
  fi
}

# ------------------------------------------------------------------ configuration
# check_configs: every binding and var the environment's sections need, read with
# Python's TOML parser. Prints one problem per line, and NAME=value facts the rest of
# the script uses (worker names, the dashboard's address).
check_configs() {
  python3 - "$ENV_NAME" "$FIRST_DEPLOY" "$PLACEHOLDER" <<'PY'
import json, re, sys, tomllib
env, first_deploy, placeholder = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
configs = {"objects": "workers/objects/wrangler.toml", "api": "wrangler.toml",
           "platform-auth": "workers/platform-auth/wrangler.toml",
           "stripe-oauth": "workers/stripe-oauth/wrangler.toml"}
objects = {"PLATFORM": "Platform", "DEVELOPER": "Developer", "RATE_LIMITER": "RateLimiter"}
needed_vars = {"objects": ["PLATFORM_TIERS"], "api": ["ALLOWED_ORIGINS"],
               "platform-auth": ["ALLOWED_ORIGINS", "DASHBOARD_URL", "PLATFORM_TIERS", "CLERK_AUTHORIZED_PARTIES"],
               "stripe-oauth": ["ALLOWED_ORIGINS", "DASHBOARD_URL", "CLERK_AUTHORIZED_PARTIES"]}
problems, facts, kv_ids = [], {}, {}
sections = {}
for worker, path in configs.items():
    try:
        with open(path, "rb") as f:
            top = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        problems.append(f"{worker}: {path} cannot be read: {e}")
        continue
    section = top.get("env", {}).get(env)
    where = f"{worker} ({env}): {path} [env.{env}]"
    if section is None:
        problems.append(f"{where} is missing: add the section (see docs/deploy.md)")
        continue
    sections[worker] = (top, section, where)
objects_name = None
if "objects" in sections:
    top, section, _ = sections["objects"]
    objects_name = section.get("name", f"{top['name']}-{env}")
for worker, (top, section, where) in sections.items():
    name = section.get("name", f"{top['name']}-{env}")
    facts[f"NAME_{worker}"] = name
    if not section.get("observability", {}).get("enabled"):
        problems.append(f"{where}: Workers Logs are off; add [env.{env}.observability] enabled = true")
    kv = {k.get("binding"): k for k in section.get("kv_namespaces", [])}
    if "TOKENS_KV" not in kv:
        problems.append(f"{where}: binding TOKENS_KV (KV namespace) is missing; wrangler does not inherit "
                        f"kv_namespaces, so add [[env.{env}.kv_namespaces]] binding = \"TOKENS_KV\" with the namespace id")
    else:
        kv_id = str(kv["TOKENS_KV"].get("id", ""))
        if kv_id == placeholder:
            if not first_deploy:
                problems.append(f"{where}: binding TOKENS_KV's id is still the placeholder; run scripts/deploy.sh "
                                f"--env {env} once (it creates the namespace and writes its id into the four "
                                f"wrangler.toml files) and commit them, or check a first deploy with --first-deploy")
        elif not re.fullmatch(r"[0-9a-f]{32}", kv_id):
            problems.append(f"{where}: binding TOKENS_KV's id '{kv_id}' is not a KV namespace id (32 hex digits); "
                            f"`wrangler kv namespace list` shows it")
        else:
            kv_ids[worker] = kv_id
    dos = {d.get("name"): d for d in section.get("durable_objects", {}).get("bindings", [])}
    wanted = dict(objects)
    if worker == "stripe-oauth":
        wanted["OAUTH_STATES"] = "OAuthStates"
    for binding, cls in wanted.items():
        d = dos.get(binding)
        owner = None if worker == "objects" or binding == "OAUTH_STATES" else objects_name
        if d is None or d.get("class_name") != cls:
            how = f", script_name = \"{owner}\"" if owner else ""
            problems.append(f"{where}: binding {binding} (Durable Object {cls}) is missing; wrangler does not "
                            f"inherit durable_objects, so add {{ name = \"{binding}\", class_name = \"{cls}\"{how} }} "
                            f"to [env.{env}.durable_objects] bindings")
        elif d.get("script_name") != owner and not (owner is None and d.get("script_name") in (None, name)):
            problems.append(f"{where}: binding {binding} names script_name \"{d.get('script_name')}\", but the "
                            f"objects worker's {env} name is \"{objects_name}\"")
    if worker == "objects" and section.get("workers_dev", top.get("workers_dev", True)) is not False:
        problems.append(f"{where}: the objects worker answers no request of its own; set workers_dev = false "
                        f"in [env.{env}] so that it has no public address")
    if worker == "objects":
        producers = {p.get("binding"): p.get("queue") for p in section.get("queues", {}).get("producers", [])}
        consumers = section.get("queues", {}).get("consumers", [])
        queue = producers.get("WEBHOOK_QUEUE")
        if not queue:
            problems.append(f"{where}: binding WEBHOOK_QUEUE (queue producer) is missing; wrangler does not inherit "
                            f"queues, so add [[env.{env}.queues.producers]] binding = \"WEBHOOK_QUEUE\"")
        elif not any(c.get("queue") == queue and c.get("dead_letter_queue") for c in consumers):
            problems.append(f"{where}: no [[env.{env}.queues.consumers]] for queue \"{queue}\" with a "
                            f"dead_letter_queue; webhook deliveries would never be attempted")
        else:
            dead = next(c["dead_letter_queue"] for c in consumers if c.get("queue") == queue)
            facts["QUEUES"] = f"{queue} {dead}"
    variables = section.get("vars", {})
    for var in needed_vars[worker]:
        if not str(variables.get(var, "")).strip():
            problems.append(f"{where}: var {var} is missing; wrangler does not inherit vars, so set it in "
                            f"[env.{env}.vars] (docs/deploy.md \"Variables\")")
    for var, value in variables.items():
        if re.search(r"127\.0\.0\.1|localhost|\[::1\]", str(value)):
            problems.append(f"{where}: var {var} points at this machine ({value}); deployed values must be public addresses")
    if "ALLOW_LOOPBACK_WEBHOOKS" in variables:
        problems.append(f"{where}: ALLOW_LOOPBACK_WEBHOOKS is for local development only; remove it")
    if "PLATFORM_TIERS" in variables:
        try:
            json.loads(variables["PLATFORM_TIERS"])
        except ValueError:
            problems.append(f"{where}: var PLATFORM_TIERS is not JSON")
    if worker == "platform-auth" and variables.get("DASHBOARD_URL"):
        facts["DASHBOARD_URL"] = variables["DASHBOARD_URL"].rstrip("/")
    origins = [o.strip() for o in str(variables.get("ALLOWED_ORIGINS", "")).split(",")]
    if worker == "api" and "platform-auth" in sections:
        dashboard = sections["platform-auth"][1].get("vars", {}).get("DASHBOARD_URL", "").rstrip("/")
        if dashboard and dashboard not in origins:
            problems.append(f"{where}: ALLOWED_ORIGINS does not hold the dashboard's origin {dashboard}")
if len(set(kv_ids.values())) > 1:
    problems.append(f"TOKENS_KV ({env}): the workers name different namespaces ({', '.join(f'{w} {i}' for w, i in kv_ids.items())}); "
                    f"all four share one")
for p in problems:
    print("PROBLEM " + p)
if kv_ids.get("api"):
    facts["KV_ID"] = kv_ids["api"]
for k, v in facts.items():
    print(f"FACT {k}={v}")
PY
}

declare -A FACT=()
read_configs() {
  local line
  FACT=()
  while IFS= read -r line; do
    case $line in
      "PROBLEM "*) problem "${line#PROBLEM }" ;;
      "FACT "*) line=${line#FACT }; FACT[${line%%=*}]=${line#*=} ;;
    esac
  done < <(check_configs)
}

# write_kv_id ID: the namespace's id into the environment's TOKENS_KV binding of the
# four configs (only that line of that section changes).
write_kv_id() {
  python3 - "$ENV_NAME" "$1" "${CONFIG[@]}" <<'PY'
import re, sys
env, kv_id, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
for path in paths:
    lines = open(path).read().split("\n")
    inside, done = False, False
    for i, line in enumerate(lines):
        if line.strip().startswith("["):
            inside = line.strip() == f"[[env.{env}.kv_namespaces]]"
        elif inside and re.match(r"\s*id\s*=", line):
            lines[i] = f'id = "{kv_id}"'
            done = True
            inside = False
    if not done:
        sys.exit(f"{path}: no [[env.{env}.kv_namespaces]] id line to write")
    open(path, "w").write("\n".join(lines))
PY
}

# ------------------------------------------------------------------ checks
# check_dashboard: the app's files, the API reference's pages, and a reference built from
# the documents the workers being deployed serve (a stale one would describe another API).
check_dashboard() {
  local dist=frontend/dist file name
  for file in index.html start.js dashboard.js dashboard_bg.wasm docs/index.html; do
    [[ -f $dist/$file ]] || problem "dashboard: $dist/$file is missing; build it with scripts/build.sh"
  done
  for name in api platform-auth stripe-oauth; do
    [[ -f $dist/docs/$name/index.html ]] ||
      problem "dashboard: $dist/docs/$name/index.html is missing; build it with scripts/build.sh"
    cmp -s "$dist/docs/openapi/$name.json" "workers/$name/src/openapi.json" ||
      problem "dashboard: the API reference's $dist/docs/openapi/$name.json is not workers/$name/src/openapi.json; rebuild it with scripts/build.sh"
  done
}

# dry_run_workers: wrangler's own checks of each worker's configuration for the
# environment and of its bundle, with no account and no upload (all four at once).
dry_run_workers() {
  local worker pids=()
  for worker in "${WORKERS[@]}"; do
    wrangler deploy --dry-run --outdir "$WORK/$worker-bundle" --env "$ENV_NAME" -c "${CONFIG[$worker]}" \
      >"$WORK/$worker-dry-run.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!WORKERS[@]}"; do
    worker=${WORKERS[$i]}
    wait "${pids[$i]}" ||
      problem "$worker ($ENV_NAME): wrangler deploy --dry-run failed: $(grep -v '^\s*$' "$WORK/$worker-dry-run.log" | tail -n 5 | tr '\n' ' ')"
  done
}

report_problems() {
  ((${#PROBLEMS[@]} == 0)) && return 0
  printf '\ndeploy (%s): not ready, %d problem(s):\n' "$ENV_NAME" "${#PROBLEMS[@]}" >&2
  printf '  - %s\n' "${PROBLEMS[@]}" >&2
  exit 1
}

# ------------------------------------------------------------------ summary
summary() {
  local api=$1 auth=$2 oauth=$3 dashboard=$4
  cat <<MSG

dream-api ($ENV_NAME)$( ((DRY_RUN)) && echo ": dry run passed, nothing was uploaded")
  dashboard      $dashboard
  api            $api
  platform-auth  $auth
  stripe-oauth   $oauth

Stripe webhooks (Developers → Webhooks → Add destination); each destination has its
own signing secret, and a worker's STRIPE_WEBHOOK_SECRET lists its secrets, commas between:
  1. Events from your account → $auth/webhooks/stripe
     checkout.session.completed, customer.subscription.updated, customer.subscription.deleted
     (developers' own plan)                  → platform-auth's STRIPE_WEBHOOK_SECRET
  2. Events from your account → $api/webhooks/stripe
     the same three events (end-users of platforms in preview pay on your account)
                                             → api's STRIPE_WEBHOOK_SECRET, first entry
  3. Events from connected accounts → $api/webhooks/stripe
     the same three and account.application.deauthorized
                                             → api's STRIPE_WEBHOOK_SECRET, second entry
Stripe Connect OAuth redirect URI (Settings → Connect → Onboarding options → OAuth):
  $oauth/v1/connect/callback
MSG
}

# ------------------------------------------------------------------ run
if ((BUILD)); then
  echo "==> build"
  bash scripts/build.sh
fi

if ((DRY_RUN)); then
  echo "==> dry run ($ENV_NAME): configuration, secrets, bundles, dashboard"
  read_configs
  gather_secrets
  dry_run_workers
  check_dashboard
  report_problems
  for worker in "${WORKERS[@]}"; do echo "    $worker: wrangler deploy --dry-run --env $ENV_NAME passed (${FACT[NAME_$worker]})"; done
  echo "    dashboard: frontend/dist has index.html and its wasm"
  sub="${WORKERS_SUBDOMAIN:-<your-subdomain>}.workers.dev"  # the account's, e.g. WORKERS_SUBDOMAIN=acme
  summary "${API_URL:-https://${FACT[NAME_api]}.$sub}" "${PLATFORM_AUTH_URL:-https://${FACT[NAME_platform-auth]}.$sub}" \
    "${STRIPE_OAUTH_URL:-https://${FACT[NAME_stripe-oauth]}.$sub}" "${FACT[DASHBOARD_URL]}"
  exit 0
fi

wrangler whoami >"$WORK/whoami.log" 2>&1 && ! grep -qi 'not authenticated' "$WORK/whoami.log" ||
  die "wrangler is not logged in: run \`wrangler login\`, or set CLOUDFLARE_API_TOKEN (and CLOUDFLARE_ACCOUNT_ID)"

echo "==> secrets ($ENV_NAME)"
gather_secrets
report_problems

echo "==> resources ($ENV_NAME)"
# kv_namespace_id: the id of the namespace titled KV_TITLE, if the account has one.
kv_namespace_id() {
  wrangler kv namespace list >"$WORK/kv-list.json" 2>"$WORK/kv-list.log" ||
    { cat "$WORK/kv-list.log" >&2; die "could not list the account's KV namespaces"; }
  jq -r --arg t "$KV_TITLE" '.[] | select(.title == $t) | .id' "$WORK/kv-list.json" | head -n 1
}
# Every other problem of the configuration first: nothing is created for a broken one.
FIRST_DEPLOY=1 read_configs
report_problems
kv_id=${FACT[KV_ID]:-}  # an id already in the configs is kept: it is the one in use
if [[ -z $kv_id ]]; then
  kv_id=$(kv_namespace_id)
  if [[ -z $kv_id ]]; then
    # Run outside the project, so that wrangler titles the namespace exactly KV_TITLE.
    (cd "$WORK" && wrangler kv namespace create "$KV_TITLE") >"$WORK/kv.log" 2>&1 ||
      { cat "$WORK/kv.log" >&2; die "could not create KV namespace $KV_TITLE"; }
    kv_id=$(kv_namespace_id)
    [[ -n $kv_id ]] || die "KV namespace $KV_TITLE was created but is not listed; see \`wrangler kv namespace list\`"
    echo "    created KV namespace $KV_TITLE ($kv_id)"
  fi
  write_kv_id "$kv_id"
  echo "    TOKENS_KV ($ENV_NAME) = $kv_id, written into the four wrangler.toml files: commit them"
fi
read_configs
report_problems
for queue in ${FACT[QUEUES]}; do
  if ! wrangler queues info "$queue" >/dev/null 2>&1; then
    wrangler queues create "$queue" >"$WORK/queue.log" 2>&1 || { cat "$WORK/queue.log" >&2; die "could not create queue $queue"; }
    echo "    created queue $queue"
  fi
done

echo "==> checks ($ENV_NAME)"
dry_run_workers
check_dashboard
report_problems

declare -A URL=()
for worker in "${WORKERS[@]}"; do
  echo "==> deploy $worker ($ENV_NAME)"
  log="$WORK/$worker-deploy.log"
  if ! wrangler deploy --env "$ENV_NAME" -c "${CONFIG[$worker]}" 2>&1 | tee "$log"; then
    die "$worker: wrangler deploy failed (above)"
  fi
  for name in ${SECRETS[$worker]}; do
    key="$worker:$name"
    [[ -n ${VALUES[$key]:-} ]] || continue
    # From stdin, so the value is in no argument list, file or log.
    printf '%s' "${VALUES[$key]}" |
      wrangler secret put "$name" --env "$ENV_NAME" -c "${CONFIG[$worker]}" >"$WORK/secret.log" 2>&1 ||
      { grep -v '^\s*$' "$WORK/secret.log" | tail -n 3 >&2; die "$worker: could not set secret $name"; }
    echo "    secret $name set"
  done
  URL[$worker]=$(grep -o 'https://[^ ]*workers\.dev' "$log" | head -n 1 || true)
done
API_URL=${API_URL:-${URL[api]}}
PLATFORM_AUTH_URL=${PLATFORM_AUTH_URL:-${URL[platform-auth]}}
STRIPE_OAUTH_URL=${STRIPE_OAUTH_URL:-${URL[stripe-oauth]}}
[[ -n $API_URL && -n $PLATFORM_AUTH_URL && -n $STRIPE_OAUTH_URL ]] ||
  die "a worker's address was not in wrangler's output (workers.dev off?); give API_URL, PLATFORM_AUTH_URL and STRIPE_OAUTH_URL (custom domains) and run again"

echo "==> deploy the dashboard ($ENV_NAME: Pages project $PAGES_PROJECT, branch $PAGES_BRANCH)"
site="$WORK/dashboard"
cp -R frontend/dist "$site"
jq -n --arg api "$API_URL" --arg platformAuth "$PLATFORM_AUTH_URL" --arg stripeOauth "$STRIPE_OAUTH_URL" \
  --arg key "$CLERK_PUBLISHABLE_KEY" --arg frontendApi "$CLERK_FRONTEND_API" \
  '{apiUrl: $api, platformAuthUrl: $platformAuth, stripeOauthUrl: $stripeOauth,
    auth: {kind: "clerk", publishableKey: $key, frontendApi: $frontendApi}}' >"$site/config.json"
# Its Content Security Policy (_headers): the workers' origins and Clerk's, as config.json says.
write_dashboard_headers "$site" || die "the dashboard's _headers could not be written from its config.json"
# Made on the first deploy; afterwards Pages answers that it exists, which is fine.
if wrangler pages project create "$PAGES_PROJECT" --production-branch main >"$WORK/pages.log" 2>&1; then
  echo "    created Pages project $PAGES_PROJECT"
elif ! grep -qi 'already' "$WORK/pages.log"; then
  cat "$WORK/pages.log" >&2; die "could not create Pages project $PAGES_PROJECT"
fi
wrangler pages deploy "$site" --project-name "$PAGES_PROJECT" --branch "$PAGES_BRANCH" --commit-dirty=true

summary "$API_URL" "$PLATFORM_AUTH_URL" "$STRIPE_OAUTH_URL" "${FACT[DASHBOARD_URL]}"
