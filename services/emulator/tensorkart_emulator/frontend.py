"""The emulator frontend: a ROM running in the core on its own thread, every frame read in the frame
callback, lock-step by frame advance or free-run, and savestates.

Lock-step: the frame callback holds the emulation thread right where the core counted the frame,
until `advance()` lets it run to the next one. The machine then stands still at an exact point of
emulated time, so the action applied, RAM read and savestate job queued meanwhile land at the same
point on every run. (M64CMD_PAUSE / ADVANCE_FRAME pause only at the next vertical interrupt, with the
CPU still running past the frame, and wake from a 10 ms polling loop: RAM read and savestates queued
then land at a different moment from run to run; measured, see docs/emulator.md.)
Free-run: the core runs at its own pace and every frame goes to `on_frame`.
"""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tensorkart_emulator import m64p
from tensorkart_emulator.core import ConfigValue, Core
from tensorkart_emulator.errors import EmulatorError, ErrorKind
from tensorkart_emulator.frames import EmuFrame, FrameReader
from tensorkart_emulator.plugins import ATTACH_ORDER, DEFAULT_PLUGINS, Plugin, load_plugin
from tensorkart_emulator.rom import RomImage, read_rom
from tensorkart_emulator.savestate import check_savestate, wait_written

log = logging.getLogger(__name__)
FIRST_FRAME_TIMEOUT_S = 20.0
FRAME_TIMEOUT_S = 10.0
SAVESTATE_TIMEOUT_S = 10.0


@dataclasses.dataclass
class FrontendOptions:
    rom: Path | None
    config_dir: Path
    plugins: dict[m64p.PluginType, Path | None] = dataclasses.field(default_factory=lambda: dict(DEFAULT_PLUGINS))
    lockstep: bool = True
    width: int = 640
    height: int = 480
    # Extra config values, section -> name -> value (e.g. Input-Bot-Control0[port] for our plugin).
    config: dict[str, dict[str, ConfigValue]] = dataclasses.field(default_factory=dict)
    core_library: Path | None = None
    # The core's real-time speed limiter; None: on in free-run (a human plays), off in lock-step.
    speed_limiter: bool | None = None

    def __post_init__(self) -> None:
        # No audio plugin means the core's dummy audio (ui-console's --audio dummy).
        self.plugins.pop(m64p.PluginType.AUDIO, None)


