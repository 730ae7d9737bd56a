#!/usr/bin/env bash
# Runs the container build files' steps without a container engine, and the
# result the way the images run it:
#   1. the build stages of deploy/api.Containerfile and deploy/portal.Containerfile
#      (ENV, WORKDIR, COPY . ., RUN), read from the files themselves, in a
#      temporary folder standing for /app;
#   2. the runtime stages' RUN steps (the writable folders and their owner),
#      with /app and /data mapped into that folder and the image's `node` user
#      played by `nobody`;
#   3. the API and the portal started with the files' CMD, WORKDIR and ENV, as
#      `nobody`, in a private mount namespace where the whole folder is mounted
#      read-only except DATA_DIR and the portal's .next/cache;
#   4. /readyz, the portal's /login, and each file's HEALTHCHECK command.
# Needs root (mount namespace, user switch). Servers listen on loopback only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
API_FILE="$ROOT/deploy/api.Containerfile"
PORTAL_FILE="$ROOT/deploy/portal.Containerfile"
RUN_AS="${CHECK_BUILD_USER:-nobody}"
RUN_GROUP="$(id -gn "$RUN_AS")"

[[ $EUID -eq 0 ]] || { echo "check-build: run as root (it mounts read-only and switches to $RUN_AS)" >&2; exit 1; }

WORK="$(mktemp -d /tmp/latchkey-check-build.XXXXXX)"
chmod 755 "$WORK"
APP="$WORK/app"
DATA="$WORK/data"
mkdir -p "$APP" "$DATA"
PIDS=()
cleanup() {
  local status=$?
  set +e
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  sleep 1
  for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

# stage FILE build|runtime: the instructions of the named stage, one per line
# (continuation lines joined, comments dropped).
stage() {
  awk -v want="$2" '
    /^[[:space:]]*#/ { next }
    { line = line $0 }
    /\\$/ { sub(/\\$/, "", line); next }
    {
      if (line ~ /^FROM /) { current = (line ~ / AS build$/) ? "build" : "runtime" }
      else if (current == want && line !~ /^[[:space:]]*$/) print line
      line = ""
    }' "$1"
}

# The JSON array of an exec-form instruction, as shell words.
exec_words() { node -e 'for (const w of JSON.parse(process.argv[1])) console.log(w)' "$1"; }

ENV_VARS=()
run_build_stage() {
  local file="$1" skip="$2" n=0 line
  while IFS= read -r line; do
    n=$((n + 1))
    ((n <= skip)) && continue
    case "$line" in
      "ENV "*) ENV_VARS+=(${line#ENV }) ;;
      "WORKDIR /app") ;;
      "COPY . .")
        echo "+ COPY . . (the repository's files, as the build context has them)"
        (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$APP"
        ;;
      "RUN "*)
        echo "+ ${line}"
        (cd "$APP" && env "${ENV_VARS[@]}" bash -c "${line#RUN }")
        ;;
      *) echo "check-build: unhandled build instruction in $file: $line" >&2; exit 1 ;;
    esac
  done < <(stage "$file" build)
}

section_start=$SECONDS
echo "== build stage of deploy/api.Containerfile"
run_build_stage "$API_FILE" 0
# The portal's build stage repeats the API's and adds its own steps: only those run again.
api_steps="$(stage "$API_FILE" build)"
portal_steps="$(stage "$PORTAL_FILE" build)"
[[ "$portal_steps" == "$api_steps"* ]] || { echo "check-build: the portal's build stage no longer starts with the API's" >&2; exit 1; }
echo "== build stage of deploy/portal.Containerfile (after the API's steps)"
run_build_stage "$PORTAL_FILE" "$(printf '%s\n' "$api_steps" | wc -l)"
echo "built in $((SECONDS - section_start)) s"

# Runtime stages: RUN steps with /app, /data and the node user mapped.
runtime_setup() {
  local line
  while IFS= read -r line; do
    case "$line" in
      "RUN "*)
        local command="${line#RUN }"
        command="${command//\/app/$APP}"
        command="${command//\/data/$DATA}"
        command="${command//node:node/$RUN_AS:$RUN_GROUP}"
        echo "+ RUN $command"
        bash -c "$command"
        ;;
    esac
  done < <(stage "$1" runtime)
}
runtime_value() { stage "$1" runtime | sed -n "s/^$2 //p" | tail -n 1; }
runtime_env() { stage "$1" runtime | sed -n 's/^ENV //p' | tr ' ' '\n'; }

