"""The game window (pygame), so screen capture can grab the practice track like the emulator.

The window opens at the top-left of the screen (SDL_VIDEO_WINDOW_POS defaults to 0,0), 640x480,
and shows each rendered frame exactly, pixel for pixel.
"""

from __future__ import annotations

import os

import numpy as np

from tensorkart_simulator.render import OUT_H, OUT_W

# SDL video drivers that show nothing on any screen.
INVISIBLE_DRIVERS = ("offscreen", "dummy")


class GameWindow:
    def __init__(self, title: str = "TensorKart practice track") -> None:
        os.environ.setdefault("SDL_VIDEO_WINDOW_POS", "0,0")
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        self.pygame = pygame
        pygame.display.init()
        # Without a display SDL falls back to an invisible "offscreen" / "dummy" driver: a run that
        # shows nothing must not pass for a windowed one.
        if pygame.display.get_driver() in INVISIBLE_DRIVERS and os.environ.get("SDL_VIDEODRIVER") is None:
            pygame.display.quit()
            raise SystemExit(
                "tensorkart sim: no display to open the game window on (DISPLAY is not set?); use --headless"
            )
        try:
            self.screen = pygame.display.set_mode((OUT_W, OUT_H))
        except pygame.error as error:
            raise SystemExit(
                f"tensorkart sim: cannot open the game window ({error}); is DISPLAY set? Use --headless without one"
            ) from None
        pygame.display.set_caption(title)

    def show(self, frame: np.ndarray) -> None:
        surface = self.pygame.image.frombuffer(np.ascontiguousarray(frame).tobytes(), (OUT_W, OUT_H), "RGB")
        self.screen.blit(surface, (0, 0))
        self.pygame.display.flip()

    def closed(self) -> bool:
        """Handle window events; True once the user closed the window or pressed Escape."""
        pygame = self.pygame
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                return True
        return False

    def close(self) -> None:
        self.pygame.display.quit()