class Frontend:
    """One ROM in one core; `start()` opens it and runs until the first frame, `stop()` ends it."""

    def __init__(self, options: FrontendOptions, on_frame: Callable[[EmuFrame], None] | None = None) -> None:
        self.options = options
        self.on_frame = on_frame
        self.core: Core | None = None
        self.rom: RomImage | None = None
        self.plugins: list[Plugin] = []
        self.reader: FrameReader | None = None
        self._cond = threading.Condition()
        self._latest: EmuFrame | None = None
        self._lockstep = options.lockstep
        self._held: int | None = None  # index of the frame the emulation thread is held at
        self._released = -1  # the last held frame that advance() let go
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._frame_callback = m64p.FrameCallback(self._on_frame)
        self.callback_error: BaseException | None = None

    # --- start / stop ------------------------------------------------------------------------
    def start(self) -> EmuFrame:
        """Open the ROM, attach the plugins, run; returns the first frame (paused after it in lock-step)."""
        self.rom = rom = read_rom(self.options.rom)
        loaded = [load_plugin(kind, path) for kind, path in self.options.plugins.items() if path is not None]
        self.core = core = Core(self.options.config_dir, library=self.options.core_library)
        self._configure(core)
        for plugin in loaded:
            core.start_plugin(plugin)
            self.plugins.append(plugin)
        core.open_rom(rom)
        by_kind = {plugin.kind: plugin for plugin in loaded}
        for kind in ATTACH_ORDER:
            if kind in by_kind:
                core.attach(by_kind[kind])
        log.info("ROM %s (%s, %s order) opened", rom.path, rom.name, rom.byte_order)
        self.reader = FrameReader(core)
        core.command(m64p.Command.SET_FRAME_CALLBACK, 0, ctypes.cast(self._frame_callback, ctypes.c_void_p))
        self._thread = threading.Thread(target=self._execute, name="mupen64plus", daemon=True)
        self._thread.start()
        first = self.wait_frame(-1, FIRST_FRAME_TIMEOUT_S)
        if first is None:
            raise EmulatorError(
                ErrorKind.NO_FRAME,
                f"ROM {rom.path}: no frame within {FIRST_FRAME_TIMEOUT_S:.0f}s (the core counts a frame when the game "
                "hands the RSP a graphics task; a ROM that draws only from the CPU never does)",
            )
        limiter = self.options.speed_limiter
        self.core.set_state(m64p.CoreParam.SPEED_LIMITER, int(not self._lockstep if limiter is None else limiter))
        return first

    def _configure(self, core: Core) -> None:
        saves = self.options.config_dir / "save"
        defaults: dict[str, dict[str, ConfigValue]] = {
            "Core": {
                "OnScreenDisplay": False,
                # Same interrupt timing every run, so a savestate replays bit for bit.
                "RandomizeInterrupt": False,
                "SaveStatePath": str(saves),
                "SaveSRAMPath": str(saves),
            },
            "Video-General": {
                "Fullscreen": False,
                "ScreenWidth": self.options.width,
                "ScreenHeight": self.options.height,
            },
        }
        for section, values in (defaults | self.options.config).items():
            for name, value in values.items():
                core.set_config(section, name, value)

    def _execute(self) -> None:
        assert self.core is not None
        try:
            self.core.command(m64p.Command.EXECUTE)
        except EmulatorError as error:
            self.callback_error = error
            log.error("emulation ended: %s", error)
        with self._cond:
            self._cond.notify_all()

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Stop the emulation and shut the core and plugins down."""
        if self.core is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self.running():
            self.core.lib.CoreDoCommand(m64p.Command.STOP, 0, None)
            assert self._thread is not None
            self._thread.join(15)
        self.core.shutdown()
        for plugin in self.plugins:
            plugin.shutdown()
        self.core = None

    # --- frames ----------------------------------------------------------------------------------
    def _on_frame(self, index: int) -> None:
        # Runs on the emulation thread, with the video plugin's GL context current.
        try:
            assert self.reader is not None
            frame = self.reader.read(index)
            with self._cond:
                self._latest = frame
                self._cond.notify_all()
            if self.on_frame is not None:
                self.on_frame(frame)
            with self._cond:
                # Lock-step: the emulated machine stands still right here until advance() (or stop).
                while self._lockstep and not self._stopping and self._released < index:
                    self._held = index
                    self._cond.notify_all()
                    self._cond.wait()
                self._held = None
        except BaseException as error:  # an exception must not unwind into C
            self.callback_error = error
            log.exception("frame callback failed")

    @property
    def latest(self) -> EmuFrame | None:
        return self._latest

    def wait_frame(self, after: int, timeout: float = FRAME_TIMEOUT_S) -> EmuFrame | None:
        """The latest frame once its index is greater than `after` (None on timeout or if the core stopped)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._latest is None or self._latest.index <= after:
                left = deadline - time.monotonic()
                if left <= 0 or not self.running():
                    return None
                self._cond.wait(min(left, 0.5))
            return self._latest

    # --- lock-step -------------------------------------------------------------------------------
    @property
    def lockstep(self) -> bool:
        return self._lockstep

    def set_lockstep(self, on: bool) -> None:
        """Lock-step holds the machine after the next frame; free-run lets it go on."""
        with self._cond:
            self._lockstep = on
            self._cond.notify_all()

    def _wait_held(self) -> int:
        """Wait until the emulation thread stands in the frame callback; returns that frame's index."""
        deadline = time.monotonic() + FRAME_TIMEOUT_S
        with self._cond:
            while self._held is None:
                left = deadline - time.monotonic()
                if left <= 0 or not self.running():
                    raise EmulatorError(
                        ErrorKind.NO_FRAME, f"the emulator did not stop at a frame within {FRAME_TIMEOUT_S:.0f}s"
                    )
                self._cond.wait(min(left, 0.5))
            return self._held

    def _release(self) -> int:
        """Let the held machine run on to its next frame; returns the index it was held at."""
        held = self._wait_held()
        with self._cond:
            self._released = held
            self._cond.notify_all()
        return held

    def advance(self) -> EmuFrame:
        """Run exactly to the next frame and return it (lock-step only)."""
        if not self._lockstep:
            raise EmulatorError(ErrorKind.CORE_CALL, "advance() needs lock-step mode")
        held = self._release()
        frame = self.wait_frame(held)
        if frame is None:
            raise EmulatorError(ErrorKind.NO_FRAME, f"no frame after frame {held} within {FRAME_TIMEOUT_S:.0f}s")
        return frame

    # --- savestates ----------------------------------------------------------------------------
    def save_state(self, path: str | Path) -> Path:
        """Save the machine state to `path` (m64p format); returns the path once the core wrote it."""
        assert self.core is not None
        target = Path(path).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        mark = self.core.state_mark(m64p.CoreParam.STATE_SAVECOMPLETE)
        self.core.command(m64p.Command.STATE_SAVE, m64p.SavestateFormat.M64P, ctypes.c_char_p(str(target).encode()))
        ok = self._finish_job(m64p.CoreParam.STATE_SAVECOMPLETE, mark)
        # The core reports completion when it has queued the file for writing; wait for the whole file.
        if not ok or not wait_written(target, SAVESTATE_TIMEOUT_S):
            raise EmulatorError(ErrorKind.BAD_SAVESTATE, f"savestate {target}: the core could not write it")
        return target

    def load_state(self, path: str | Path) -> EmuFrame | None:
        """Load a savestate; in lock-step returns the first frame after it (the core loads between frames)."""
        assert self.core is not None
        source = check_savestate(path)
        mark = self.core.state_mark(m64p.CoreParam.STATE_LOADCOMPLETE)
        self.core.errors.clear()
        before = self._latest.index if self._latest else -1
        self.core.command(m64p.Command.STATE_LOAD, 0, ctypes.c_char_p(str(source.resolve()).encode()))
        if not self._finish_job(m64p.CoreParam.STATE_LOADCOMPLETE, mark):
            said = f" ({self.core.errors[-1]})" if self.core.errors else ""
            raise EmulatorError(ErrorKind.BAD_SAVESTATE, f"savestate {source}: the core refused it{said}")
        if self._lockstep:
            return self.wait_frame(before)
        return None

    def _finish_job(self, param: m64p.CoreParam, mark: int) -> bool:
        """Let the core run the queued savestate job (it runs between instructions) and wait for its result."""
        assert self.core is not None
        if self._lockstep:
            # The core runs the job at its next interrupt, a fixed point after the held frame.
            self._release()
        value = self.core.wait_state(param, mark, SAVESTATE_TIMEOUT_S)
        return bool(value)
