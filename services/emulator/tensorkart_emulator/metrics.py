"""Prometheus metrics of the emulator frontend (served on its /metrics endpoint)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

FRAMES = Counter("tensorkart_emulator_frames_total", "Frames read from the core (one per frame callback)")
DUPLICATE_FRAMES = Counter(
    "tensorkart_emulator_duplicate_frames_total", "Frames whose pixels equal the previous frame's, bit for bit"
)
BLANK_FRAMES = Counter("tensorkart_emulator_blank_frames_total", "Frames of a single colour (e.g. all black)")
FRAME_GAPS = Counter(
    "tensorkart_emulator_frame_gaps_total", "Frame numbers skipped by the core's counter between two callbacks"
)
LAST_FRAME = Gauge("tensorkart_emulator_last_frame", "The core's frame counter of the last frame read")
FEED_DROPPED = Counter("tensorkart_emulator_feed_dropped_total", "Free-run frames a slow feed subscriber lost")
LATE_ANSWERS = Counter(
    "tensorkart_emulator_late_answers_total", "Lock-step frames advanced without the controller's answer (timeout)"
)
