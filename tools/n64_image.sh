#!/usr/bin/env bash
# `make n64-image`: build the n64 profile's image (deploy/emulator/Dockerfile, context = the
# repository; Debian packages, PyPI wheels and the repository only) and check it:
#   1. n64-selfcheck inside the image: tensorkart-input attaches to the image's mupen64plus core
#      (no API error) beside the video and RSP plugins, and the frontend refuses a missing ROM with
#      status 2 naming the file;
#   2. with a ROM at hand (the first of TENSORKART_TEST_ROM's ':'-separated paths, a homebrew ROM
#      such as squaresdemo; mounted read-only for the check, never copied into the image), the image's
#      own command plays it: the container answers health on its feed port, tools/n64_feed_check.py
#      takes 120 frames from the feed (numbered without gaps, not blank), and `docker stop` (SIGTERM)
#      ends it with status 0 and the run's report. Without a ROM this step is skipped, saying so.
# Without a Docker engine it runs the stand-in (shared/tools/docker-standin.sh); builds and containers
# use host networking (what the stand-in supports). N64_IMAGE names the image, N64_CHECK_PORT the
# feed port of the check container (default 25156).
set -euo pipefail
cd "$(dirname "$0")/.."
image="${N64_IMAGE:-tensorkart/n64:local}"
if ! docker info >/dev/null 2>&1; then
  standin=""
  for candidate in "${DOCKER_STANDIN:-}" ../shared/tools/docker-standin.sh /work/shared/tools/docker-standin.sh; do
    if [ -n "$candidate" ] && [ -f "$candidate" ]; then standin="$candidate"; break; fi
  done
  [ -n "$standin" ] || { echo "n64-image: no Docker engine answers and no stand-in script was found" >&2; exit 1; }
  echo "n64-image: no Docker engine: starting the stand-in ($standin)" >&2
  bash "$standin"
fi
started=$(date +%s)
docker build --network host -f deploy/emulator/Dockerfile -t "$image" .
echo "n64-image: built $image in $(($(date +%s) - started)) s, $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')" >&2
docker run --rm --network host --entrypoint n64-selfcheck "$image"

rom="${TENSORKART_TEST_ROM%%:*}"
if [ -z "$rom" ] || [ ! -f "$rom" ]; then
  echo "n64-image: feed check skipped: set TENSORKART_TEST_ROM to a homebrew ROM (e.g. squaresdemo) to see frames flow" >&2
  exit 0
fi
rom=$(realpath "$rom")
port="${N64_CHECK_PORT:-25156}"
container=$(docker run -d --network host -v "$(dirname "$rom"):/roms:ro" \
  -e "EMULATOR_ROM=/roms/$(basename "$rom")" -e "EMULATOR_PORT=$port" -e EMULATOR_METRICS_PORT=0 -e VNC=0 "$image")
cleanup() { docker rm -f "$container" >/dev/null 2>&1 || true; }
trap cleanup EXIT
if ! docker run --rm --network host -v "$PWD/tools:/check:ro" --entrypoint python "$image" \
  /check/n64_feed_check.py "127.0.0.1:$port" 120; then
  docker logs "$container" 2>&1 | tail -n 30 >&2
  echo "n64-image: FAILED: no good frames from the container's feed" >&2
  exit 1
fi
docker stop -t 30 "$container" >/dev/null
status=$(docker inspect -f '{{.State.ExitCode}}' "$container")
report=$(docker logs "$container" 2>/dev/null | grep '^{"track"' | tail -n 1)
if [ "$status" != 0 ] || [ -z "$report" ]; then
  docker logs "$container" 2>&1 | tail -n 30 >&2
  echo "n64-image: FAILED: SIGTERM should end the frontend with status 0 and its report (status $status)" >&2
  exit 1
fi
echo "n64-image: ok: $(basename "$rom") played in the container; its feed served frames; stopped cleanly: $report"
