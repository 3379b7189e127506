"""The one pre-processing spec shared by training, serving and edge capture.

A model's `model.json` declares its spec; everything that turns a screen into model
input calls `prepare` (crop + resize, uint8) and `to_model_input` (scaling), so the
training side and the serving side cannot drift apart. TensorKart's original code
stored skimage's 0..1 floats into a uint8 array (every training image black) and fed
the model 0..1 floats at play time; here both sides run this code.

Interpolation "pyramid" (the default for new models) is an antialiased OpenCV resize: exact
2x2 box averages while both axes stay at least twice the output, then exact pair averages in
the axis that still is, then one bilinear step to the output size. On a 640x480 frame -> 200x66
it takes ~0.2 ms against ~1.1 ms for Pillow bilinear (reducing_gap 2.0; measured p50s, 2-core
CPU), and stays within ~1 level (mean) of a Pillow box (area) resize on game frames. The Pillow
methods stay for existing models: a stored spec keeps its meaning and its id.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any, Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, model_validator

Interpolation = Literal["pyramid", "nearest", "bilinear", "bicubic", "box", "area"]

_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "box": Image.Resampling.BOX,
    "area": Image.Resampling.BOX,
}


class PreprocessSpec(BaseModel):
    """Crop box (fractions of the source frame), output size, interpolation, scaling."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    crop_left: float = Field(0.0, ge=0.0, lt=1.0, description="left edge of the crop, fraction of width")
    crop_top: float = Field(0.0, ge=0.0, lt=1.0, description="top edge of the crop, fraction of height")
    crop_right: float = Field(1.0, gt=0.0, le=1.0, description="right edge of the crop, fraction of width")
    crop_bottom: float = Field(1.0, gt=0.0, le=1.0, description="bottom edge of the crop, fraction of height")
    width: int = Field(200, ge=8, le=1024, description="model input width")
    height: int = Field(66, ge=8, le=1024, description="model input height")
    interpolation: Interpolation = Field(
        "pyramid",
        description="pyramid: OpenCV, exact 2x2 box averages down to under twice the output size, then one "
        "bilinear step (antialiased, ~0.2 ms for 640x480 -> 200x66); nearest/bilinear/bicubic/box/area: "
        "Pillow's resize (area = box; ~1 ms for bilinear)",
    )
    reducing_gap: float | None = Field(
        2.0,
        ge=1.0,
        description="Pillow methods only (always null for pyramid): downscale by an integer factor with a box "
        "filter first while the result stays this many times larger than the output (Pillow's reducing_gap): "
        "~40% faster, within ~1/255 of plain resampling; null = resample in one step",
    )
    scale: Literal["unit", "byte"] = Field(
        "unit", description="unit: float32 = uint8 / 255 (play.py's convention); byte: float32 0..255"
    )

    @model_validator(mode="before")
    @classmethod
    def _pyramid_has_no_reducing_gap(cls, data: Any) -> Any:
        """reducing_gap means nothing to pyramid: store it as null, so equal behaviour gives equal ids."""
        if isinstance(data, dict):
            interpolation = data.get("interpolation", cls.model_fields["interpolation"].default)
            if interpolation == "pyramid" and ("reducing_gap" not in data or data["reducing_gap"] is not None):
                data = {**data, "reducing_gap": None}
        return data

    @model_validator(mode="after")
    def _crop_is_a_box(self) -> PreprocessSpec:
        if self.crop_right <= self.crop_left or self.crop_bottom <= self.crop_top:
            raise ValueError("crop box is empty: need crop_left < crop_right and crop_top < crop_bottom")
        return self

    @functools.cached_property
    def id(self) -> str:
        """Fingerprint of the spec (12 hex digits): equal specs give equal ids. Cached: the
        relay and the server read it for every frame (the spec is frozen)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:12]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, 3)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> PreprocessSpec:
        return cls.model_validate_json(text)

    def crop_box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The crop in pixels for a source of `width` x `height`."""
        box = (
            round(self.crop_left * width),
            round(self.crop_top * height),
            round(self.crop_right * width),
            round(self.crop_bottom * height),
        )
        if box[2] - box[0] < 1 or box[3] - box[1] < 1:
            raise ValueError(f"crop box {box} is empty for a {width}x{height} frame")
        return box

    def prepare(self, rgb: np.ndarray) -> np.ndarray:
        """Crop and resize an RGB uint8 frame (H, W, 3) to (height, width, 3) uint8."""
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected an RGB uint8 array (H, W, 3), got {rgb.dtype} {rgb.shape}")
        if rgb.shape[:2] == (self.height, self.width) and self.is_full_frame:
            return np.ascontiguousarray(rgb)
        if self.interpolation == "pyramid":
            left, top, right, bottom = self.crop_box(rgb.shape[1], rgb.shape[0])
            return _pyramid_resize(rgb[top:bottom, left:right], self.width, self.height)
        image = Image.fromarray(rgb)
        box = self.crop_box(image.width, image.height)
        resized = image.resize(
            (self.width, self.height), resample=_FILTERS[self.interpolation], box=box, reducing_gap=self.reducing_gap
        )
        return np.asarray(resized, dtype=np.uint8)

    @property
    def is_full_frame(self) -> bool:
        return (self.crop_left, self.crop_top, self.crop_right, self.crop_bottom) == (0.0, 0.0, 1.0, 1.0)

    def to_model_input(self, prepared: np.ndarray) -> np.ndarray:
        """Scale prepared uint8 pixels (..., H, W, 3) to the float32 the model takes."""
        pixels = prepared.astype(np.float32)
        if self.scale == "unit":
            pixels /= np.float32(255.0)  # in place: the same values as pixels / 255, one array less
        return pixels

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Screen frame -> model input (float32, height x width x 3)."""
        return self.to_model_input(self.prepare(rgb))


@functools.cache
def _opencv() -> Any:
    """cv2, imported on first use: services that never pre-process don't pay the ~0.1 s import."""
    try:
        import cv2
    except ImportError:
        raise RuntimeError(
            "the pyramid pre-processing needs OpenCV: pip install opencv-python-headless==5.0.0.93 "
            "(capture, inference, trainer and the CLI depend on it; the other services never pre-process)"
        ) from None

    # One thread: OpenCV's pool (2 threads on the 2-core machine) bought nothing for this
    # 640x480 -> 200x66 pyramid, measured interleaved: p50 0.182 ms either way, p90 0.23 ms
    # (1 thread) vs 0.24 ms (2), also with the other core busy. It also keeps cv2 from
    # starting pool threads in processes that fork (the trainer's prepare workers) and
    # leaves the other core to the gRPC threads beside it. Process-wide; nothing else
    # in TensorKart uses OpenCV.
    cv2.setNumThreads(1)
    return cv2


