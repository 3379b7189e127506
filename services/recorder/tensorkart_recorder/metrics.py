"""Prometheus metrics of the recorder (served on RECORDER_METRICS_PORT at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

FRAMES_RECEIVED = Counter("tensorkart_recorder_frames_received_total", "Samples received over Record streams")
FRAMES_WRITTEN = Counter("tensorkart_recorder_frames_written_total", "Samples whose image and row are on disk")
FRAMES_REJECTED = Counter("tensorkart_recorder_frames_rejected_total", "Malformed samples answered INVALID_ARGUMENT")
WRITE_FAILURES = Counter("tensorkart_recorder_write_failures_total", "Images that could not be written")
LIVE_SESSIONS = Gauge("tensorkart_recorder_live_sessions", "Record streams currently open")
STREAMS_REFUSED = Counter(
    "tensorkart_recorder_streams_refused_total", "Record streams refused with RESOURCE_EXHAUSTED (stream cap)"
)
PENDING = Gauge("tensorkart_recorder_pending_frames", "Frames received but not yet on disk")
ENCODE_SECONDS = Histogram(
    "tensorkart_recorder_encode_seconds",
    "PNG encode + write + rename of one frame",
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1),
)
