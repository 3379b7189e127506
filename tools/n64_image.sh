#!/usr/bin/env bash
# `make n64-image`: build the n64 profile's emulator image (deploy/emulator/Dockerfile, context =
# the repository, Debian packages only) and check that its mupen64plus starts with TensorKart's
# input plugin on its core without an API error (n64-selfcheck inside the image; no ROM needed).
# Without a Docker engine it runs the stand-in (shared/tools/docker-standin.sh); builds and the
# check use host networking (what the stand-in supports). N64_IMAGE names the image.
set -euo pipefail
cd "$(dirname "$0")/.."
image="${N64_IMAGE:-tensorkart/n64-emulator:local}"
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

# The display is shared through the socket volume alone: a second container that mounts the volume
# read-only (as capture-n64 does) reaches it; one without the volume cannot, even on the host's
# network (Xvfb listens on no TCP port and no abstract socket).
volume="tk-n64-x11-check-$$"
docker volume create "$volume" >/dev/null
xvfb=$(docker run -d --rm --network host -v "$volume:/tmp/.X11-unix" --entrypoint Xvfb "$image" \
  :77 -screen 0 640x480x24 -nolisten tcp -nolisten local)
cleanup() { docker stop "$xvfb" >/dev/null 2>&1 || true; sleep 1; docker volume rm "$volume" >/dev/null 2>&1 || true; }
trap cleanup EXIT
probe() { docker run --rm --network host -e DISPLAY=:77 "$@" --entrypoint sh "$image" -c \
  'for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1'; }
probe -v "$volume:/tmp/.X11-unix:ro" || { echo "n64-image: FAILED: the display is not reachable through the socket volume" >&2; exit 1; }
if probe; then echo "n64-image: FAILED: the display is reachable without the socket volume" >&2; exit 1; fi
echo "n64-image: ok: the X display is reachable through the read-only socket volume only"
