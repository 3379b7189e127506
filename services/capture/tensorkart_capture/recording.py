"""The record loop: frames from a source (+ joystick) -> optional edge pre-processing -> recorder stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tensorkart_capture.sources.base import CapturedFrame, FrameSource
from tensorkart_capture.streamer import RecordingStreamer, StreamStats
from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.proto.v1 import recorder_pb2, types_pb2

JoystickReader = Callable[[], types_pb2.Joystick]


@dataclass
class Progress:
    """What the live progress line shows."""

    frames: int
    seconds: float
    fps: float
    stats: StreamStats
    queued: int


def build_request(
    frame: CapturedFrame, joystick: types_pb2.Joystick, spec: PreprocessSpec | None
) -> recorder_pb2.RecordRequest:
    """One Record request carrying the frame (pre-processed at the edge when `spec` is given) and its
    joystick, filled in place (a 640x480 frame is ~1 MB: every copy counts at 60+ fps)."""
    if spec is not None:
        rgb, preprocess_id = spec.prepare(frame.rgb), spec.id
    else:
        rgb, preprocess_id = frame.rgb, ""
    request = recorder_pb2.RecordRequest()
    message = request.sample.frame
    message.sequence = frame.sequence
    message.capture_time_ns = frame.capture_time_ns
    message.height, message.width = rgb.shape[:2]
    message.encoding = types_pb2.ENCODING_RAW_RGB
    message.data = np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()
    message.game_frame = frame.game_frame
    message.preprocess_id = preprocess_id
    request.sample.joystick.CopyFrom(joystick)
    return request


def build_sample(frame: CapturedFrame, joystick: types_pb2.Joystick, spec: PreprocessSpec | None) -> types_pb2.Sample:
    """One Sample: the frame (pre-processed at the edge when `spec` is given) and its joystick."""
    return build_request(frame, joystick, spec).sample


def run_recording(
    source: FrameSource,
    streamer: RecordingStreamer,
    joystick: JoystickReader | None = None,
    seconds: float | None = None,
    max_frames: int | None = None,
    spec: PreprocessSpec | None = None,
    stop: threading.Event | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    progress_every: float = 0.5,
    on_frame: Callable[[CapturedFrame], None] | None = None,
) -> int:
    """Capture until the source ends, `seconds` pass, `max_frames` are taken or `stop` is set.

    The joystick comes from the frame when the source knows it (simulator, replay), else
    from `joystick()` (the gamepad). Returns the number of frames captured.
    """
    from tensorkart_capture import metrics

    stop = stop or threading.Event()
    started = time.monotonic()
    last_report = started
    frames = 0
    neutral = types_pb2.Joystick()
    iterator = iter(source)
    while not stop.is_set():
        if seconds is not None and time.monotonic() - started >= seconds:
            break
        if max_frames is not None and frames >= max_frames:
            break
        try:
            frame = next(iterator)
        except StopIteration:
            break
        frames += 1
        metrics.FRAMES_CAPTURED.inc()
        if on_frame is not None:
            on_frame(frame)
        pad = frame.joystick if frame.joystick is not None else (joystick() if joystick else neutral)
        streamer.offer(build_request(frame, pad, spec))
        now = time.monotonic()
        if on_progress is not None and now - last_report >= progress_every:
            last_report = now
            elapsed = now - started
            on_progress(
                Progress(frames, elapsed, frames / elapsed if elapsed else 0.0, streamer.snapshot(), streamer.queued)
            )
    return frames
