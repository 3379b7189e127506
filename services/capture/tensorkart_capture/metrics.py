"""Prometheus metrics of a capture process (served while `record` runs)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

FRAMES_CAPTURED = Counter("tensorkart_capture_frames_total", "Frames taken from the source")
FRAMES_SENT = Counter("tensorkart_capture_frames_sent_total", "Samples handed to the recorder stream")
FRAMES_ACKED = Counter("tensorkart_capture_frames_written_total", "Samples the recorder confirmed written")
FRAMES_REJECTED = Counter("tensorkart_capture_frames_rejected_total", "Samples the recorder rejected as malformed")
FRAMES_DROPPED = Counter(
    "tensorkart_capture_frames_dropped_total", "Frames lost before the recorder confirmed them", ["reason"]
)
RECONNECTS = Counter("tensorkart_capture_reconnects_total", "Record calls re-opened after one ended")
QUEUE_DEPTH = Gauge("tensorkart_capture_queue_depth", "Samples waiting to be sent")
CONNECTED = Gauge("tensorkart_capture_recorder_connected", "1 while a recorder stream is open")
