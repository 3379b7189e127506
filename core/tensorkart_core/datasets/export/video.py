"""MP4 writing and reading with PyAV (H.264, yuv420p, constant frame rate: frame k at k / fps)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from tensorkart_core.datasets.export.episodes import ExportError

CODEC = "libx264"
PIX_FMT = "yuv420p"
GOP = 10  # a key frame every 10 frames: seeking (LeRobot, Rerun) decodes at most 9 more; no B-frames


def _av():
    try:
        import av
    except ImportError:
        raise ExportError("PyAV is not installed: pip install 'tensorkart-core[export]'") from None
    return av


def even_size(width: int, height: int) -> tuple[int, int]:
    """yuv420p needs even sides: the size a video of width x height frames is written at."""
    return width - width % 2, height - height % 2


def write_mp4(path: Path, frames: Iterable[np.ndarray], fps: int, crf: int = 20) -> int:
    """Encode RGB uint8 frames (all the same size) at `fps`; returns the number written.

    Odd widths/heights lose their last column/row (yuv420p)."""
    av = _av()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp.mp4")
    count = 0
    with av.open(str(temp), mode="w") as container:
        stream = None
        for rgb in frames:
            if stream is None:
                width, height = even_size(rgb.shape[1], rgb.shape[0])
                stream = container.add_stream(
                    CODEC, rate=fps, options={"crf": str(crf), "preset": "veryfast", "bf": "0", "g": str(GOP)}
                )
                stream.width, stream.height, stream.pix_fmt = width, height, PIX_FMT
                stream.time_base = Fraction(1, fps)
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(rgb[: stream.height, : stream.width]), format="rgb24"
            )
            frame.pts = count
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
            count += 1
        if stream is None:
            raise ExportError(f"{path}: no frames to write")
        for packet in stream.encode():
            container.mux(packet)
    temp.replace(path)
    return count


def read_mp4(path: Path) -> Iterator[tuple[float, np.ndarray]]:
    """(seconds, RGB uint8 frame) for every frame of the first video stream, in order."""
    av = _av()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            seconds = float(frame.pts * frame.time_base) if frame.pts is not None else 0.0
            yield seconds, frame.to_ndarray(format="rgb24")


def video_info(path: Path) -> dict[str, object]:
    """LeRobot's `info` block of a video feature, read from the file."""
    av = _av()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return {
            "video.height": stream.height,
            "video.width": stream.width,
            "video.codec": stream.codec_context.codec.canonical_name,
            "video.pix_fmt": stream.pix_fmt,
            "video.is_depth_map": False,
            "video.fps": int(stream.base_rate),
            "video.channels": 3,
            "has_audio": False,
        }
