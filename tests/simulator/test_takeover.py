"""The DAgger supervisor: the expert takes over before a wandering driver leaves the road, hands
back once recovered, and its advice (LB while in control) goes out on the feed."""

from __future__ import annotations

import pytest

from tensorkart_simulator.drivers.takeover import ExpertTakeover
from tensorkart_simulator.game import Game
from tensorkart_simulator.options import SimOptions
from tensorkart_simulator.pad import Pad
from tensorkart_simulator.runner import sim_frame
from tensorkart_simulator.track import load_track


@pytest.mark.parametrize("track", ["luigi", "heldout"])
def test_the_expert_saves_a_wandering_driver_and_hands_back(track: str) -> None:
    game = Game(load_track(track))
    supervisor = ExpertTakeover(seed=1)
    handbacks = 0
    was_active = False
    while game.laps < 1:
        advice, active = supervisor.advise(game)
        handbacks += was_active and not active
        was_active = active
        # The "model": full throttle, a constant pull to the right.
        game.step(advice if active else Pad.from_normalised(0.35, 0.0, a=True))
        assert game.frame < 30 * 200
    assert supervisor.takeovers >= 3
    assert handbacks >= supervisor.takeovers - 1
    assert 0 < supervisor.frames < game.frame
    assert game.interventions == 0, game.intervention_log


def test_a_good_driver_is_left_alone() -> None:
    game = Game(load_track("twists"))
    supervisor = ExpertTakeover(seed=2)
    while game.laps < 1:
        advice, active = supervisor.advise(game)
        assert not active
        game.step(advice)
    assert supervisor.takeovers == 0


def test_the_feed_carries_lb_while_the_expert_has_control() -> None:
    import numpy as np

    game = Game(load_track("luigi"))
    rgb = np.zeros((480, 640, 3), dtype=np.uint8)
    assert sim_frame(game, rgb, Pad(x_axis=40), False, lb=True).joystick.lb
    assert not sim_frame(game, rgb, Pad(x_axis=40), False).joystick.lb


def test_takeover_needs_the_feed() -> None:
    with pytest.raises(ValueError, match="--takeover expert needs --feed-port"):
        SimOptions(takeover="expert").check()


def test_a_takeover_budget_ends_the_run_once_spent() -> None:
    from tensorkart_simulator.runner import Run

    run = Run(SimOptions(track="luigi", headless=True, feed=True, takeover="expert", takeover_budget=0.5))
    assert not run.done()
    run.supervisor.frames = 14  # 30 frames a second: 0.467 s of takeovers
    assert not run.done()
    run.supervisor.frames = 15
    assert run.budget_spent() and run.done()


def test_a_takeover_budget_needs_the_expert() -> None:
    with pytest.raises(ValueError, match="--takeover-budget needs --takeover expert"):
        SimOptions(feed=True, takeover_budget=3.0).check()
    with pytest.raises(ValueError, match="--takeover-budget must be >= 0"):
        SimOptions(feed=True, takeover="expert", takeover_budget=-1.0).check()
