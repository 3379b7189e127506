"""Settings of the inference service (environment variables prefixed INFERENCE_)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tensorkart_core.settings import ServiceSettings


class InferenceSettings(ServiceSettings):
    """INFERENCE_PORT, INFERENCE_MODEL, INFERENCE_BACKEND, ... (plus the shared TENSORKART_* ones)."""

    model_config = SettingsConfigDict(env_prefix="INFERENCE_", extra="ignore")

    port: int = Field(50052, ge=0, le=65535)
    metrics_port: int = Field(9052, ge=0, le=65535)
    model: str | None = Field(
        None, description="pin this model version (no registry following); unset = serve the registry's active one"
    )
    backend: Literal["litert", "tensorflow"] = Field(
        "litert",
        description="litert: the LiteRT file (see INFERENCE_PRECISION) on CPU with XNNPACK; tensorflow: model.keras "
        "(GPU host)",
    )
    precision: Literal["int8", "float32"] = Field(
        "int8",
        description="litert backend: int8 serves each model's dynamic-range quantized model.int8.tflite (int8 "
        "weights, float activations; ~4x faster, outputs within the int8_max_abs_diff model.json records), falling "
        "back to model.tflite for versions exported without one; float32 serves the exact model.tflite",
    )
    num_threads: int = Field(1, ge=1, le=64, description="LiteRT/XNNPACK threads per interpreter")
    interpreters: int = Field(2, ge=1, le=32, description="LiteRT interpreters per model (concurrent frames)")
    stale_ms: float = Field(
        100.0,
        gt=0,
        description="a Drive frame older than this when its turn comes (absolute age: capture time mapped onto the "
        "server's clock with the stream's estimated clock offset) is answered stale",
    )
    inline_below_ms: float = Field(
        2.0,
        ge=0,
        description="a LiteRT model whose quickest warm-up invoke took less than this runs a frame on the event loop "
        "itself when no other frame is running (no thread hand-off; the loop is held for one such invoke at most); "
        "slower models, and the tensorflow backend always, run in the model threads; 0 = always in the threads",
    )
    poll_seconds: float = Field(5.0, gt=0, description="how often the registry's active key is re-read (fallback)")
    warmup_runs: int = Field(3, ge=1, le=100, description="inferences run on a new model before it serves")
    batch_max: int = Field(
        8,
        ge=1,
        le=256,
        description="most frames of concurrent streams handed to a model thread together (one hand-off per batch; "
        "LiteRT invokes them one by one on one interpreter, tensorflow as one batch); tensorflow's own batcher's "
        "largest batch",
    )
    batch_wait_ms: float = Field(2.0, ge=0, description="tensorflow backend: how long a batch waits to fill")
    max_streams: int = Field(
        256,
        ge=1,
        le=100_000,
        description="Drive streams one replica serves at once; a stream past it is refused with RESOURCE_EXHAUSTED "
        "(the edge backs off and retries, reaching another replica behind a balancing name)",
    )
