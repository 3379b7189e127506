"""Prometheus metrics of the controller (served by the shared bootstrap on CONTROLLER_METRICS_PORT)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PLAY_LOOP_SECONDS = Histogram(
    "tensorkart_play_loop_latency_seconds",
    "Frame capture (edge monotonic clock) -> controller state updated from the steering answering it",
    ["source"],
    buckets=(0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.033, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5),
)
STEERING_RECEIVED = Counter("tensorkart_controller_steering_received_total", "Steering commands received", ["source"])
STEERING_APPLIED = Counter(
    "tensorkart_controller_steering_applied_total", "Steering commands that set a pad's state", ["source"]
)
STEERING_STALE = Counter(
    "tensorkart_controller_steering_stale_total",
    "Steering not applied because it was stale (marked stale by inference, or older than the last applied)",
    ["source"],
)
STEERING_IGNORED = Counter(
    "tensorkart_controller_steering_ignored_total",
    "Steering not applied by policy (shadow mode, human override, invalid values)",
    ["source", "reason"],
)
POLLS = Counter("tensorkart_controller_polls_total", "Input-bot polls answered", ["port"])
BAD_REQUESTS = Counter("tensorkart_controller_http_bad_requests_total", "Input-bot requests answered 4xx", ["status"])
LOCK_STEP_TIMEOUTS = Counter(
    "tensorkart_controller_lock_step_timeouts_total", "Lock-step polls answered because the wait timed out", ["port"]
)
NEUTRAL_FALLBACKS = Counter(
    "tensorkart_controller_neutral_fallbacks_total",
    "Times a pad fell back to neutral (stick centred, A released) because steering stopped arriving",
    ["port"],
)
SHADOW_PAIRS = Counter(
    "tensorkart_controller_shadow_pairs_total", "Frames with both model and human steering", ["port"]
)
SHADOW_MEAN_ABS_DX = Gauge(
    "tensorkart_controller_shadow_mean_abs_dx", "Mean |x_model - x_human| over the recent agreement window", ["port"]
)
SHADOW_AGREEMENT = Gauge(
    "tensorkart_controller_shadow_agreement_ratio",
    "Fraction of recent frame pairs with |x_model - x_human| <= 0.1",
    ["port"],
)
HUMAN_OVERRIDE = Gauge("tensorkart_controller_human_override", "1 while human steering drives the pad", ["port"])
LOCK_STEP_LATE = Counter(
    "tensorkart_controller_lock_step_late_total",
    "Lock-step steering for a frame captured before the last poll was answered (applied, releases no poll)",
    ["source"],
)
