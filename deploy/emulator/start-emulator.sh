#!/bin/sh
# Start Xvfb (unix socket only: capture-n64 shares /tmp/.X11-unix as a volume), x11vnc on 5900,
# and mupen64plus with TensorKart's input plugin pointed at the controller. Exits when the
# emulator exits; SIGTERM stops the emulator (it closes the ROM cleanly) and Xvfb.
set -eu
if [ ! -r "$ROM" ]; then
  echo "start-emulator: ROM not found or not readable at $ROM (mount your ROM directory at /roms, set N64_ROM_FILE)" >&2
  exit 2
fi
# Full plugin paths: the ui-console would load any *.so in its working directory.
plugin_dir=$(dirname "$(ls /usr/lib/*/mupen64plus/mupen64plus-rsp-hle.so | head -n 1)")
case "$GFX_PLUGIN" in /*) gfx="$GFX_PLUGIN" ;; *) gfx="$plugin_dir/$GFX_PLUGIN" ;; esac
# A restarted container keeps the last run's lock file and socket: Xvfb would refuse to start.
display_number="${DISPLAY#:}"
rm -f "/tmp/.X$display_number-lock" "/tmp/.X11-unix/X$display_number"
Xvfb "$DISPLAY" -screen 0 "$SCREEN" -nolisten tcp -nolisten local +extension GLX &
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
echo "start-emulator: X display $DISPLAY (unix socket only), VNC on 5900, input-bot -> $INPUT_BOT_HOST:$INPUT_BOT_PORT (timeout ${INPUT_BOT_TIMEOUT_MS} ms)"
mupen64plus --nosaveoptions --resolution 640x480 --windowed \
  --gfx "$gfx" --audio dummy --rsp "$plugin_dir/mupen64plus-rsp-hle.so" \
  --input "$INPUT_PLUGIN" \
  --set "Input-Bot-Control0[plugged]=1" \
  --set "Input-Bot-Control0[host]=$INPUT_BOT_HOST" \
  --set "Input-Bot-Control0[port]=$INPUT_BOT_PORT" \
  --set "Input-Bot-Control0[timeout_ms]=$INPUT_BOT_TIMEOUT_MS" \
  "$ROM" &
emulator_pid=$!
trap 'kill "$emulator_pid" 2>/dev/null; wait "$emulator_pid"; kill "$xvfb_pid" 2>/dev/null; kill 0' TERM INT
wait "$emulator_pid"
