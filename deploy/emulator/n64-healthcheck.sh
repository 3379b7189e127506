#!/bin/sh
# Healthy when the X display answers and mupen64plus is running.
xdpyinfo -display "${DISPLAY:-:0}" >/dev/null 2>&1 || { echo "X display ${DISPLAY:-:0} not answering"; exit 1; }
pgrep -x mupen64plus >/dev/null || { echo "mupen64plus is not running"; exit 1; }
echo "ok"
