"""Making a savestate while a human plays: the ROM runs free (in a window, or under Xvfb), and the state
is saved when the user presses Enter, on SIGUSR1, or at a given frame (scripted, reproducible)."""

from __future__ import annotations

import logging
import select
import signal
import sys
import threading
from pathlib import Path

from tensorkart_emulator.frontend import Frontend, FrontendOptions

log = logging.getLogger(__name__)


def save_state_while_playing(
    options: FrontendOptions, out: Path, at_frame: int | None = None, start_state: Path | None = None
) -> tuple[Path, int]:
    """Run until Enter / SIGUSR1 / frame `at_frame`, save the state to `out`; returns (path, frame index)."""
    options.lockstep = at_frame is not None  # a scripted save stops at an exact frame
    frontend = Frontend(options)
    now = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGUSR1, lambda _s, _f: now.set())
    try:
        frame = frontend.start()
        if start_state is not None:
            frame = frontend.load_state(start_state) or frame
        if at_frame is not None:
            while frame.index < at_frame:
                frame = frontend.advance()
        else:
            print("playing: press Enter (or send SIGUSR1) to save the state here", file=sys.stderr, flush=True)
            while not now.is_set() and frontend.running():
                if sys.stdin.isatty() and select.select([sys.stdin], [], [], 0.2)[0]:
                    sys.stdin.readline()
                    break
                now.wait(0.2)
            frontend.set_lockstep(True)
            frame = frontend.wait_frame(frontend.latest.index if frontend.latest else -1) or frame
        path = frontend.save_state(out)
        return path, frame.index
    finally:
        frontend.stop()
        if previous is not None:
            signal.signal(signal.SIGUSR1, previous)
