#!/bin/sh
# Start Xvfb (display reachable over TCP for the capture container), x11vnc on 5900, and mupen64plus
# with the input-bot plugin pointed at the TensorKart controller. Exits when the emulator exits.
set -eu
if [ ! -r "$ROM" ]; then
  echo "start-emulator: ROM not found or not readable at $ROM (mount your ROM directory at /roms, set N64_ROM_FILE)" >&2
  exit 2
fi
display_number="${DISPLAY#:}"
Xvfb "$DISPLAY" -screen 0 "$SCREEN" -ac -listen tcp +extension GLX &
xvfb_pid=$!
for _ in $(seq 50); do xdpyinfo -display "$DISPLAY" >/dev/null 2>&1 && break; sleep 0.1; done
if [ -n "${VNC_PASSWORD:-}" ]; then
  x11vnc -storepasswd "$VNC_PASSWORD" "$HOME/.vncpass" >/dev/null
  vnc_auth="-rfbauth $HOME/.vncpass"
else
  vnc_auth="-nopw"
fi
# shellcheck disable=SC2086
x11vnc -display "$DISPLAY" -forever -shared -viewonly -noshm -rfbport 5900 $vnc_auth -quiet &
trap 'kill "$xvfb_pid" 2>/dev/null; kill 0' TERM INT
echo "start-emulator: X display $display_number, VNC on 5900, input-bot -> $INPUT_BOT_HOST:$INPUT_BOT_PORT"
mupen64plus --nosaveoptions --resolution 640x480 --windowed \
  --gfx "$GFX_PLUGIN" --audio dummy \
  --input /usr/local/lib/mupen64plus/mupen64plus-input-bot.so \
  --set "Input-Bot-Control0[plugged]=1" \
  --set "Input-Bot-Control0[host]=$INPUT_BOT_HOST" \
  --set "Input-Bot-Control0[port]=$INPUT_BOT_PORT" \
  "$ROM" &
emulator_pid=$!
wait "$emulator_pid"
