"""Contact sheet: a PNG grid of evenly spaced frames with their steering drawn on each."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from tensorkart_core.datasets.layout import DatasetNotFound
from tensorkart_core.datasets.scan import scan

GAP = 4


def draw_steering(image: Image.Image, x: float, label: str = "", predicted: float | None = None) -> None:
    """Draw x as a bar from the centre (left red, right green), an optional predicted x as a yellow
    tick, and a text label, along the bottom of `image`."""
    draw = ImageDraw.Draw(image)
    w, h = image.size
    bar = max(6, h // 16)
    centre = w // 2
    end = centre + round(x * (w // 2 - 4))
    top = h - bar
    draw.rectangle((0, top - (12 if label else 0), w, h), fill=(0, 0, 0))
    colour = (230, 60, 60) if x < 0 else (60, 220, 90)
    draw.rectangle((min(centre, end), top + 1, max(centre, end), h - 2), fill=colour)
    draw.line((centre, top, centre, h - 1), fill=(255, 255, 255))
    if predicted is not None:
        tip = centre + round(max(-1.0, min(1.0, predicted)) * (w // 2 - 4))
        draw.rectangle((tip - 1, top - 2, tip + 1, h), fill=(250, 210, 40))
    if label:
        draw.text((3, top - 12), label, fill=(255, 255, 255))


def button_label(index: int, x: float, a: float, b: float, rb: float) -> str:
    buttons = "".join(n for n, v in (("A", a), ("B", b), ("R", rb)) if v)
    return f"#{index} x={x:+.2f} {buttons}"


def contact_sheet(data_root: Path, name: str, count: int = 12, columns: int = 6, thumb_width: int = 160) -> bytes:
    """A PNG grid of `count` frames spread evenly over the dataset, with the steering drawn on each."""
    if count < 1 or columns < 1 or thumb_width < 8:
        raise ValueError("count and columns must be at least 1, thumb width at least 8")
    samples = scan(data_root, name, check_images=False).samples
    if not samples:
        raise DatasetNotFound(f"dataset {name!r} has no usable frames")
    picks = sorted({int(i) for i in np.linspace(0, len(samples) - 1, min(count, len(samples)))})
    thumbs = []
    for index in picks:
        sample = samples[index]
        try:
            with Image.open(sample.path) as image:
                height = max(1, round(image.height * thumb_width / image.width))
                image.draft("RGB", (thumb_width, height))
                thumb = image.convert("RGB").resize((thumb_width, height), Image.Resampling.BILINEAR)
        except (OSError, ValueError, ZeroDivisionError, Image.DecompressionBombError):
            thumb = Image.new("RGB", (thumb_width, thumb_width * 3 // 4), (90, 0, 0))
        x, _y, a, b, rb = sample.values
        draw_steering(thumb, x, button_label(index, x, a, b, rb))
        thumbs.append(thumb)
    height = max(t.height for t in thumbs)
    lines = math.ceil(len(thumbs) / columns)
    sheet = Image.new("RGB", (columns * (thumb_width + GAP) + GAP, lines * (height + GAP) + GAP), (24, 24, 24))
    for slot, thumb in enumerate(thumbs):
        sheet.paste(thumb, (GAP + (slot % columns) * (thumb_width + GAP), GAP + (slot // columns) * (height + GAP)))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()
