"""Lock-step with a seed is deterministic: same seed, same frames, same report."""

from __future__ import annotations

import hashlib

from tensorkart_simulator.options import SimOptions
from tensorkart_simulator.runner import Run


def play(seed: int, noise: float = 0.3) -> tuple[list[str], dict]:
    digests: list[str] = []
    options = SimOptions(
        track="heldout", laps=0, max_seconds=4.0, seed=seed, noise=noise, headless=True, realtime=False
    )
    report = Run(options, on_frame=lambda _n, rgb: digests.append(hashlib.sha256(rgb.tobytes()).hexdigest())).execute()
    report.pop("fps")  # wall-clock speed is the one thing allowed to differ
    return digests, report


def test_same_seed_same_frames_and_report() -> None:
    first_frames, first_report = play(seed=7)
    second_frames, second_report = play(seed=7)
    assert len(first_frames) == 4 * 30 + 1  # frames 0..120
    assert first_frames == second_frames
    assert first_report == second_report


def test_other_seed_other_driving() -> None:
    first_frames, _ = play(seed=7)
    other_frames, _ = play(seed=8)
    assert first_frames[0] == other_frames[0]  # same start
    assert first_frames[-1] != other_frames[-1]  # the noise differs, so the drive does


def play_themed(seed: int) -> tuple[list[str], dict]:
    digests: list[str] = []
    options = SimOptions(
        track="twists",
        laps=0,
        max_seconds=5.0,
        seed=seed,
        noise=0.3,
        headless=True,
        realtime=False,
        theme="night",
        theme_jitter=0.5,
        traffic=5,
    )
    report = Run(options, on_frame=lambda _n, rgb: digests.append(hashlib.sha256(rgb.tobytes()).hexdigest())).execute()
    report.pop("fps")
    return digests, report


def test_same_seed_same_frames_with_theme_jitter_and_traffic() -> None:
    first_frames, first_report = play_themed(seed=3)
    second_frames, second_report = play_themed(seed=3)
    other_frames, _ = play_themed(seed=4)
    assert first_frames == second_frames
    assert first_report == second_report
    assert first_frames[0] != other_frames[0]  # another seed: other jitter, other karts
