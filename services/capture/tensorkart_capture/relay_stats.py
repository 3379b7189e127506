"""What the edge play relay did (RelayStats) and its one-line progress display."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class RelayStats:
    """What the relay did; `dropped` frames never reached the model."""

    captured: int = 0
    sent: int = 0
    answered: int = 0
    stale: int = 0
    invalid: int = 0
    spec_mismatches: int = 0  # answers refused as pre-processed for another spec (a hot swap)
    pushed: int = 0  # steering this relay sent to the controller (human, and every model answer)
    human_pushed: int = 0
    overrides: int = 0
    dropped_old: int = 0
    dropped_queue_full: int = 0
    dropped_disconnected: int = 0
    lost_in_flight: int = 0
    inference_reconnects: int = 0
    controller_reconnects: int = 0
    models: list[str] = field(default_factory=list)
    latency_p50_ms: float = 0.0  # capture -> steering handed to the controller stream (edge clock)
    latency_p99_ms: float = 0.0
    agreement: dict[str, float] = field(default_factory=dict)
    interventions: dict[str, object] = field(default_factory=dict)

    @property
    def dropped(self) -> int:
        return self.dropped_old + self.dropped_queue_full + self.dropped_disconnected + self.lost_in_flight

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "dropped": self.dropped}


def progress_line(stats: RelayStats, agreement: dict[str, float] | None = None) -> str:
    line = (
        f"\rframes {stats.captured}  answered {stats.answered}  stale {stats.stale}  dropped {stats.dropped}"
        f"  loop p50 {stats.latency_p50_ms:.1f} ms  model {stats.models[-1] if stats.models else '-'}"
    )
    if stats.overrides:
        line += f"  overrides {stats.overrides}"
    if agreement:
        line += f"  agreement {100 * agreement.get('within_0_1', 0):.0f}% (|dx| {agreement.get('mean_abs_dx', 0):.2f})"
    return line + "   "
