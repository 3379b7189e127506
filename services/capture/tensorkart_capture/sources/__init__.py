"""Frame sources behind one interface: `open_source(kind, **options) -> FrameSource`.

kind "screen": region ("640x480" / "LEFT,TOP,WxH" / Region), monitor, rate_hz;
"sim": address (the simulator feed, host:port), rate_hz (0 = as the feed delivers; set it for a
--lockstep simulator); "replay": data_root, dataset, rate_hz
(0 = as fast as possible), loop.
"""

from __future__ import annotations

from typing import Any

from tensorkart_capture.sources.base import CapturedFrame, FrameSource, Pacer

KINDS = ("screen", "sim", "replay")


def open_source(kind: str, **options: Any) -> FrameSource:
    """Open a frame source; unknown kinds and options raise ValueError/TypeError naming them."""
    if kind == "screen":
        from tensorkart_capture.sources.screen import ScreenSource

        return ScreenSource(**options)
    if kind == "sim":
        from tensorkart_capture.sources.sim import SimSource

        return SimSource(**options)
    if kind == "replay":
        from tensorkart_capture.sources.replay import ReplaySource

        return ReplaySource(**options)
    raise ValueError(f"unknown frame source {kind!r}; choose one of {', '.join(KINDS)}")


__all__ = ["KINDS", "CapturedFrame", "FrameSource", "Pacer", "open_source"]
