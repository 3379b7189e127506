"""One emulator run served as a frame feed: the ROM in the frontend, every frame on
tensorkart.v1.Simulator/StreamFrames, the pad served by the controller, game state from RAM.

Lock-step: frame N is published (and taken by every subscriber), then the frontend waits until the
controller holds the answer to frame N+1-k (k = answer_delay) before letting the emulator run to
frame N+1, so the answer to frame N drives frame N+k, every time. Free-run: frames are published as
the emulator renders them in real time.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from tensorkart_core.frame_feed import FeedServicer, FrameFeed
from tensorkart_core.grpc_server import Servicer, start_server
from tensorkart_core.images import encode_frame
from tensorkart_core.inputbot import STICK_RANGE
from tensorkart_core.proto.v1 import simulator_pb2, simulator_pb2_grpc, types_pb2
from tensorkart_emulator import m64p, metrics
from tensorkart_emulator.controller_link import ControllerLink
from tensorkart_emulator.frames import EmuFrame
from tensorkart_emulator.frontend import Frontend, FrontendOptions
from tensorkart_emulator.race import REQUIRED, RaceTracker
from tensorkart_emulator.ram import GameTable, RamReader, check_table_fits, load_game_table
from tensorkart_emulator.savestate import check_savestate
from tensorkart_emulator.settings import EmulatorSettings

log = logging.getLogger(__name__)


def frontend_options(settings: EmulatorSettings) -> FrontendOptions:
    plugins: dict[m64p.PluginType, Path | None] = {
        m64p.PluginType.GFX: settings.video_plugin,
        m64p.PluginType.RSP: settings.rsp_plugin,
        m64p.PluginType.INPUT: settings.input_plugin,
    }
    # tensorkart-input (and stock input-bot) read these; other input plugins ignore them.
    pad = {
        "host": settings.input_bot_host,
        "port": settings.input_bot_port,
        "timeout_ms": settings.input_bot_timeout_ms,
        "plugged": True,
    }
    return FrontendOptions(
        rom=settings.rom,
        config_dir=settings.config_dir,
        plugins=plugins,
        lockstep=settings.lockstep,
        width=settings.width,
        height=settings.height,
        config={"Input-Bot-Control0": pad},
    )


def joystick_of(state: types_pb2.ControllerState) -> types_pb2.Joystick:
    """The controller's pad state in TensorKart's normalised convention (y negative = up)."""
    return types_pb2.Joystick(
        x=state.x_axis / STICK_RANGE,
        y=-state.y_axis / STICK_RANGE,
        a=state.a_button,
        b=state.b_button,
        rb=state.r_trig,
        start=state.start_button,
        z=state.z_trig,
    )


class EmulatorRun:
    """Serves one emulator run until `stop` is set or max_frames frames were served; `execute()` reports."""

    def __init__(self, settings: EmulatorSettings, stop: threading.Event) -> None:
        self.settings = settings
        self.stop = stop
        self.table: GameTable | None = load_game_table(settings.game) if settings.game else None
        self.feed = FrameFeed(settings.lockstep, on_drop=metrics.FEED_DROPPED.inc)
        self.frontend = Frontend(frontend_options(settings))
        self.link: ControllerLink | None = None
        self.ram: RamReader | None = None
        self.first_index = 0
        self.served = 0
        self.started = time.monotonic()
        self.race: RaceTracker | None = None
        if self.table is not None and all(name in self.table.addresses for name in REQUIRED):
            self.race = RaceTracker(self.table.frames_per_second, settings.laps, settings.max_seconds)

    def message(self, frame: EmuFrame, finished: bool = False) -> simulator_pb2.SimFrame:
        elapsed = frame.index - self.first_index
        fps = self.table.frames_per_second if self.table else 60.0
        laps, progress = 0, 0.0
        if self.ram is not None:
            values = self.ram.snapshot()
            laps = max(0, int(values.get("lap", 0)))
            progress = float(values.get("course_progress", 0.0))
            if self.race is not None:
                self.race.update(frame.index, values)
        joystick = joystick_of(self.link.state()) if self.link else types_pb2.Joystick()
        return simulator_pb2.SimFrame(
            frame=encode_frame(frame.rgb, sequence=frame.index, capture_time_ns=frame.time_ns, game_frame=frame.index),
            joystick=joystick,
            laps=laps,
            sim_seconds=elapsed / fps,
            finished=finished,
            progress=progress,
        )

    def _done(self) -> bool:
        limit = self.settings.max_frames
        if self.race is not None and self.race.done():
            return True
        if self.race is None and self.settings.max_seconds is not None:
            fps = self.table.frames_per_second if self.table else 60.0
            if self.served / fps >= self.settings.max_seconds:
                return True
        return self.stop.is_set() or (limit > 0 and self.served >= limit) or not self.frontend.running()

    def execute(self) -> dict[str, Any]:
        running = None
        try:
            # ROM, plugins, savestate and controller first: a bad one ends the run before anything is served.
            if self.settings.state:
                check_savestate(self.settings.state)
            if self.settings.controller_addr:
                self.link = ControllerLink(self.settings.controller_addr)
            frame = self.frontend.start()
            if self.settings.state:
                frame = self.frontend.load_state(self.settings.state) or frame
            if self.table is not None:
                check_table_fits(self.table, self.frontend.rom.name)
                self.ram = RamReader(self.frontend.core.rdram(), self.table)
            self.first_index = frame.index
            servicer = Servicer(
                simulator_pb2_grpc.add_SimulatorServicer_to_server, FeedServicer(self.feed), "tensorkart.v1.Simulator"
            )
            running = start_server(self.settings, [servicer])
            log.info("emulator feed on :%d (metrics :%d)", running.port, running.metrics_port)
            self.started = time.monotonic()
            frame = self._lockstep(frame) if self.settings.lockstep else self._free_run()
            if frame is not None:
                # The end of the run: totals only, no picture (consumers skip frameless messages).
                final = self.message(frame, finished=True)
                final.ClearField("frame")
                self.feed.publish(final, self.stop)
            return self.report()
        finally:
            self.feed.close()
            self.frontend.stop()
            if running is not None:
                running.stop()
            if self.link:
                self.link.close()

    def _lockstep(self, frame: EmuFrame) -> EmuFrame:
        if not self.feed.wait_for_subscriber(self.stop):
            return frame
        k = self.settings.answer_delay
        while True:
            self.feed.publish(self.message(frame), self.stop)
            self.served += 1
            if self._done():
                return frame
            # Steering echoes the sequence the edge gave the frame: its position in this stream (1 = the
            # first frame served), not the core's counter. Frame `served` + 1 takes the answer to `served` + 1 - k.
            wanted = self.served + 1 - k
            timeout = self.settings.answer_timeout_ms / 1000
            if self.link is not None and wanted >= 1 and self.link.wait_answer(wanted, timeout) is None:
                metrics.LATE_ANSWERS.inc()
            frame = self.frontend.advance()

    def _free_run(self) -> EmuFrame | None:
        published = threading.Event()

        def publish(frame: EmuFrame) -> None:
            self.feed.publish(self.message(frame), self.stop)
            self.served += 1
            if self._done():
                published.set()

        self.frontend.on_frame = publish
        while not published.wait(0.2) and not self._done():
            pass
        self.frontend.on_frame = None
        return self.frontend.latest

    def report(self) -> dict[str, Any]:
        reader = self.frontend.reader
        wall = max(time.monotonic() - self.started, 1e-9)
        label = {"model": self.settings.label_model} if self.settings.label_model else {}
        race = self.race.report() if self.race is not None else {}
        return {
            "track": Path(self.settings.state).stem if self.settings.state else Path(str(self.settings.rom)).stem,
            **label,
            **race,
            "fps": round(self.served / wall, 1),
            "rom": str(self.settings.rom),
            "frames": self.served,
            "duplicates": reader.duplicates if reader else 0,
            "blank": reader.blanks if reader else 0,
            "gaps": reader.gaps if reader else 0,
            "lockstep": self.settings.lockstep,
        }
