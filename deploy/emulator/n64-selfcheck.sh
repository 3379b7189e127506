#!/bin/sh
# The n64 image checks itself, no ROM needed (`make n64-image` runs it):
#   1. the frontend attaches Debian's video and RSP plugins and tensorkart-input to the image's core
#      (python -m tensorkart_emulator check-plugins: a blank cartridge, nothing runs), so an API
#      mismatch between our plugin and the 2.5.9 core fails here;
#   2. the image's command (start-emulator: xvfb-run + the frontend) refuses a missing ROM with
#      exit status 2 and one line naming the file.
# Exit 0 only when both hold.
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(dpkg-query -W -f '${Version}' libmupen64plus2)
EMULATOR_CONFIG_DIR="$work/config" EMULATOR_INPUT_BOT_HOST=127.0.0.1 \
  xvfb-run --auto-servernum python -m tensorkart_emulator check-plugins > "$work/plugins.json" 2> "$work/plugins.log"
status=$?
cat "$work/plugins.log" "$work/plugins.json"
if [ "$status" != 0 ]; then
  echo "n64-selfcheck: FAILED: the plugins did not attach to mupen64plus core $version (exit $status)" >&2
  exit 1
fi
if ! grep -q '"input": {"name": "TensorKart input-bot plugin (tensorkart-input)"' "$work/plugins.json" \
  || ! grep -q "controller 0: input-bot server 127.0.0.1:8082" "$work/plugins.log"; then
  echo "n64-selfcheck: FAILED: tensorkart-input was not attached and configured" >&2
  exit 1
fi
echo "n64-selfcheck: ok: tensorkart-input attached to mupen64plus core $version beside the video and RSP plugins"

missing="$work/no-such-rom.z64"
EMULATOR_ROM="$missing" EMULATOR_CONFIG_DIR="$work/config" VNC=0 start-emulator > "$work/run.log" 2>&1
status=$?
cat "$work/run.log"
if [ "$status" != 2 ] || ! grep -q "ROM $missing: no such file" "$work/run.log"; then
  echo "n64-selfcheck: FAILED: a missing ROM should end the frontend with status 2 naming it (got $status)" >&2
  exit 1
fi
echo "n64-selfcheck: ok: the frontend refuses a missing ROM (status 2, the file named)"
