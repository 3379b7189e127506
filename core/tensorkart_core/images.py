"""Frames on the wire <-> numpy RGB arrays, with errors that name the problem."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

from tensorkart_core.proto.v1 import types_pb2

MAX_SIDE = 4096


class FrameError(ValueError):
    """A frame that cannot be decoded; the message says why."""


def decode_frame(frame: types_pb2.Frame) -> np.ndarray:
    """Return the frame as an RGB uint8 array (height, width, 3)."""
    if frame.width == 0 or frame.height == 0:
        raise FrameError(f"frame {frame.sequence}: zero size {frame.width}x{frame.height}")
    if frame.width > MAX_SIDE or frame.height > MAX_SIDE:
        raise FrameError(f"frame {frame.sequence}: size {frame.width}x{frame.height} exceeds {MAX_SIDE}")
    if frame.encoding == types_pb2.ENCODING_RAW_RGB:
        expected = frame.width * frame.height * 3
        if len(frame.data) != expected:
            raise FrameError(
                f"frame {frame.sequence}: raw RGB {frame.width}x{frame.height} needs {expected} bytes, "
                f"got {len(frame.data)}"
            )
        return np.frombuffer(frame.data, dtype=np.uint8).reshape(frame.height, frame.width, 3)
    if frame.encoding in (types_pb2.ENCODING_PNG, types_pb2.ENCODING_JPEG):
        try:
            with Image.open(io.BytesIO(frame.data)) as image:
                rgb = np.asarray(image.convert("RGB"))
        except (UnidentifiedImageError, OSError, ValueError) as error:
            raise FrameError(f"frame {frame.sequence}: cannot decode image data: {error}") from None
        if rgb.shape[:2] != (frame.height, frame.width):
            raise FrameError(
                f"frame {frame.sequence}: decoded image is {rgb.shape[1]}x{rgb.shape[0]}, "
                f"header says {frame.width}x{frame.height}"
            )
        return rgb
    raise FrameError(f"frame {frame.sequence}: unknown encoding {frame.encoding}")


def encode_frame(
    rgb: np.ndarray,
    sequence: int,
    capture_time_ns: int,
    encoding: int = types_pb2.ENCODING_RAW_RGB,
    game_frame: int = 0,
    preprocess_id: str = "",
) -> types_pb2.Frame:
    """Build a Frame message from an RGB uint8 array."""
    height, width = rgb.shape[:2]
    if encoding == types_pb2.ENCODING_RAW_RGB:
        data = np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()
    else:
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format="PNG" if encoding == types_pb2.ENCODING_PNG else "JPEG")
        data = buffer.getvalue()
    return types_pb2.Frame(
        sequence=sequence,
        capture_time_ns=capture_time_ns,
        width=width,
        height=height,
        encoding=encoding,
        data=data,
        game_frame=game_frame,
        preprocess_id=preprocess_id,
    )
