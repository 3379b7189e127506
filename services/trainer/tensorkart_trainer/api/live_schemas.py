"""Response models of the live view (/v1/live) and saliency routes."""

from __future__ import annotations

from pydantic import BaseModel


class LiveAgreement(BaseModel):
    """Model vs human steering over the tapped frames that had both (shadow mode, overrides)."""

    frames: int = 0
    mean_abs_dx: float | None = None
    within_0_1: float | None = None


class LiveSim(BaseModel):
    """The practice track's figures so far."""

    laps: int
    interventions: int
    sim_seconds: float
    autonomy: float


class LiveFrameMeta(BaseModel):
    """One live frame's meta, as the edge relay's live tap publishes it."""

    session: str
    seq: int
    t: float
    width: int
    height: int
    model_x: float | None = None
    human_x: float | None = None
    model_version: str = ""
    source: str = "model"
    override: bool = False
    shadow: bool = False
    stale: bool = False
    latency_ms: float | None = None
    agreement: LiveAgreement = LiveAgreement()
    sim: LiveSim | None = None
    fps: float = 0.0
    publish_ms: float | None = None
    published: int = 0
    dropped: int = 0
    ended: bool = False


class LiveSessions(BaseModel):
    sessions: list[LiveFrameMeta]
