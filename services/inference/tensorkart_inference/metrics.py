"""Prometheus metrics of the inference server (served at /metrics by the shared bootstrap)."""

from __future__ import annotations

import functools

from prometheus_client import Counter, Gauge, Histogram

FRAME_SECONDS = Histogram(
    "tensorkart_inference_frame_seconds",
    "Server time for one frame (decode + pre-process + model), by model version",
    ["version"],
    buckets=(0.0005, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
)
BATCH_FRAMES = Histogram(
    "tensorkart_inference_batch_frames",
    "Frames handed to a model thread together (concurrent streams' frames waiting at the same time)",
    buckets=(1, 2, 3, 4, 6, 8, 12, 16, 32, 64),
)
FRAMES = Counter(
    "tensorkart_inference_frames_total",
    "Frames answered, by RPC and result (ok, stale, invalid, no_model)",
    ["rpc", "result"],
)


@functools.lru_cache(maxsize=64)
def frame_seconds(version: str) -> Histogram:
    """FRAME_SECONDS for one version, resolved once (a label lookup takes a lock per frame)."""
    return FRAME_SECONDS.labels(version)


SWAPS = Counter("tensorkart_inference_model_swaps_total", "Model versions swapped in")
LOAD_FAILURES = Counter(
    "tensorkart_inference_model_load_failures_total",
    "Model versions refused (load or warm-up failed); the previous model kept serving",
    ["version"],
)
ACTIVE = Gauge("tensorkart_inference_active_model", "1 for the model version being served", ["version", "backend"])
LOAD_SECONDS = Histogram(
    "tensorkart_inference_model_load_seconds",
    "Time to load and warm up a model version",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
# The load a replica carries, for the HorizontalPodAutoscaler (deploy/base/inference-hpa.yaml):
# open Drive streams now, and frames/s as the rate of tensorkart_inference_frames_total.
OPEN_STREAMS = Gauge("tensorkart_inference_open_streams", "Drive streams open on this replica")
REFUSED_STREAMS = Counter(
    "tensorkart_inference_streams_refused_total", "Drive streams refused with RESOURCE_EXHAUSTED (stream cap)"
)
