"""One controller port's state (`Pad`), the operating mode (`Config`) and what serving it needs:
pre-built input-bot replies and each steering source's metric children."""

from __future__ import annotations

import functools
import socket
from dataclasses import dataclass, field

from prometheus_client import Counter, Histogram

from tensorkart_controller import metrics
from tensorkart_controller.agreement import AgreementTracker
from tensorkart_controller.httpwire import PORTS, response
from tensorkart_controller.mapping import NEUTRAL, PadState
from tensorkart_controller.settings import Mode
from tensorkart_core.proto.v1 import types_pb2

HUMAN = types_pb2.STEERING_SOURCE_HUMAN
MODEL = types_pb2.STEERING_SOURCE_MODEL
SAFETY = types_pb2.STEERING_SOURCE_SAFETY
SOURCE_LABELS = {0: "unspecified", MODEL: "model", HUMAN: "human", SAFETY: "safety"}
# Latencies beyond this are clocks that do not match (not the edge host's), not measurements.
MAX_PLAUSIBLE_LATENCY_NS = 60 * 1_000_000_000


@functools.lru_cache(maxsize=4096)
def ok_reply(state: PadState) -> bytes:
    """The input-bot reply for `state`; cached: a drive revisits the same few hundred states."""
    return response("200 OK", state.as_json())


NEUTRAL_REPLY = ok_reply(NEUTRAL)
# Resolved once: label lookups would otherwise sit on every poll's path.
POLLS_BY_PORT = [metrics.POLLS.labels(str(port)) for port in range(PORTS)]


@dataclass(frozen=True)
class SourceMetrics:
    """One steering source's metric children, resolved once (label lookups take a lock each)."""

    received: Counter
    applied: Counter
    latency: Histogram

    @classmethod
    def of(cls, label: str) -> SourceMetrics:
        return cls(
            metrics.STEERING_RECEIVED.labels(label),
            metrics.STEERING_APPLIED.labels(label),
            metrics.PLAY_LOOP_SECONDS.labels(label),
        )


SOURCE_METRICS = {source: SourceMetrics.of(label) for source, label in SOURCE_LABELS.items()}


class InvalidSteering(ValueError):
    """Steering that cannot be applied (bad port, non-finite stick values)."""


@dataclass
class Config:
    """The controller's operating mode; `shadow` is one pad's (each pad has its own, starting
    from CONTROLLER_SHADOW)."""

    mode: Mode
    shadow: bool
    lock_step_timeout_ms: int


@dataclass
class Pad:
    """One controller port's state and bookkeeping."""

    port: int
    agreement: AgreementTracker
    state: PadState = NEUTRAL
    reply: bytes = NEUTRAL_REPLY
    source: int = 0
    frame_sequence: int = 0
    model_version: str = ""
    applied_ns: int = 0  # when steering last set the state; 0 = never
    # Lock-step: steering has arrived since the last poll was answered (at `answered_ns`)
    # that answers a newer frame than that poll did.
    lock_step_ready: bool = False
    answered_ns: int = 0
    human_ns: int = 0  # arrival of the last human steering
    neutral: bool = True  # in neutral fallback (or never driven)
    shadow: bool = False  # model steering is only compared on this pad; the human drives it
    last_capture_ns: dict[int, int] = field(default_factory=dict)
    waiting: list[tuple[socket.socket, int]] = field(default_factory=list)
