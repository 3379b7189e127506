"""Read a recorded frame as RGB uint8, fast: libspng (imagecodecs) for plain 8-bit RGB PNGs, else Pillow.

Decoding dominates preparing and streaming frames; libspng decodes a 640x480 PNG in about
half Pillow's time. Any PNG it does not return as (H, W, 3) uint8 (palette, grey, alpha,
16-bit) and every other format goes through Pillow's convert("RGB"), so the pixels are
the same either way (checked in tests).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

try:
    import imagecodecs
except ImportError:  # pragma: no cover - optional speed-up
    imagecodecs = None

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _pillow(path: str) -> np.ndarray:
    with Image.open(path) as image:
        image.load()
        return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


def read_rgb(path: str) -> np.ndarray:
    """The image at `path` as an (H, W, 3) uint8 array; raises OSError/ValueError when unreadable."""
    if imagecodecs is not None:
        with open(path, "rb") as handle:
            data = handle.read()
        if data[:8] == PNG_MAGIC:
            try:
                rgb = imagecodecs.spng_decode(data)
            except Exception:
                rgb = None
            if rgb is not None and rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3:
                return rgb
    return _pillow(path)
