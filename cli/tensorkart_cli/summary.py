"""Results a person can read: the live lap / interventions / autonomy figures and the one-line summary
printed before the JSON report of `sim`, `play` and `eval`."""

from __future__ import annotations

from typing import Any

# CONTRACT.md: autonomy = max(0, 1 - interventions x 6 s / simulated seconds).
SECONDS_PER_INTERVENTION = 6.0


def autonomy(interventions: int, sim_seconds: float) -> float:
    if sim_seconds <= 0:
        return 1.0
    return max(0.0, 1.0 - interventions * SECONDS_PER_INTERVENTION / sim_seconds)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def live_figures(laps: int, interventions: int, sim_seconds: float, finished: bool = False) -> str:
    """`lap 2  interventions 1  autonomy 0.93` (the lap being driven), from the practice track's latest frame."""
    where = _plural(laps, "lap") + " done" if finished else f"lap {laps + 1}"
    return f"{where}  interventions {interventions}  autonomy {autonomy(interventions, sim_seconds):.2f}"


def summary_line(report: dict[str, Any] | None, model: str | None = None) -> str:
    """One sentence from the contract report ({"track", "driver"|"model", "laps", "sim_seconds", ...});
    `model`: the version that drove through the controller, when the caller knows it."""
    if not report:
        return "no report from the practice track"
    model = report.get("model") or model
    who = f"model {model}" if model else f"the {report.get('driver', '?')} driver"
    return (
        f"{who} drove {_plural(int(report.get('laps', 0)), 'lap')} of {report.get('track', '?')} in "
        f"{float(report.get('sim_seconds', 0)):.1f} simulated s: "
        f"{_plural(int(report.get('interventions', 0)), 'intervention')}, "
        f"autonomy {float(report.get('autonomy', 0)):.2f} ({float(report.get('fps', 0)):.0f} fps)"
    )
