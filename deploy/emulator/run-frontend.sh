#!/bin/sh
# Runs inside xvfb-run (DISPLAY and XAUTHORITY set): records the frontend's pid in $1 for
# start-emulator, starts x11vnc view-only on 5900 when VNC=1 (password when VNC_PASSWORD is set),
# then becomes the frontend.
set -eu
echo "$$" > "$1"
if [ "${VNC:-0}" = 1 ]; then
  if [ -n "${VNC_PASSWORD:-}" ]; then
    x11vnc -storepasswd "$VNC_PASSWORD" "$HOME/.vncpass" >/dev/null
    auth="-rfbauth $HOME/.vncpass"
  else
    auth="-nopw"
  fi
  # shellcheck disable=SC2086
  x11vnc -display "$DISPLAY" -forever -shared -viewonly -noshm -rfbport "${VNC_PORT:-5900}" $auth -quiet \
    >/dev/null 2>&1 &
  echo "run-frontend: VNC (view-only) on ${VNC_PORT:-5900}, display $DISPLAY"
fi
exec python -m tensorkart_emulator run
