#!/bin/sh
# Does this image's mupen64plus start with TensorKart's input plugin on its core (input API
# accepted, config read)? No ROM needed: a blank image with a valid .z64 signature gets the
# ui-console as far as attaching the plugins; no video (dummy), stopped after a few seconds.
# Prints the log; exit 0 only when the plugin was attached and configured without an error.
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '\200\067\022\100' > "$work/blank.z64"
head -c 1048572 /dev/zero >> "$work/blank.z64"
plugin_dir=$(dirname "$(ls /usr/lib/*/mupen64plus/mupen64plus-rsp-hle.so | head -n 1)")
cd "$work"
timeout -k 2 "${SELFCHECK_SECONDS:-5}" mupen64plus --nosaveoptions --configdir "$work" --gfx dummy --audio dummy \
  --rsp "$plugin_dir/mupen64plus-rsp-hle.so" --input "$INPUT_PLUGIN" \
  --set "Input-Bot-Control0[host]=127.0.0.1" --set "Input-Bot-Control0[timeout_ms]=$INPUT_BOT_TIMEOUT_MS" \
  "$work/blank.z64" > "$work/log" 2>&1
cat "$work/log"
version=$(dpkg-query -W -f '${Version}' libmupen64plus2)
if grep -q "incompatible Input plugin\|broken Input plugin\|Input Error" "$work/log"; then
  echo "n64-selfcheck: FAILED: the core ($version) refused the input plugin" >&2
  exit 1
fi
if ! grep -q "using Input plugin: 'TensorKart input-bot plugin (tensorkart-input)'" "$work/log" \
  || ! grep -q "controller 0: input-bot server 127.0.0.1:8082" "$work/log"; then
  echo "n64-selfcheck: FAILED: the input plugin was not attached and configured" >&2
  exit 1
fi
echo "n64-selfcheck: ok: tensorkart-input attached to mupen64plus core $version"
