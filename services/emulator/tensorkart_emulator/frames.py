"""Reading each rendered frame through the core (M64CMD_READ_SCREEN) inside the frame callback.

The callback runs on the emulation thread, right after the video plugin processed a display list,
while its OpenGL context is current: the back buffer then holds exactly this frame. Rows come
bottom-up from OpenGL and are flipped. Duplicates (bit-identical to the previous frame) and blank
frames (one colour) are flagged and counted.
"""

from __future__ import annotations

import ctypes
import dataclasses
import hashlib
import time

import numpy as np

from tensorkart_emulator import m64p, metrics
from tensorkart_emulator.core import Core


@dataclasses.dataclass(frozen=True)
class EmuFrame:
    index: int  # the core's frame counter (argument of the frame callback)
    rgb: np.ndarray  # (height, width, 3) uint8, top row first
    time_ns: int  # monotonic time of the read
    digest: bytes
    duplicate: bool
    blank: bool


class FrameReader:
    """Turns frame callbacks into EmuFrame objects, keeping the duplicate/blank/gap counts."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self._buffer: ctypes.Array | None = None
        self._size = (0, 0)
        self._last_digest = b""
        self._last_index: int | None = None
        self.duplicates = 0
        self.blanks = 0
        self.gaps = 0
        self.count = 0

    def screen_size(self) -> tuple[int, int]:
        packed = self.core.query(m64p.CoreParam.VIDEO_SIZE)
        return packed >> 16, packed & 0xFFFF

    def read(self, index: int) -> EmuFrame:
        width, height = self.screen_size()
        if (width, height) != self._size or self._buffer is None:
            self._buffer = (ctypes.c_uint8 * (width * height * 3))()
            self._size = (width, height)
        self.core.command(m64p.Command.READ_SCREEN, 0, self._buffer)
        rgb = np.frombuffer(self._buffer, dtype=np.uint8).reshape(height, width, 3)[::-1].copy()
        digest = hashlib.blake2b(rgb.tobytes(), digest_size=16).digest()
        duplicate = digest == self._last_digest
        blank = bool(rgb.size == 0 or (rgb == rgb.reshape(-1, 3)[0]).all())
        if self._last_index is not None and index > self._last_index + 1:
            self.gaps += index - self._last_index - 1
            metrics.FRAME_GAPS.inc(index - self._last_index - 1)
        self._last_digest, self._last_index = digest, index
        self.count += 1
        metrics.FRAMES.inc()
        metrics.LAST_FRAME.set(index)
        if duplicate:
            self.duplicates += 1
            metrics.DUPLICATE_FRAMES.inc()
        if blank:
            self.blanks += 1
            metrics.BLANK_FRAMES.inc()
        return EmuFrame(index, rgb, time.monotonic_ns(), digest, duplicate, blank)