runtime_setup "$API_FILE"
runtime_setup "$PORTAL_FILE"
CACHE="$APP/web/.next/cache"
[[ "$(stat -c %U "$DATA")" == "$RUN_AS" && "$(stat -c %U "$CACHE")" == "$RUN_AS" ]] || { echo "check-build: the writable folders are not the run user's" >&2; exit 1; }

free_port() { node -e 'const s = require("node:net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'; }
API_PORT="$(free_port)"
WEB_PORT="$(free_port)"
while [[ "$WEB_PORT" == "$API_PORT" ]]; do WEB_PORT="$(free_port)"; done

# start FILE PORT_VARIABLE PORT EXTRA_ENV...: the file's CMD in its WORKDIR with its ENV,
# as the run user, with only DATA_DIR and the cache writable.
start() {
  local file="$1"
  shift
  local workdir cmd
  workdir="$(runtime_value "$file" WORKDIR)"
  workdir="${workdir//\/app/$APP}"
  mapfile -t cmd < <(exec_words "$(runtime_value "$file" CMD)")
  mapfile -t image_env < <(runtime_env "$file")
  image_env=("${image_env[@]//\/data/$DATA}")
  local log="$WORK/$(basename "$file" .Containerfile).log"
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid unshare --mount --propagation private bash -c '
    set -e
    app="$1" data="$2" cache="$3"; shift 3
    mount --bind "$app" "$app"
    mount -o remount,bind,ro "$app"
    mount --bind "$data" "$data"
    mount --bind "$cache" "$cache"
    exec "$@"' start "$APP" "$DATA" "$CACHE" \
    setpriv --reuid="$RUN_AS" --regid="$RUN_GROUP" --clear-groups --inh-caps=-all \
    env -i PATH="$PATH" HOME=/nonexistent "${image_env[@]}" "$@" \
    bash -c 'cd "$1" && shift && exec "$@"' run "$workdir" "${cmd[@]}" >"$log" 2>&1 &
  PIDS+=($!)
  echo "started $(basename "$file") as $RUN_AS (pid $!, log $log)"
}

start "$API_FILE" API_HOST=127.0.0.1 API_PORT="$API_PORT" WEB_ORIGIN="http://127.0.0.1:$WEB_PORT"
start "$PORTAL_FILE" WEB_HOST=127.0.0.1 WEB_PORT="$WEB_PORT" API_INTERNAL_URL="http://127.0.0.1:$API_PORT"

wait_http() {
  local url="$1" deadline=$((SECONDS + $2)) code
  while ((SECONDS < deadline)); do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" || true)"
    [[ "$code" == "200" ]] && return 0
    sleep 1
  done
  return 1
}
show_logs() { for log in "$WORK"/*.log; do echo "---- $log"; tail -n 40 "$log"; done; }

wait_http "http://127.0.0.1:$API_PORT/readyz" 120 || { show_logs; echo "check-build: the API did not become ready" >&2; exit 1; }
echo "API: GET /readyz -> 200"
wait_http "http://127.0.0.1:$WEB_PORT/login" 120 || { show_logs; echo "check-build: the portal did not answer /login" >&2; exit 1; }
echo "portal: GET /login -> 200"

# Each file's HEALTHCHECK, with the port it was given here.
healthcheck() {
  local file="$1" port="$2" default="$3" words
  mapfile -t words < <(exec_words "$(stage "$file" runtime | sed -n 's/^HEALTHCHECK .*CMD //p')")
  words=("${words[@]//:$default/:$port}")
  setpriv --reuid="$RUN_AS" --regid="$RUN_GROUP" --clear-groups "${words[@]}"
}
healthcheck "$API_FILE" "$API_PORT" 4000 && echo "API HEALTHCHECK: healthy"
healthcheck "$PORTAL_FILE" "$WEB_PORT" 3000 && echo "portal HEALTHCHECK: healthy"

# Nothing but DATA_DIR and the cache was written: the rest was mounted read-only.
[[ -n "$(ls -A "$DATA")" ]] || { echo "check-build: the API wrote nothing to DATA_DIR" >&2; exit 1; }
echo "DATA_DIR holds: $(ls "$DATA" | tr '\n' ' ')"
grep -q "Read-only file system\|EROFS" "$WORK"/*.log && { show_logs; echo "check-build: something tried to write outside the writable folders" >&2; exit 1; }
echo "check-build: passed"
