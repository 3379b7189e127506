"""Laps, lap times and interventions from per-frame RAM values (the arithmetic of tensorkart_emulator.race)."""

from __future__ import annotations

from tensorkart_emulator.race import RaceTracker


def test_laps_lap_times_and_stalls() -> None:
    tracker = RaceTracker(frames_per_second=30, laps_target=2)
    frame = 0
    for lap, seconds in ((0, 20.0), (1, 18.0)):
        for step in range(int(seconds * 30)):
            tracker.update(frame, {"lap": lap, "course_progress": lap * 100 + step / (seconds * 30) * 100})
            frame += 1
    # Stuck for 7 s: two interventions (at 3 s and 6 s of no progress).
    for _ in range(7 * 30):
        tracker.update(frame, {"lap": 1, "course_progress": 199.0})
        frame += 1
    assert not tracker.done()
    tracker.update(frame, {"lap": 2, "course_progress": 200.0})
    assert tracker.done()
    report = tracker.report()
    assert report["laps"] == 2 and report["interventions"] == 2
    assert report["lap_times"][0] == 20.0 and abs(report["lap_times"][1] - 25.0) < 0.05
    assert abs(report["autonomy"] - (1 - 2 * 6 / report["sim_seconds"])) < 1e-3


def test_time_cap_ends_a_race_that_never_finishes() -> None:
    tracker = RaceTracker(frames_per_second=30, laps_target=1, max_seconds=2.0)
    for frame in range(61):
        tracker.update(frame, {"lap": 0, "course_progress": 0.0})
    assert tracker.done() and tracker.report()["laps"] == 0
