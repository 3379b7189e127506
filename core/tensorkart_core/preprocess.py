"""The one pre-processing spec shared by training, serving and edge capture.

A model's `model.json` declares its spec; everything that turns a screen into model
input calls `prepare` (crop + resize, uint8) and `to_model_input` (scaling), so the
training side and the serving side cannot drift apart. TensorKart's original code
stored skimage's 0..1 floats into a uint8 array (every training image black) and fed
the model 0..1 floats at play time; here both sides run this code.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    interpolation: Literal["nearest", "bilinear", "bicubic", "box", "area"] = "bilinear"
    reducing_gap: float | None = Field(
        2.0,
        ge=1.0,
        description="downscale by an integer factor with a box filter first while the result stays this many "
        "times larger than the output (Pillow's reducing_gap): ~40% faster, within ~1/255 of plain resampling; "
        "null = resample in one step",
    )
    scale: Literal["unit", "byte"] = Field(
        "unit", description="unit: float32 = uint8 / 255 (play.py's convention); byte: float32 0..255"
    )

    @model_validator(mode="after")
    def _crop_is_a_box(self) -> PreprocessSpec:
        if self.crop_right <= self.crop_left or self.crop_bottom <= self.crop_top:
            raise ValueError("crop box is empty: need crop_left < crop_right and crop_top < crop_bottom")
        return self

    @property
    def id(self) -> str:
        """Fingerprint of the spec (12 hex digits): equal specs give equal ids."""
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
            return rgb
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
        return pixels / np.float32(255.0) if self.scale == "unit" else pixels

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Screen frame -> model input (float32, height x width x 3)."""
        return self.to_model_input(self.prepare(rgb))


DEFAULT_SPEC = PreprocessSpec()
# What TensorKart's play.py fed imported workshop weights: resize 640x480 -> 200x66, 0..1.
LEGACY_PLAY_SPEC = PreprocessSpec(interpolation="bilinear", scale="unit")
