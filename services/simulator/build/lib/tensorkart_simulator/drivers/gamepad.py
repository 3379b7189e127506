"""The gamepad driver: a real gamepad through pygame (left stick, A, B, right bumper).

Button numbers follow the common Xbox-style SDL layout (A = 0, B = 1, RB = 5); override them
with SIMULATOR_PAD_A / SIMULATOR_PAD_B / SIMULATOR_PAD_RB.
"""

from __future__ import annotations

import os

from tensorkart_simulator.game import Game
from tensorkart_simulator.pad import Pad


class GamepadDriver:
    polls_after_publish = False

    def __init__(self, index: int = 0) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        self.pygame = pygame
        if not pygame.display.get_init():  # the event queue needs a video system, even headless
            os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
            pygame.display.init()
        pygame.joystick.init()
        if pygame.joystick.get_count() <= index:
            raise SystemExit(f"no gamepad found (pygame sees {pygame.joystick.get_count()}); plug one in")
        self.stick = pygame.joystick.Joystick(index)
        self.stick.init()
        self.buttons = {
            "a": int(os.environ.get("SIMULATOR_PAD_A", "0")),
            "b": int(os.environ.get("SIMULATOR_PAD_B", "1")),
            "rb": int(os.environ.get("SIMULATOR_PAD_RB", "5")),
        }

    def _button(self, name: str) -> bool:
        number = self.buttons[name]
        return number < self.stick.get_numbuttons() and bool(self.stick.get_button(number))

    def act(self, game: Game) -> Pad:
        self.pygame.event.pump()
        return Pad.from_normalised(
            self.stick.get_axis(0),
            self.stick.get_axis(1),
            a=self._button("a"),
            b=self._button("b"),
            r=self._button("rb"),
        )

    def close(self) -> None:
        self.stick.quit()
