"""Driving quality on the real game from RAM: laps and lap times, progress, and interventions.

Fed one RAM snapshot per frame (a game table naming `lap` and `course_progress`, e.g. mk64). The game
puts a kart back on the road itself (Lakitu), so an intervention is counted the way the practice
track counts a stuck kart: the course progress has not grown for STALL_SECONDS (off the road, stuck,
or driving the wrong way), after which the clock restarts. autonomy is the practice track's (PilotNet's)
formula, max(0, 1 - interventions * 6 s / seconds). Not verified on Mario Kart 64 (no ROM may be used).
"""

from __future__ import annotations

from typing import Any

STALL_SECONDS = 3.0
INTERVENTION_PENALTY_S = 6.0
REQUIRED = ("lap", "course_progress")


class RaceTracker:
    def __init__(self, frames_per_second: float, laps_target: int = 0, max_seconds: float | None = None) -> None:
        self.fps = frames_per_second
        self.laps_target = laps_target
        self.max_seconds = max_seconds
        self.first_frame: int | None = None
        self.seconds = 0.0
        self.laps = 0
        self.lap_times: list[float] = []
        self.progress = 0.0
        self.interventions = 0
        self._lap_started = 0.0
        self._best = float("-inf")
        self._mark = 0.0

    def update(self, frame: int, values: dict[str, Any]) -> None:
        if self.first_frame is None:
            self.first_frame = frame
        self.seconds = (frame - self.first_frame) / self.fps
        lap = int(values["lap"])
        self.progress = float(values["course_progress"])
        if lap > self.laps:
            self.lap_times.extend([self.seconds - self._lap_started] + [0.0] * (lap - self.laps - 1))
            self.laps, self._lap_started = lap, self.seconds
        if self.progress > self._best:
            self._best, self._mark = self.progress, self.seconds
        elif self.seconds - self._mark >= STALL_SECONDS:
            self.interventions += 1
            self._mark = self.seconds

    def done(self) -> bool:
        if self.laps_target and self.laps >= self.laps_target:
            return True
        return self.max_seconds is not None and self.seconds >= self.max_seconds

    @property
    def autonomy(self) -> float:
        if self.seconds <= 0:
            return 1.0 if self.interventions == 0 else 0.0
        return max(0.0, 1.0 - self.interventions * INTERVENTION_PENALTY_S / self.seconds)

    def report(self) -> dict[str, Any]:
        return {
            "laps": self.laps,
            "lap_times": [round(t, 3) for t in self.lap_times],
            "sim_seconds": round(self.seconds, 3),
            "interventions": self.interventions,
            "autonomy": round(self.autonomy, 4),
            "course_completion": self.progress,
        }