def _pyramid_resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Antialiased resize of an RGB uint8 image (any strides) to (height, width, 3), C-contiguous.

    While both axes are at least twice the output: drop a trailing odd row/column and take exact
    2x2 box averages (INTER_AREA to exactly half: OpenCV's fast path, ~0.09 ms at 640x480). Then,
    while one axis still is: exact pair averages in that axis (INTER_LINEAR to exactly half).
    Last, one INTER_LINEAR step to the output size (under 2x per axis, or an upscale).
    cv2 takes strided numpy views as they are (measured: no faster with np.ascontiguousarray).
    """
    cv2 = _opencv()
    image = rgb
    h, w = image.shape[:2]
    while w >= 2 * width and h >= 2 * height:
        image, w, h = image[: h - h % 2, : w - w % 2], w // 2, h // 2
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    while w >= 2 * width:
        image, w = image[:, : w - w % 2], w // 2
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
    while h >= 2 * height:
        image, h = image[: h - h % 2], h // 2
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
    if (w, h) != (width, height):
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    # cv2 returns a fresh C-contiguous array; a crop already of the output size is still a view.
    return np.ascontiguousarray(image, dtype=np.uint8)


_FULL_FRAME_200X66 = {
    "crop_left": 0.0,
    "crop_top": 0.0,
    "crop_right": 1.0,
    "crop_bottom": 1.0,
    "width": 200,
    "height": 66,
}
DEFAULT_SPEC = PreprocessSpec(interpolation="pyramid", scale="unit", **_FULL_FRAME_200X66)
# What TensorKart's play.py fed imported workshop weights: resize 640x480 -> 200x66, 0..1, with
# Pillow bilinear (reducing_gap 2.0), every field explicit: its id (27f470f34363) must never change.
LEGACY_PLAY_SPEC = PreprocessSpec(interpolation="bilinear", reducing_gap=2.0, scale="unit", **_FULL_FRAME_200X66)
