"""Screen capture of a real window under Xvfb: a pygame window draws known pixels, mss grabs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from tensorkart_capture.sources import open_source
from tensorkart_capture.sources.screen import Region
from tensorkart_core.dataset import read_rows
from tests.helpers import xvfb_server

DRAWER = r"""
import os, sys, time
os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
import numpy as np, pygame
pygame.display.init()
screen = pygame.display.set_mode((640, 480), pygame.NOFRAME)
y, x = np.mgrid[0:480, 0:640]
rgb = np.stack([x * 255 // 639, y * 255 // 479, (x // 40 + y // 40) % 2 * 200], axis=-1).astype(np.uint8)
pygame.surfarray.blit_array(screen, rgb.transpose(1, 0, 2))
pygame.display.flip()
print("drawn", flush=True)
while True:
    pygame.event.pump()
    pygame.display.flip()
    time.sleep(0.05)
"""


def expected_picture() -> np.ndarray:
    y, x = np.mgrid[0:480, 0:640]
    return np.stack([x * 255 // 639, y * 255 // 479, (x // 40 + y // 40) % 2 * 200], axis=-1).astype(np.uint8)


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    with xvfb_server("800x600x24") as display:
        yield display


@pytest.fixture
def window(xvfb_display: str) -> Iterator[str]:
    env = {**os.environ, "DISPLAY": xvfb_display, "SDL_VIDEODRIVER": "x11", "SDL_VIDEO_WINDOW_POS": "0,0"}
    drawer = subprocess.Popen(
        [sys.executable, "-c", DRAWER], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    line = drawer.stdout.readline()
    if line.strip() != "drawn":
        drawer.kill()
        pytest.fail(f"the pygame window did not start: {drawer.stderr.read()}")
    yield xvfb_display
    drawer.kill()  # SDL turns SIGTERM into a QUIT event this loop ignores
    drawer.wait(10)


def test_screen_source_grabs_the_window_pixels_exactly(window, monkeypatch):
    monkeypatch.setenv("DISPLAY", window)
    expected = expected_picture()
    with open_source("screen", region="640x480", monitor=1, rate_hz=0) as source:
        frames = iter(source)
        # The window maps asynchronously; wait (bounded) until its picture is on screen.
        deadline = time.monotonic() + 30
        frame = next(frames)
        while not np.array_equal(frame.rgb, expected) and time.monotonic() < deadline:
            time.sleep(0.05)
            frame = next(frames)
        assert frame.rgb.shape == (480, 640, 3) and frame.rgb.dtype == np.uint8
        assert np.array_equal(frame.rgb, expected)
        following = next(frames)
        assert following.sequence == frame.sequence + 1
        assert following.capture_time_ns > frame.capture_time_ns
        assert following.joystick is None


def test_screen_region_offsets_and_bounds(window, monkeypatch):
    monkeypatch.setenv("DISPLAY", window)
    expected = expected_picture()
    with open_source("screen", region="100,50,200x100", rate_hz=0) as source:
        deadline = time.monotonic() + 30
        frame = next(iter(source))
        while not np.array_equal(frame.rgb, expected[50:150, 100:300]) and time.monotonic() < deadline:
            frame = next(iter(source))
        assert np.array_equal(frame.rgb, expected[50:150, 100:300])
    with pytest.raises(ValueError, match="does not fit"):
        open_source("screen", region=Region(700, 0, 640, 480))
    with pytest.raises(ValueError, match="monitor 5 does not exist"):
        open_source("screen", monitor=5)
    with pytest.raises(ValueError, match="WIDTHxHEIGHT"):
        Region.parse("big")


def test_screen_recording_end_to_end(window, start_service, data_root):
    from tests.recorder.support import start_recorder

    recorder = start_recorder(start_service, data_root)
    command = [sys.executable, "-m", "tensorkart_capture", "record", "--source", "screen", "--pad", "none"]
    command += ["--frames", "10", "--rate", "30", "--name", "screen-run", "--recorder", recorder.address, "--quiet"]
    done = subprocess.run(
        command,
        env={**os.environ, "DISPLAY": window},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    totals = json.loads(done.stdout.strip().splitlines()[-1])
    assert totals["frames_written"] == 10 and totals["frames_dropped"] == 0
    rows, _ = read_rows(data_root / "samples" / "screen-run" / "data.csv")
    assert len(rows) == 10 and all(r.x == 0 and r.a == 0 for r in rows)
    last = np.asarray(Image.open(data_root / rows[-1].image))
    assert np.array_equal(last, expected_picture())
    info = json.loads((data_root / "samples" / "screen-run" / "session.json").read_text())
    assert (
        info["source"] == "screen" and info["resolution"] == "640x480" and info["metadata"]["region"] == "0,0,640x480"
    )
