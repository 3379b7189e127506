"""With a test ROM (TENSORKART_TEST_ROM, never committed): Debian's mupen64plus ui-console, a
Debian video plugin under Xvfb, our plugin polling the real controller, and the game's own
view of the pad read back from RDRAM through the ui-console's debugger (--debug --emumode 1).

Made for PeterLemon/N64's Input/CPU/InputCPU.N64 (freely distributable homebrew): it reads
controller 1 every frame and keeps the PIF's raw reply in RDRAM at 0x800011B0: the command
bytes ff010401, then buttons (16 bits), stick x, stick y (signed bytes) at 0x800011B4.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
import time
from pathlib import Path

from tests.helpers import xvfb_server
from tests.input_plugin.support import PLUGIN
from tests.roms import rom_titled

PLUGINS = Path("/usr/lib/x86_64-linux-gnu/mupen64plus")
UI_CONSOLE = "/usr/games/mupen64plus"
PAD_WORD = "800011b4"
# PIF button bits (N64 controller status word).
PIF_BITS = {
    "A_BUTTON": 0x8000,
    "B_BUTTON": 0x4000,
    "Z_TRIG": 0x2000,
    "START_BUTTON": 0x1000,
    "U_DPAD": 0x0800,
    "D_DPAD": 0x0400,
    "L_DPAD": 0x0200,
    "R_DPAD": 0x0100,
    "L_TRIG": 0x0020,
    "R_TRIG": 0x0010,
    "U_CBUTTON": 0x0008,
    "D_CBUTTON": 0x0004,
    "L_CBUTTON": 0x0002,
    "R_CBUTTON": 0x0001,
}

# PeterLemon/N64's Input/CPU/InputCPU.N64: reads controller 1 every frame, keeps the reply in RDRAM.
ROM_TITLE = "CPU INPUT TEST 32BPP"


def pif_word(pad: dict[str, int]) -> int:
    """The controller's JSON pad as the PIF reply word the game reads."""
    buttons = sum(bit for key, bit in PIF_BITS.items() if pad.get(key))
    return buttons << 16 | (pad["X_AXIS"] & 0xFF) << 8 | (pad["Y_AXIS"] & 0xFF)


def decode(word: int) -> tuple[int, int, int]:
    """(buttons, x, y) from the game's word: x and y are signed bytes."""
    signed = lambda byte: byte - 256 if byte > 127 else byte  # noqa: E731
    return word >> 16, signed(word >> 8 & 0xFF), signed(word & 0xFF)


class Debugger:
    """The ui-console's console debugger on stdin/stdout."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line)
        self._queue.put(None)

    def expect(self, pattern: str, timeout: float = 60.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                raise AssertionError("mupen64plus exited:\n" + "\n".join(self.lines[-60:]))
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"mupen64plus never printed {pattern!r}:\n" + "\n".join(self.lines[-60:]))

    def command(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def read_word(self, address: str) -> int:
        self.command(f"mem {address}")
        return int(self.expect(r"([0-9a-f]{8})\s*$", timeout=10).group(1), 16)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.command("quit")
                self.process.wait(15)
            except (OSError, subprocess.TimeoutExpired):
                self.process.terminate()
                try:
                    self.process.wait(10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()


class SteeringStream:
    """Steering into the controller at 30 Hz (as during play), until stopped."""

    def __init__(self, controller) -> None:
        self.controller = controller
        self.x = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        frame = 0
        while not self._stop.wait(1 / 30):
            frame += 1
            self.controller.set(self.x, 0.0, port=0, frame=frame)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def test_rom_receives_what_the_controller_serves(start_controller, tmp_path, plugin_path):
    controller = start_controller(safety_timeout_ms="300")
    rom = rom_titled(ROM_TITLE, "PeterLemon/N64 Input/CPU/InputCPU.N64").resolve()
    args = [
        "stdbuf",  # the debugger's prompts and answers are stdio: line-buffer them on our pipe
        "-oL",
        UI_CONSOLE,
        "--nosaveoptions",
        "--configdir",
        str(tmp_path),
        "--datadir",
        "/usr/share/games/mupen64plus",
        "--debug",
        "--emumode",
        "1",
        "--windowed",
        "--resolution",
        "640x480",
        "--audio",
        "dummy",
        # Full paths for every plugin: the ui-console loads any *.so in its working directory.
        "--gfx",
        str(PLUGINS / "mupen64plus-video-rice.so"),
        "--rsp",
        str(PLUGINS / "mupen64plus-rsp-hle.so"),
        "--input",
        str(PLUGIN),
        "--set",
        "Input-Bot-Control0[plugged]=1",
        "--set",
        "Input-Bot-Control0[host]=127.0.0.1",
        "--set",
        f"Input-Bot-Control0[port]={controller.http_port}",
        str(rom),
    ]
    received: dict[str, tuple[int, int, int]] = {}
    with xvfb_server() as display:
        emulator = Debugger(args, {**os.environ, "DISPLAY": display}, cwd=tmp_path)
        stream = SteeringStream(controller)
        try:
            emulator.expect(r"PC at 0x")  # the debugger holds the emulator before the first instruction
            for name, x in (("hard-left", -1.0), ("half-right", 0.5), ("silence", None)):
                if x is None:
                    stream.stop()  # no steering: the controller falls back to neutral
                    time.sleep(1.0)
                else:
                    stream.x = x
                    time.sleep(0.2)
                served = pif_word(controller.poll(0))
                emulator.command("run")
                time.sleep(2.0)  # about 120 frames: the ROM polls the pad on every one
                emulator.command("pause")
                emulator.expect(r"PC at 0x")
                word = emulator.read_word(PAD_WORD)
                received[name] = decode(word)
                assert word == served, (name, hex(word), hex(served))
        finally:
            stream.stop()
            emulator.stop()
    print("ROM received (buttons, x, y):", received)
    assert received["hard-left"] == (0x8000, -80, 0)  # A held while model steering is fresh
    assert received["half-right"] == (0x8000, 40, 0)
    assert received["silence"] == (0, 0, 0)
    log = "\n".join(emulator.lines)
    assert "incompatible Input plugin" not in log
    assert "using Input plugin: 'TensorKart input-bot plugin (tensorkart-input)'" in log
