"""Window mode under a real X server (Xvfb): the pixels on screen are exactly the rendered frame."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import numpy as np
import pytest

from tensorkart_simulator.options import SimOptions
from tensorkart_simulator.runner import Run
from tests.helpers import xvfb_server

ARGS = ["--track", "twists", "--laps", "0", "--max-seconds", "1", "--seed", "4", "--lockstep"]


@pytest.fixture
def xvfb() -> Iterator[str]:
    """A private Xvfb, 640x480x24."""
    with xvfb_server("640x480x24") as display:
        yield display


def expected_last_frame() -> np.ndarray:
    """The same run headless, in this process: its last frame."""
    last: dict[str, np.ndarray] = {}

    def keep(_frame: int, rgb: np.ndarray) -> None:
        last["rgb"] = rgb

    options = SimOptions(track="twists", laps=0, max_seconds=1.0, seed=4, headless=True, realtime=False)
    Run(options, on_frame=keep).execute()
    return last["rgb"]


def grab(display: str) -> np.ndarray:
    import mss

    with mss.MSS(display=display) as screen:
        shot = screen.grab({"left": 0, "top": 0, "width": 640, "height": 480})
        return np.asarray(shot)[:, :, 2::-1].copy()  # BGRA -> RGB


def test_window_pixels_grabbed_with_mss_equal_the_rendered_frame(xvfb: str) -> None:
    expected = expected_last_frame()
    env = {**os.environ, "DISPLAY": xvfb, "SDL_VIDEODRIVER": "x11", "SDL_VIDEO_WINDOW_POS": "0,0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tensorkart_simulator", "run", "--window", *ARGS, "--report", "--linger", "120"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline()  # the report: the run is over, the last frame is on screen
        assert line.startswith("{"), f"no report line (exit {process.poll()}): {line!r}"
        # The X server may still be drawing the last flip; wait (bounded) until the screen settles.
        deadline = time.monotonic() + 20
        while True:
            pixels = grab(xvfb)
            if np.array_equal(pixels, expected) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        differ = np.count_nonzero(np.any(pixels != expected, axis=2))
        assert differ == 0, f"{differ} pixels differ between screen and rendered frame"
        assert hashlib.sha256(pixels.tobytes()).hexdigest() == hashlib.sha256(expected.tobytes()).hexdigest()
    finally:
        process.send_signal(signal.SIGTERM)
        status = process.wait(30)
        process.stdout.close()
    assert status == 0
