"""Drivers: who presses the buttons for each game frame (expert, input-bot controller, gamepad)."""

from __future__ import annotations

from typing import Protocol

from tensorkart_simulator.game import Game
from tensorkart_simulator.pad import Pad

DRIVERS = ("expert", "controller", "gamepad")


class Driver(Protocol):
    # True when the action for frame n can only be known after frame n is published (an outside
    # agent looks at the picture first); the feed then carries the previous action with frame n.
    polls_after_publish: bool

    def act(self, game: Game) -> Pad:
        """The controller state for the current game frame."""
        ...

    def close(self) -> None: ...
