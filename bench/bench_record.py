"""Record path benchmark: highest 640x480 frame rate recorded with zero dropped frames.

Frames: the practice track's own pictures (taken from its frame feed), shown in a window
under a private Xvfb display and grabbed from the screen by the capture service (mss),
streamed to a real recorder server process over gRPC, written as PNG + data.csv. Rates
are tried upward (30, 60, 90, ...); a rate passes when every captured frame is written
(nothing dropped) and capture kept up (>= 97% of the asked rate). Without Xvfb the frames
are fed from memory instead of the screen (said in the output).

For comparison, TensorKart's record.py approach: a 200 ms GUI timer that grabs the screen
and saves the PNG + csv row synchronously on the same thread (re-implemented here with
mss and Pillow, since wxPython is not installed), measured over the same frames.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from tensorkart_core.launcher import Launcher, ServiceSpec, grpc_ready, python_module

RATES = (30, 60, 90, 120, 150, 180, 240, 300)
SECONDS = 4.0
KEEP_UP = 0.97
ATTEMPTS = 2

DRAWER = r"""
import os, sys, time
os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
import numpy as np, pygame
frames = np.load(sys.argv[1])
pygame.display.init()
screen = pygame.display.set_mode((640, 480), pygame.NOFRAME)
print("drawn", flush=True)
i = 0
while True:
    pygame.surfarray.blit_array(screen, frames[i % len(frames)].transpose(1, 0, 2))
    pygame.display.flip()
    pygame.event.pump()
    i += 1
    time.sleep(1 / 30)
