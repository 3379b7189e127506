#!/usr/bin/env bash
# `make compose-test`: the docker compose stack end to end, on the practice track.
#   1. builds the images (and shows their sizes), brings the stack up, waits until every
#      container's healthcheck says healthy;
#   2. records a short run: an expert-driven practice track + the capture container streaming its
#      feed to the recorder service; checks the dataset through the trainer API;
#   3. trains on it through the trainer REST API (worker container), which then evaluates the model
#      in closed loop on the practice track (the simulator is installed in the trainer image):
#      the model's autonomy must be in its model.json; promotes the model;
#   4. plays: a practice track driven through the controller container, the capture relay sending
#      its frames to the inference container (which hot-swapped to the promoted model); prints
#      the track's report JSON;
#   5. `down` (volumes kept), `up` again: the dataset, the model and the active version (Redis AOF)
#      are still there; then tears everything down, volumes included.
# All calls carry a bearer token (TENSORKART_TOKEN) and every gRPC server serves TLS with a
# certificate made here by openssl (COMPOSE_TEST_TLS=0: plaintext), as a secured deployment would.
#
# Without a Docker engine it runs the stand-in (shared/tools/docker-standin.sh) when present. With
# the stand-in, containers share the host's network (docker-compose.hostnet.yml, ports 25000+);
# COMPOSE_TEST_HOSTNET=0|1 forces the choice. Uses `docker compose` (v2) or `docker-compose` (v1.29).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n[compose-test %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

# --- engine and compose command ---
standin=""
for candidate in "${DOCKER_STANDIN:-}" ../shared/tools/docker-standin.sh /work/shared/tools/docker-standin.sh; do
  if [ -n "$candidate" ] && [ -f "$candidate" ]; then standin="$candidate"; break; fi
done
if ! docker info >/dev/null 2>&1; then
  [ -n "$standin" ] || fail "no Docker engine answers and no stand-in script was found"
  log "no Docker engine: starting the stand-in ($standin; ~5 min the first time)"
  bash "$standin"
fi
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null; then
  COMPOSE=(docker-compose)
else
  fail "neither 'docker compose' nor 'docker-compose' is installed"
fi
hostnet="${COMPOSE_TEST_HOSTNET:-}"
if [ -z "$hostnet" ]; then
  if [ -n "$standin" ]; then hostnet=1; else hostnet=0; fi
fi

export COMPOSE_PROJECT_NAME="${COMPOSE_TEST_PROJECT:-tkcomposetest}"
export TENSORKART_TOKEN="${TENSORKART_TOKEN:-compose-test-$RANDOM$RANDOM}"
export TENSORKART_TAG=compose-test
export TRACK=luigi EMULATOR_LAPS=0
files=(-f docker-compose.yml)
if [ "$hostnet" = 1 ]; then
  files+=(-f docker-compose.hostnet.yml)
  export TK_REDIS_PORT=26379 TK_RECORDER_PORT=25051 TK_INFERENCE_PORT=25052 TK_CONTROLLER_PORT=25053
  export TK_CONTROLLER_HTTP_PORT=25082 TK_FEED_PORT=25054 TK_TRAINER_PORT=25000
  trainer_url="http://127.0.0.1:$TK_TRAINER_PORT"
  rec_feed_port=25055 play_feed_port=25056
  rec_feed_addr="127.0.0.1:$rec_feed_port" play_feed_addr="127.0.0.1:$play_feed_port"
  play_input_bot="http://127.0.0.1:$TK_CONTROLLER_HTTP_PORT/1"
  oneoff_net=(--network host)
  oneoff_addrs=(-e "RECORDER_ADDR=127.0.0.1:$TK_RECORDER_PORT" -e "INFERENCE_ADDR=127.0.0.1:$TK_INFERENCE_PORT"
                -e "CONTROLLER_ADDR=127.0.0.1:$TK_CONTROLLER_PORT")
else
  # Published ports of this test's project, away from the defaults a developer's stack may hold.
  export RECORDER_PUBLISH=127.0.0.1:25051 INFERENCE_PUBLISH=127.0.0.1:25052 CONTROLLER_PUBLISH=127.0.0.1:25053
  export CONTROLLER_HTTP_PUBLISH=127.0.0.1:25082 TRAINER_PUBLISH=127.0.0.1:25000
  trainer_url="http://127.0.0.1:25000"
  rec_feed_port=50055 play_feed_port=50056
  rec_feed_addr="$COMPOSE_PROJECT_NAME-rec-sim:$rec_feed_port"
  play_feed_addr="$COMPOSE_PROJECT_NAME-play-sim:$play_feed_port"
  play_input_bot="http://controller:8082/1"
  oneoff_net=(--network "${COMPOSE_PROJECT_NAME}_default")
  oneoff_addrs=(-e RECORDER_ADDR=recorder:50051 -e INFERENCE_ADDR=inference:50052 -e CONTROLLER_ADDR=controller:50053)
