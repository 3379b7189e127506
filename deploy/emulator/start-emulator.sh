#!/bin/sh
# The n64 image's command: the emulator frontend (python -m tensorkart_emulator run) under xvfb-run,
# on a private X display (unix socket only, no TCP; nothing else mounts it). xvfb-run does not pass
# signals on, so SIGTERM/SIGINT go straight to the frontend (which stops the core and closes the ROM
# cleanly, then the feed); xvfb-run then stops Xvfb. Exits with the frontend's status (2: bad ROM,
# plugin or savestate, with one line naming it).
set -eu
pidfile=$(mktemp)
xvfb-run --auto-servernum --server-args="-screen 0 ${SCREEN:-640x480x24} -nolisten tcp -nolisten local" \
  run-frontend "$pidfile" &
runner=$!
stop_frontend() {
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; fi
}
trap stop_frontend TERM INT
status=0
wait "$runner" || status=$?
# A trapped signal ends the first wait early: wait on until the frontend has finished.
while kill -0 "$runner" 2>/dev/null; do
  status=0
  wait "$runner" || status=$?
done
rm -f "$pidfile"
exit "$status"
