"""Response models of the trainer's REST API, so `/openapi.json` describes every answer, and the
path-parameter rules the handlers enforce, as OpenAPI patterns.

The models describe the JSON the CLI and the dashboard already read: keys and types only, no
renames. Open-ended records (a model's model.json, a dataset's session.json, job parameters as
submitted) stay objects with their known keys typed and the rest allowed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# tensorkart_core.dataset.NAME_PATTERN / registry.VERSION_PATTERN without "..", in a form that needs
# no look-ahead: a first character that is not '.' or '-', then single dots between other characters.
# The length limit (64) is the parameter's max_length.
NAME_PATTERN = r"^[A-Za-z0-9_](?:\.?[A-Za-z0-9_-])*\.?$"
NAME_MAX_LENGTH = 64


class Status(BaseModel):
    status: Literal["ok"]


class Histogram(BaseModel):
    edges: list[float]
    counts: list[int]


class DatasetValidation(BaseModel):
    valid: bool
    bad_rows: int
    bad_images: int
    problems: list[str]


class DatasetSummary(BaseModel):
    name: str
    frames: int
    rows: int
    deleted: int
    duration_s: float | None
    steering_histogram: Histogram
    validation: DatasetValidation


class DatasetDetail(DatasetSummary):
    rate_hz: float | None
    resolution: str | None
    source: str | None
    steering_mean: float | None
    accelerate_fraction: float | None
    session: dict[str, Any]


class JobSubmitted(BaseModel):
    id: str
    state: Literal["queued"]
    datasets: list[str]
    url: str


class TensorBoardLog(BaseModel):
    logdir: str
    command: str


class JobView(BaseModel):
    id: str
    state: Literal["queued", "running", "finished", "failed", "canceled"]
    phase: str
    created: str | None
    started: str | None
    ended: str | None
    params: dict[str, Any] | None
    datasets: list[str]
    progress: dict[str, Any]
    history: list[dict[str, Any]]
    eta_s: float | None
    log: list[str]
    model_version: str | None
    metrics: dict[str, Any]
    bad_data: dict[str, Any]
    evaluation: dict[str, Any] | None
    error: str | None
    cancel_requested: bool
    worker: str | None
    tensorboard: TensorBoardLog


class ModelSummary(BaseModel):
    version: str | None
    created: str | None
    outputs: list[str] | None
    preprocess_id: str | None
    metrics: dict[str, Any] | None
    evaluation: dict[str, Any] | None
    base_model: str | None
    source: Any
    datasets: list[str | None]
    autonomy: dict[str, float]


class ModelList(BaseModel):
    active: str | None
    history: list[str]
    models: list[ModelSummary]


class ModelDetail(BaseModel):
    """A version's model.json (every key it has) plus whether it is active and its autonomy per track."""

    model_config = ConfigDict(extra="allow")

    version: str
    active: bool
    autonomy: dict[str, float]


class RegistryEvent(BaseModel):
    event: Literal["promote", "rollback"]
    version: str
    previous: str | None


class TimelineFrames(BaseModel):
    """Columns, one entry per frame of the whole recording (soft-deleted frames included, flagged)."""

    index: list[int]
    t: list[float]
    x: list[float]
    y: list[float]
    a: list[int]
    b: list[int]
    rb: list[int]
    deleted: list[bool]


class DatasetTimeline(BaseModel):
    name: str
    fps: float
    count: int
    deleted_count: int
    frames: TimelineFrames


class FrameRange(BaseModel):
    """Inclusive timeline frame indices (strict integers: `false` or `"3"` is refused)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    start: int = Field(ge=0, le=10_000_000)
    end: int = Field(ge=0, le=10_000_000)


class CurationResult(BaseModel):
    name: str
    count: int
    kept: int
    deleted_count: int
    changed: int


class DatasetPredictions(BaseModel):
    dataset: str
    model: str
    outputs: list[str]
    index: list[int]
    deleted: list[bool]
    recorded_x: list[float]
    predicted_x: list[float] | None
    recorded_y: list[float]
    predicted_y: list[float] | None
    recorded_a: list[int]
    predicted_a: list[float] | None