fi
if [ "${COMPOSE_TEST_TLS:-1}" = 1 ]; then
  # A throw-away CA and one server certificate for every name the services are reached by.
  certs=$(mktemp -d)
  openssl req -x509 -newkey rsa:2048 -sha256 -days 2 -nodes -keyout "$certs/ca.key" -out "$certs/ca.crt" \
    -subj "/CN=tensorkart compose-test CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$certs/server.key" -out "$certs/server.csr" \
    -subj "/CN=tensorkart" 2>/dev/null
  printf 'subjectAltName = IP:127.0.0.1, DNS:localhost, DNS:recorder, DNS:inference, DNS:controller, DNS:emulator, DNS:%s, DNS:%s\nextendedKeyUsage = serverAuth\n' \
    "$COMPOSE_PROJECT_NAME-rec-sim" "$COMPOSE_PROJECT_NAME-play-sim" > "$certs/server.ext"
  openssl x509 -req -in "$certs/server.csr" -CA "$certs/ca.crt" -CAkey "$certs/ca.key" -CAcreateserial -days 2 \
    -sha256 -extfile "$certs/server.ext" -out "$certs/server.crt" 2>/dev/null
  rm -f "$certs/ca.key" "$certs/server.csr"
  chmod 755 "$certs" && chmod 644 "$certs"/*   # read by the containers' user 10001
  export TENSORKART_CERTS_DIR="$certs" TENSORKART_TLS_CERT=/certs/server.crt TENSORKART_TLS_KEY=/certs/server.key
  export TENSORKART_TLS_CA=/certs/ca.crt
fi
compose() { "${COMPOSE[@]}" "${files[@]}" "$@"; }
if [ "$hostnet" = 1 ]; then
  # Docker refuses published ports on host-networked containers, and an override file cannot remove
  # the base file's `ports:` (compose v1): run from the merged configuration without them.
  merged=$(mktemp --suffix=.yml)
  compose config > "$merged.full"
  yaml_python=""
  for candidate in python3 /usr/bin/python3 .venv/bin/python; do
    if "$candidate" -c "import yaml" 2>/dev/null; then yaml_python=$candidate; break; fi
  done
  [ -n "$yaml_python" ] || fail "no python3 with PyYAML to merge the compose files (apt-get install python3-yaml)"
  "$yaml_python" - "$merged.full" "$merged" <<'PY'
import sys

import yaml

config = yaml.safe_load(open(sys.argv[1]))
for service in config["services"].values():
    service.pop("ports", None)
yaml.safe_dump(config, open(sys.argv[2], "w"), sort_keys=False)
PY
  rm -f "$merged.full"
  files=(-f "$merged" --project-directory "$PWD")
fi
log "engine: $(docker --version); compose: $("${COMPOSE[@]}" version --short 2>/dev/null || "${COMPOSE[@]}" version | head -1)"
log "project $COMPOSE_PROJECT_NAME, host networking: $hostnet, TLS: $([ -n "${TENSORKART_TLS_CERT:-}" ] && echo on || echo off)"

one_offs=("$COMPOSE_PROJECT_NAME-rec-sim" "$COMPOSE_PROJECT_NAME-play-sim")
# One-off containers (a practice track, a capture) beside the stack: plain `docker run` of the
# stack's images on its network and data volume (compose v1's `run` links dependencies, which
# host networking refuses).
oneoff() {
  local certs_mount=()
  [ -n "${TENSORKART_CERTS_DIR:-}" ] && certs_mount=(-v "$TENSORKART_CERTS_DIR:/certs:ro")
  docker run "${oneoff_net[@]}" "${oneoff_addrs[@]}" "${certs_mount[@]}" -v "${COMPOSE_PROJECT_NAME}_data:/data" \
    -e TENSORKART_TOKEN -e TENSORKART_TLS_CA -e SIMULATOR_METRICS_PORT=0 \
    -e "SIMULATOR_TLS_CERT=${TENSORKART_TLS_CERT:-}" -e "SIMULATOR_TLS_KEY=${TENSORKART_TLS_KEY:-}" "$@"
}
cleanup() {
  status=$?
  if [ $status -ne 0 ]; then
    log "logs of the stack (last 40 lines each)"
    compose logs --no-color --tail 40 2>&1 | tail -400 || true
    compose ps || true
  fi
  log "tearing down (volumes included)"
  docker rm -f "${one_offs[@]}" >/dev/null 2>&1 || true
  compose down -v --remove-orphans >/dev/null 2>&1 || true
  rm -rf "${certs:-/nonexistent}" "${merged:-/nonexistent}"
  exit $status
}
trap cleanup EXIT

api() {  # api METHOD PATH [JSON]: call the trainer API with the token, print the body, fail on HTTP >= 400
  local method=$1 path=$2 body=${3:-}
  local args=(-sS -X "$method" -H "Authorization: Bearer $TENSORKART_TOKEN" -w '\n%{http_code}')
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' -d "$body")
  local out code
  out=$(curl "${args[@]}" "$trainer_url$path") || fail "curl $method $path"
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  [ "$code" -lt 400 ] || fail "$method $path -> HTTP $code: $out"
  printf '%s' "$out"
}
json() { python3 -c "import json, sys; data = json.load(sys.stdin); print($1)"; }

wait_healthy() {  # every container of the project healthy (and none restarting), within $1 seconds
  local deadline=$(( $(date +%s) + $1 )) line bad
  while true; do
    bad=""
    for id in $(compose ps -q); do
      line=$(docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}}' "$id")
      case "$line" in
        *" running healthy") ;;
        *) bad="$bad${bad:+, }${line#/}" ;;
      esac
    done
    if [ -z "$bad" ] && [ -n "$(compose ps -q)" ]; then return 0; fi
    [ "$(date +%s)" -lt "$deadline" ] || fail "not healthy after $1 s: $bad"
    sleep 3
  done
}

report_health() {
  for id in $(compose ps -q); do
    docker inspect -f '  {{.Name}}: {{.State.Status}}, health {{.State.Health.Status}}' "$id"
  done | sed 's#/##' >&2
}

# --- 1. build, up, healthy ---
log "building images"
compose build
log "image sizes"
docker images --format '  {{.Repository}}:{{.Tag}}  {{.Size}}' | grep ":$TENSORKART_TAG " >&2
log "docker compose config validates (default, gpu + n64 profiles)"
"${COMPOSE[@]}" -f docker-compose.yml config -q
"${COMPOSE[@]}" -f docker-compose.yml -f docker-compose.hostnet.yml config -q
"${COMPOSE[@]}" -f docker-compose.yml --profile gpu --profile n64 config -q
compose down -v --remove-orphans >/dev/null 2>&1 || true
log "up"
compose up -d
wait_healthy 420
log "every container is healthy"
report_health

# --- 2. record a short run on the practice track ---
dataset="compose-smoke"
log "recording '$dataset': expert driver on $TRACK, capture -> recorder"
docker rm -f "${one_offs[@]}" >/dev/null 2>&1 || true
oneoff -d --name "$COMPOSE_PROJECT_NAME-rec-sim" "tensorkart/simulator:$TENSORKART_TAG" \
  python -m tensorkart_simulator run --track "$TRACK" --driver expert --headless --lockstep --laps 1 \
  --max-seconds 12 --feed-port "$rec_feed_port" --wait-for-subscriber --report >/dev/null
sleep 3
recorded=$(oneoff --rm "tensorkart/capture:$TENSORKART_TAG" \
  python -m tensorkart_capture record --source sim --sim-address "$rec_feed_addr" --name "$dataset" --quiet | tail -1)
echo "  capture: $recorded" >&2
[ "$(docker wait "$COMPOSE_PROJECT_NAME-rec-sim")" = 0 ] || fail "recording simulator failed: $(docker logs "$COMPOSE_PROJECT_NAME-rec-sim" 2>&1 | tail -5)"
echo "  practice track: $(docker logs "$COMPOSE_PROJECT_NAME-rec-sim" 2>/dev/null | tail -1)" >&2
docker rm "$COMPOSE_PROJECT_NAME-rec-sim" >/dev/null
info=$(api GET "/v1/datasets/$dataset")
frames=$(printf '%s' "$info" | json 'data.get("frames", 0)')
echo "  dataset via the trainer API: $(printf '%s' "$info" | json '{k: data.get(k) for k in ("name", "frames", "duration_s", "validation")}')" >&2
[ "$frames" -ge 100 ] || fail "dataset $dataset has $frames frames"
[ "$(printf '%s' "$info" | json 'data["validation"]["valid"]')" = True ] || fail "dataset $dataset is not valid: $info"

# --- 3. train through the REST API, promote ---
log "training on $dataset through POST /v1/jobs"
job=$(api POST /v1/jobs "{\"datasets\": [\"$dataset\"], \"epochs\": 2, \"batch_size\": 32, \"evaluate\": true, \"eval_tracks\": [\"$TRACK\"], \"eval_laps\": 1, \"cache\": false}")
job_id=$(printf '%s' "$job" | json 'data["id"]')
deadline=$(( $(date +%s) + 900 ))
while true; do
  state_json=$(api GET "/v1/jobs/$job_id")
  state=$(printf '%s' "$state_json" | json 'data["state"]')
  printf '  job %s: %s %s\n' "$job_id" "$state" "$(printf '%s' "$state_json" | json 'data.get("progress")')" >&2
  case "$state" in
    finished) break ;;
    failed | canceled) fail "training job $state: $state_json" ;;
  esac
  [ "$(date +%s)" -lt "$deadline" ] || fail "training job not finished after 900 s"
  sleep 10
done
version=$(printf '%s' "$state_json" | json 'data["model_version"]')
# Closed-loop evaluation ran in the worker container: model.json has the evaluation and autonomy.
model_json=$(api GET "/v1/models/$version")
evaluation=$(printf '%s' "$model_json" | json 'data["evaluation"]["status"]')
[ "$evaluation" = done ] || fail "model $version was not evaluated (evaluation: $(printf '%s' "$model_json" | json 'data.get("evaluation")'))"
autonomy=$(printf '%s' "$model_json" | json "data.get(\"autonomy\", {}).get(\"$TRACK\")")
python3 -c "import sys; a = float(sys.argv[1]); sys.exit(0 if 0 <= a <= 1 else 1)" "$autonomy" \
  || fail "model $version has no autonomy on $TRACK in model.json: $autonomy"
api POST "/v1/models/$version/promote" >/dev/null
log "model $version trained, evaluated in the worker (autonomy on $TRACK: $autonomy) and promoted"

# --- 4. play on the practice track with it ---
log "playing one lap of $TRACK: practice track <- controller <- inference($version) <- capture relay"
oneoff -d --name "$COMPOSE_PROJECT_NAME-play-sim" "tensorkart/simulator:$TENSORKART_TAG" \
  python -m tensorkart_simulator run --track "$TRACK" --driver controller --headless --realtime --laps 1 \
  --max-seconds 60 --feed-port "$play_feed_port" --wait-for-subscriber --input-bot "$play_input_bot" \
  --label-model "$version" --report >/dev/null
sleep 3
relayed=$(oneoff --rm "tensorkart/capture:$TENSORKART_TAG" \
  python -m tensorkart_capture.relay --source sim --sim-address "$play_feed_addr" --port 1 --quiet | tail -1)
echo "  relay: $relayed" >&2
[ "$(docker wait "$COMPOSE_PROJECT_NAME-play-sim")" = 0 ] || fail "play simulator failed: $(docker logs "$COMPOSE_PROJECT_NAME-play-sim" 2>&1 | tail -5)"
play_report=$(docker logs "$COMPOSE_PROJECT_NAME-play-sim" 2>/dev/null | tail -1)
docker rm "$COMPOSE_PROJECT_NAME-play-sim" >/dev/null
echo "  practice track report: $play_report" >&2
printf '%s' "$play_report" | json 'data["model"]' | grep -qx "$version" || fail "the lap was not driven by $version"
# steering reached the controller: forwarded by the relay, or pushed by inference itself (direct route)
delivered=$(printf '%s' "$relayed" | json 'data["pushed"] + data.get("direct", 0)')
[ "$delivered" -gt 0 ] || fail "no steering reached the controller: $relayed"
printf '%s' "$relayed" | json '" ".join(data["models"])' | grep -qw "$version" || fail "inference did not serve $version"
report_health

# --- 5. down and up again: nothing lost ---
log "docker compose down (volumes kept), then up again"
compose down
compose up -d
wait_healthy 420
active=$(api GET /v1/models | json 'data.get("active")')
[ "$active" = "$version" ] || fail "active model after restart is '$active', expected $version (Redis AOF)"
frames_after=$(api GET "/v1/datasets/$dataset" | json 'data.get("frames", 0)')
[ "$frames_after" = "$frames" ] || fail "dataset has $frames_after frames after restart, had $frames"
api GET "/v1/models/$version" | json 'data["version"]' | grep -qx "$version" || fail "model $version lost"
log "after down/up: dataset $dataset ($frames frames), model $version, still active"
report_health

echo "{\"compose_test\": \"ok\", \"model\": \"$version\", \"autonomy\": $autonomy, \"frames_recorded\": $frames, \"play\": $play_report}"