"""


def log(text: str) -> None:
    print(f"bench_record: {text}", file=sys.stderr, flush=True)


def sim_frames(count: int = 90) -> list[np.ndarray]:
    """`count` frames the practice track renders (expert driving), from its feed."""
    from tensorkart_capture.sources import open_source

    command = python_module("tensorkart_simulator", "run", "--headless", "--lockstep", "--driver", "expert")
    command += ["--track", "luigi", "--feed", "--wait-for-subscriber", "--max-seconds", str(count / 30 + 1)]
    env = {"SIMULATOR_METRICS_PORT": "0", "SIMULATOR_HOST": "127.0.0.1"}
    frames: list[np.ndarray] = []
    with Launcher(grace_seconds=15) as launcher:
        simulator = launcher.start_ready(ServiceSpec("simulator", command, env, ("grpc",)), log_path=Path(os.devnull))
        with open_source("sim", address=simulator.address("grpc")) as source:
            for frame in source:
                frames.append(frame.rgb.copy())
                if len(frames) >= count:
                    break
    return frames


class Xvfb:
    """A private X display showing `frames` in a 640x480 window at the top left, cycling at 30 Hz."""

    def __init__(self, frames: list[np.ndarray], workdir: Path) -> None:
        read_fd, write_fd = os.pipe()
        self.server = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            self.display = f":{pipe.readline().strip()}"
        path = workdir / "frames.npy"
        np.save(path, np.stack(frames))
        env = {**os.environ, "DISPLAY": self.display, "SDL_VIDEODRIVER": "x11", "SDL_VIDEO_WINDOW_POS": "0,0"}
        self.drawer = subprocess.Popen(
            [sys.executable, "-c", DRAWER, str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.drawer.stdout.readline()
        time.sleep(0.5)

    def close(self) -> None:
        self.drawer.kill()
        self.drawer.wait()
        self.server.terminate()
        self.server.wait(10)


def memory_source(frames: list[np.ndarray], rate_hz: float):
    """Fallback without Xvfb: the same frames from memory, paced like the screen source."""
    from tensorkart_capture.sources.base import CapturedFrame, FrameSource, Pacer

    class MemorySource(FrameSource):
        kind = "memory"

        def frames(self) -> Iterator[CapturedFrame]:
            pacer = Pacer(rate_hz)
            sequence = 0
            while True:
                pacer.wait()
                sequence += 1
                yield CapturedFrame(sequence, time.monotonic_ns(), frames[sequence % len(frames)])

    return MemorySource()


def record_at(rate: int, attempt: int, recorder: str, screen: bool, frames: list[np.ndarray]) -> dict[str, float]:
    from tensorkart_capture.recording import run_recording
    from tensorkart_capture.sources import open_source
    from tensorkart_capture.streamer import RecordingStreamer

    source = open_source("screen", region="640x480", rate_hz=rate) if screen else memory_source(frames, rate)
    name = f"bench-{rate}-{attempt}"
    streamer = RecordingStreamer(recorder, name, {"source": "bench"}, rate, contiguous=True).start()
    first: list[float] = []
    last: list[float] = []

    def stamp(_frame) -> None:
        now = time.monotonic()
        if not first:
            first.append(now)
        last[:] = [now]

    try:
        captured = run_recording(source, streamer, seconds=SECONDS, on_frame=stamp)
    finally:
        source.close()
    stats = streamer.close(60)
    if streamer.error:
        raise RuntimeError(streamer.error)
    achieved = (captured - 1) / (last[0] - first[0]) if captured > 1 else 0.0
    written = streamer.summary.frames_written if streamer.summary else 0
    return {"rate": rate, "captured": captured, "fps": achieved, "written": written, "dropped": stats.dropped}


def tensorkart_loop(screen: bool, frames: list[np.ndarray], outdir: Path, seconds: float = 3.0) -> float:
    """record.py's approach: every 200 ms (wx.Timer) grab the screen, then save PNG + csv row on that thread."""
    import mss

    outdir.mkdir(parents=True)
    grabber = mss.MSS() if screen else None
    period = 0.2
    count = 0
    started = time.monotonic()
    next_tick = started
    saved_at: list[float] = []
    with open(outdir / "data.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        while time.monotonic() - started < seconds:
            delay = next_tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            next_tick += period
            if grabber is not None:
                shot = grabber.grab({"left": 0, "top": 0, "width": 640, "height": 480})
                image = Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")
            else:
                image = Image.fromarray(frames[count % len(frames)])
            path = outdir / f"img_{count}.png"
            image.save(path)  # wx.Bitmap.SaveFile(PNG): default zlib level, same thread
            writer.writerow([str(path), 0.0, 0.0, 0, 0, 0])
            count += 1
            saved_at.append(time.monotonic())
    if grabber is not None:
        grabber.close()
    return (len(saved_at) - 1) / (saved_at[-1] - saved_at[0])


def run() -> dict[str, float]:

    workdir = Path(tempfile.mkdtemp(prefix="bench-record-"))
    data_root = workdir / "data"
    env = {
        "TENSORKART_DATA": str(data_root),
        "RECORDER_HOST": "127.0.0.1",
        "RECORDER_PORT": "0",
        "RECORDER_METRICS_PORT": "0",
        "TENSORKART_LOG_LEVEL": "WARNING",
    }
    launcher = Launcher(grace_seconds=30)
    recorder = launcher.start_ready(
        ServiceSpec("recorder", python_module("tensorkart_recorder"), env, ("grpc",), grpc_ready())
    )
    address = recorder.address("grpc")
    display: Xvfb | None = None
    previous_display = os.environ.get("DISPLAY")
    try:
        frames = sim_frames()
        screen = shutil.which("Xvfb") is not None
        if screen:
            display = Xvfb(frames, workdir)
            os.environ["DISPLAY"] = display.display
        log(f"{len(frames)} practice-track frames, source: {'screen (Xvfb, mss)' if screen else 'memory'}")
        best = 0
        for rate in RATES:
            ok = False
            for attempt in range(ATTEMPTS):  # the machine is shared: one noisy run does not decide
                result = record_at(rate, attempt, address, screen, frames)
                ok = result["dropped"] == 0 and result["written"] == result["captured"]
                ok = ok and result["fps"] >= KEEP_UP * rate
                log(json.dumps({**result, "fps": round(result["fps"], 1), "pass": ok}))
                if ok:
                    break
            if not ok:
                break
            best = rate
        original = tensorkart_loop(screen, frames, workdir / "tensorkart")
        log(f"TensorKart record.py approach (200 ms timer, synchronous save): {original:.2f} fps")
        return {"record_fps_no_drop": float(best), "tensorkart_record_fps": round(original, 2)}
    finally:
        if display is not None:
            display.close()
        if previous_display is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = previous_display
        launcher.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(run()))
