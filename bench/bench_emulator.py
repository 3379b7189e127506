"""Emulator frontend speed: frames per second, lock-step vs free-run, on a private Xvfb.

lock-step:   Frontend.advance() N times (the machine held at every frame, speed limiter off), each
             frame read through M64CMD_READ_SCREEN at 640x480.
lock-step+controller: the same with one gRPC SetSteering to a real controller service before every
             frame (what the Gymnasium environment and the served feed do).
free-run:    the core at its own pace with the real-time speed limiter (what a human plays), and
             without it (as fast as it goes); every frame read in the frame callback.
original:    TensorKart's capture, measured in the same run: `mss` screenshots of the emulator's window
             as fast as they come while it runs in real time; how many show a new picture per second
             (the rest repeat one), against the frames the frontend reads in that time.
Only meaningful with a ROM that hands the RSP graphics tasks (TENSORKART_TEST_ROM, e.g. the
public-domain squaresdemo.n64); without one the keys are skipped. Each mode runs in its own process
(the core is process-global). Keys: emulator_lockstep_fps, emulator_lockstep_controller_fps,
emulator_freerun_fps, emulator_freerun_unlimited_fps, emulator_lockstep_vs_realtime,
emulator_screenshot_grabs_per_s, emulator_screenshot_new_frames_per_s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FRAMES = int(os.environ.get("BENCH_EMULATOR_FRAMES", "300"))
FREE_RUN_SECONDS = float(os.environ.get("BENCH_EMULATOR_SECONDS", "5"))


def child(mode: str, rom: str, controller: str | None) -> dict[str, float]:
    """One measurement in this process."""
    from tensorkart_emulator.frontend import Frontend, FrontendOptions

    options = FrontendOptions(rom=Path(rom), config_dir=Path(tempfile.mkdtemp(prefix="bench-emu-")))
    options.lockstep = mode.startswith("lockstep")
    options.speed_limiter = mode in ("freerun", "screenshot")
    frontend = Frontend(options)
    try:
        frontend.start()
        if options.lockstep:
            link = None
            if mode == "lockstep_controller":
                from tensorkart_core.proto.v1 import types_pb2
                from tensorkart_emulator.controller_link import ControllerLink

                link = ControllerLink(controller or "")
                joystick = types_pb2.Joystick(x=0.5, a=True)
            for _ in range(30):
                frontend.advance()
            started = time.perf_counter()
            for _ in range(FRAMES):
                if link is not None:
                    link.set(joystick, frontend.latest.index)
                frontend.advance()
            return {"fps": FRAMES / (time.perf_counter() - started), "duplicates": frontend.reader.duplicates}
        time.sleep(1.0)
        first = frontend.reader.count
        grabs = screenshots(FREE_RUN_SECONDS) if mode == "screenshot" else {}
        if not grabs:
            time.sleep(FREE_RUN_SECONDS)
        fps = (frontend.reader.count - first) / FREE_RUN_SECONDS
        return {"fps": fps, "duplicates": frontend.reader.duplicates, **grabs}
    finally:
        frontend.stop()


def screenshots(seconds: float) -> dict[str, float]:
    """The original capture: mss grabs of the emulator's 640x480 window (at the screen's top left)."""
    import hashlib

    import mss

    grabs, new, last = 0, 0, b""
    with mss.mss() as screen:
        region = {"left": 0, "top": 0, "width": 640, "height": 480}
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            digest = hashlib.blake2b(screen.grab(region).raw, digest_size=16).digest()
            grabs += 1
            new += digest != last
            last = digest
    return {"grabs_per_s": grabs / seconds, "new_per_s": new / seconds}


def _xvfb() -> tuple[subprocess.Popen, str]:
    read_fd, write_fd = os.pipe()
    binary = shutil.which("Xvfb") or "Xvfb"
    server = subprocess.Popen(
        [binary, "-displayfd", str(write_fd), "-screen", "0", "640x480x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        return server, ":" + pipe.readline().strip()


def _controller() -> tuple[subprocess.Popen, str]:
    """A controller service on ports it picks (the one launcher, bench/play_stack)."""
    from play_stack import start_controller

    controller = start_controller()
    return controller.process, controller.address("grpc")


def run() -> dict[str, float]:
    # The first of TENSORKART_TEST_ROM's ':'-separated paths is the ROM that renders (see tests/roms.py).
    rom = os.environ.get("TENSORKART_TEST_ROM", "").split(os.pathsep)[0]
    if not rom:
        print("bench emulator: TENSORKART_TEST_ROM is not set, keys skipped", file=sys.stderr)
        return {}
    xvfb, display = _xvfb()
    controller, address = _controller()
    try:
        env = {**os.environ, "DISPLAY": display, "SDL_AUDIODRIVER": "dummy"}
        measured = {}
        for mode in ("lockstep", "lockstep_controller", "freerun", "freerun_unlimited", "screenshot"):
            out = subprocess.run(
                [sys.executable, __file__, mode, rom, address], env=env, capture_output=True, text=True, check=True
            )
            measured[mode] = json.loads(out.stdout.splitlines()[-1])
            print(f"bench emulator {mode}: {measured[mode]}", file=sys.stderr)
    finally:
        controller.terminate()
        controller.wait(10)
        xvfb.terminate()
        xvfb.wait(10)
    return {
        "emulator_lockstep_fps": round(measured["lockstep"]["fps"], 1),
        "emulator_lockstep_controller_fps": round(measured["lockstep_controller"]["fps"], 1),
        "emulator_freerun_fps": round(measured["freerun"]["fps"], 1),
        "emulator_freerun_unlimited_fps": round(measured["freerun_unlimited"]["fps"], 1),
        "emulator_lockstep_vs_realtime": round(measured["lockstep"]["fps"] / measured["freerun"]["fps"], 2),
        "emulator_screenshot_grabs_per_s": round(measured["screenshot"]["grabs_per_s"], 1),
        "emulator_screenshot_new_frames_per_s": round(measured["screenshot"]["new_per_s"], 1),
    }


if __name__ == "__main__":
    if len(sys.argv) > 2:
        print(json.dumps(child(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)), flush=True)
    else:
        print(json.dumps(run()))
