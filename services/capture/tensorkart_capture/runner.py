"""One recording from start to totals: open the source (and gamepad), stream, close, report.

Shared by `python -m tensorkart_capture record` and `tensorkart record`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tensorkart_capture.recording import JoystickReader, Progress, run_recording
from tensorkart_capture.sources import open_source
from tensorkart_capture.sources.base import CapturedFrame, FrameSource
from tensorkart_capture.streamer import RecorderUnavailable, RecordingStreamer
from tensorkart_core.preprocess import PreprocessSpec

log = logging.getLogger(__name__)


@dataclass
class RecordOptions:
    """Everything a recording needs; see `python -m tensorkart_capture record --help`."""

    name: str
    source: str = "sim"
    recorder_addr: str = "127.0.0.1:50051"
    rate_hz: float = 30.0
    seconds: float | None = None
    max_frames: int | None = None
    sim_address: str | None = None
    data_root: Path = Path("./data")
    dataset: str | None = None
    region: str = "640x480"
    monitor: int = 1
    pad: str = "xbox"
    pad_index: int = 0
    preprocess: PreprocessSpec | None = None
    resume: bool = False
    queue_size: int = 90
    metadata: dict[str, str] = field(default_factory=dict)
    close_timeout: float = 30.0
    start_timeout: float = 10.0


@dataclass
class RecordResult:
    name: str
    frames: int
    seconds: float
    totals: dict[str, Any]
    summary: dict[str, int] | None
    error: str | None
    rejections: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": f"samples/{self.name}",
            "frames_captured": self.frames,
            "seconds": round(self.seconds, 3),
            **{
                f"frames_{k}" if k in ("sent", "written", "rejected", "dropped") else k: v
                for k, v in self.totals.items()
                if k != "connected"
            },
            "recorder": self.summary,
            "error": self.error,
        }


def open_for(options: RecordOptions) -> tuple[FrameSource, JoystickReader | None, dict[str, str]]:
    """The frame source, the joystick reader (screen: the gamepad) and what to store about them."""
    joystick: JoystickReader | None = None
    extra: dict[str, str] = {}
    if options.source == "screen":
        if options.pad.strip().lower() == "none":
            extra.update(pad_mapping="none (neutral stick, no buttons)")
        else:
            from tensorkart_capture.gamepad import Gamepad, PadMapping

            mapping = PadMapping.parse(options.pad)
            pad = Gamepad(mapping, options.pad_index)
            joystick = pad.read
            extra.update(pad_mapping=mapping.describe(), pad_name=pad.name)
        source = open_source("screen", region=options.region, monitor=options.monitor, rate_hz=options.rate_hz)
    elif options.source == "sim":
        if not options.sim_address:
            raise ValueError("--source sim needs the simulator feed address (--sim-address host:port)")
        source = open_source("sim", address=options.sim_address, rate_hz=options.rate_hz)
        extra.update(pad_mapping="simulator driver")
    elif options.source == "replay":
        if not options.dataset:
            raise ValueError("--source replay needs --dataset NAME")
        source = open_source("replay", data_root=options.data_root, dataset=options.dataset, rate_hz=options.rate_hz)
        extra.update(pad_mapping="replayed from the dataset")
    else:
        raise ValueError(f"unknown source {options.source!r}; choose screen, sim or replay")
    return source, joystick, {**source.describe(), **extra}


def record(
    options: RecordOptions,
    stop: threading.Event | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_frame: Callable[[CapturedFrame], None] | None = None,
    source: FrameSource | None = None,
) -> RecordResult:
    """Record until the source ends, the time/frame limit, or `stop`; then drain and return the totals.

    Raises RecorderUnavailable before capturing anything when the recorder refuses the session
    (a taken name without resume, a bad name) or does not answer its start.
    """
    joystick: JoystickReader | None = None
    described: dict[str, str] = {}
    if source is None:
        source, joystick, described = open_for(options)
    else:
        described = source.describe()
    metadata = {**described, **options.metadata}
    if options.preprocess is not None:
        metadata["preprocess"] = options.preprocess.to_json()
    metadata.setdefault("rate_hz", str(options.rate_hz))
    streamer = RecordingStreamer(
        options.recorder_addr,
        options.name,
        metadata=metadata,
        rate_hz=options.rate_hz,
        queue_size=options.queue_size,
        resume=options.resume,
        contiguous=True,
    ).start()
    try:  # the recorder accepts (or refuses) the session before a single frame is captured
        streamer.wait_started(options.start_timeout)
    except RecorderUnavailable:
        source.close()
        streamer.close(timeout=1.0)
        raise
    frames = 0
    first: list[float] = []

    def seen(frame: CapturedFrame) -> None:
        if not first:
            first.append(time.monotonic())
        if on_frame is not None:
            on_frame(frame)

    try:
        frames = run_recording(
            source,
            streamer,
            joystick=joystick,
            seconds=options.seconds,
            max_frames=options.max_frames,
            spec=options.preprocess,
            stop=stop,
            on_progress=on_progress,
            on_frame=seen,
        )
    finally:
        seconds = time.monotonic() - first[0] if first else 0.0
        source.close()
        stats = streamer.close(options.close_timeout)
    summary = None
    if streamer.summary is not None:
        s = streamer.summary
        summary = {
            "frames_received": s.frames_received,
            "frames_written": s.frames_written,
            "frames_rejected": s.frames_rejected,
            "frames_dropped": s.frames_dropped,
        }
    result = RecordResult(options.name, frames, seconds, stats.to_dict(), summary, streamer.error, streamer.rejections)
    if streamer.error:
        raise RecorderUnavailable(streamer.error)
    return result
