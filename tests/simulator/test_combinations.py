"""The expert keeps autonomy 1.0 on every built-in (track, theme) with traffic: one full lap each,
headless, through the real runner (render included). Traffic 0 is covered by test_expert and the
other traffic levels, without rendering, by test_traffic."""

from __future__ import annotations

import pytest

from tensorkart_simulator.options import SimOptions
from tensorkart_simulator.runner import run
from tensorkart_simulator.themes import BUILTIN_THEMES
from tensorkart_simulator.track import BUILTIN_TRACKS


@pytest.mark.parametrize("theme", BUILTIN_THEMES)
@pytest.mark.parametrize("track", BUILTIN_TRACKS)
def test_expert_full_autonomy_on_every_track_theme_with_traffic(track: str, theme: str) -> None:
    options = SimOptions(track=track, theme=theme, traffic=6, laps=1, headless=True, seed=4, hud=False)
    report = run(options)
    assert report["laps"] == 1
    assert report["interventions"] == 0
    assert report["autonomy"] == 1.0
