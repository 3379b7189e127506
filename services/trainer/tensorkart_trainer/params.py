"""Training job parameters: the body of POST /v1/jobs, validated once, stored with the job."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_trainer.pilotnet import OUTPUT_NAMES

GLOB_CHARS = "*?[]"
# datasets.validate_pattern's rule as a schema pattern: a dataset name in which glob characters may stand
# for name characters (no look-ahead, so OpenAPI tools can generate from it; at most 64 characters).
DATASET_GLOB_PATTERN = r"^[A-Za-z0-9_*?\[\]!](?:\.?[A-Za-z0-9_*?\[\]!-])*\.?$"


class Augmentation(BaseModel):
    """Workshop tips as options: mirror (x negated), PilotNet-style shift/rotation, and photometric
    augmentation (brightness, contrast, saturation, hue, grayscale, colour-channel shuffle) so a model
    trained in a few looks still drives in others (the practice track's themes)."""

    model_config = ConfigDict(extra="forbid")

    flip: float = Field(0.5, ge=0.0, le=1.0, description="probability of mirroring a frame (x is negated)")
    shift_px: float = Field(0.0, ge=0.0, le=50.0, description="largest lateral shift, model-input pixels")
    shift_steering_per_px: float = Field(
        0.004, ge=0.0, le=0.1, description="steering correction added per pixel of shift (PilotNet)"
    )
    rotate_deg: float = Field(0.0, ge=0.0, le=15.0, description="largest rotation, degrees")
    rotate_steering_per_deg: float = Field(0.01, ge=0.0, le=0.2, description="steering correction per degree")
    brightness: float = Field(0.0, ge=0.0, le=0.9, description="largest relative brightness change")
    contrast: float = Field(0.0, ge=0.0, le=0.9, description="largest relative contrast change (about the mean)")
    saturation: float = Field(0.0, ge=0.0, le=1.0, description="largest relative saturation change")
    hue: float = Field(0.0, ge=0.0, le=0.5, description="largest hue rotation, fraction of the colour circle")
    grayscale: float = Field(0.0, ge=0.0, le=1.0, description="probability of turning a frame grey (3 equal channels)")
    channel_shuffle: float = Field(
        0.0, ge=0.0, le=1.0, description="probability of permuting a frame's R, G, B channels (a new palette)"
    )

    @property
    def photometric(self) -> bool:
        return bool(self.brightness or self.contrast or self.saturation or self.hue or self.grayscale)

    @property
    def enabled(self) -> bool:
        return bool(self.flip or self.shift_px or self.rotate_deg or self.photometric or self.channel_shuffle)


class JobParams(BaseModel):
    """Everything a training job needs; every field has a sensible default except the datasets."""

    model_config = ConfigDict(extra="forbid")

    datasets: list[Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=DATASET_GLOB_PATTERN)]] = (
        Field(
            ...,
            min_length=1,
            max_length=256,
            description="dataset names or glob patterns (e.g. 'luigi-*'): letters, digits, '_', '-', '.', '*?[]!'; "
            "not starting with '.' or '-'; no '..'",
        )
    )
    epochs: int = Field(10, ge=1, le=1000)
    batch_size: int = Field(50, ge=1, le=4096, description="TensorKart used 50")
    learning_rate: float = Field(1e-4, gt=0.0, le=1.0, description="Adam learning rate (TensorKart: 1e-4)")
    validation_split: float = Field(
        0.1, ge=0.0, le=0.5, description="fraction of each dataset (its last frames) held out for validation"
    )
    outputs: list[Literal["x", "y", "a", "b", "rb"]] = Field(
        default_factory=lambda: ["x", "a"],
        min_length=1,
        max_length=5,
        description="outputs to train, subset of x y a b rb",
    )
    loss: Literal["mse", "euclidean"] = Field("mse", description="mse, or TensorKart's euclidean (L2 distance)")
    augmentation: Augmentation = Field(default_factory=Augmentation)
    thin_straight: float = Field(
        0.0, ge=0.0, le=1.0, description="fraction of straight-driving frames (|x| < straight_threshold) dropped"
    )
    straight_threshold: float = Field(0.05, ge=0.0, le=1.0)
    trim_start: int = Field(0, ge=0, le=100000, description="frames dropped at the start of each dataset")
    trim_end: int = Field(0, ge=0, le=100000, description="frames dropped at the end of each dataset")
    preprocess: PreprocessSpec = Field(
        default_factory=PreprocessSpec, description="crop box, size, interpolation, scaling (shared with serving)"
    )
    seed: int = Field(0, ge=0, le=2**31 - 1)
    base_model: str | None = Field(None, description="model version to fine-tune (its outputs and spec are kept)")
    early_stopping_patience: int = Field(3, ge=0, le=1000, description="0 = no early stopping")
    keep_prob: float = Field(0.8, gt=0.0, le=1.0, description="dropout keep probability (TensorKart: 0.8)")
    cache: bool = Field(True, description="cache pre-processed frames on disk after the first epoch")
    shuffle_buffer: int = Field(512, ge=1, le=100000, description="frames held for shuffling (bounds memory)")
    on_bad_data: Literal["skip", "fail"] = Field(
        "skip", description="malformed csv rows / unreadable images: skip them with a count, or fail the job"
    )
    evaluate: bool = Field(True, description="closed-loop evaluation on the practice track after training")
    eval_tracks: list[str] = Field(default_factory=lambda: ["luigi"], max_length=16)
    eval_laps: int = Field(1, ge=1, le=20)
    promote: bool = Field(False, description="promote the new model when the job finishes")

    @field_validator("outputs")
    @classmethod
    def _unique_outputs(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("outputs must not repeat a name")
        return sorted(value, key=OUTPUT_NAMES.index)

    @field_validator("eval_tracks")
    @classmethod
    def _track_names(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item or len(item) > 256 or "\x00" in item or item.startswith("-"):
                raise ValueError(f"invalid track {item!r}")
        return value
