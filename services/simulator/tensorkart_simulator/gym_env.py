"""A Gymnasium 1.x environment over the practice track, driven in-process (no feed, no controller).

observation: the rendered 480x640x3 frame (what capture records); action: [x, y, a, b, rb] with x, y in
[-1, 1] (TensorKart's convention, PilotNet's outputs) and buttons pressed above 0.5; info: the game
state (frame, laps, progress, offset, speed, interventions, autonomy); reset: a fresh run on the track;
frame_skip: each action is held for that many 30 Hz game steps. Reward and termination are
pluggable: reward(previous_info, info) -> float (default: metres of progress along the centre line),
terminate(info) -> bool (default: the target number of laps done).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from tensorkart_simulator.game import Game
from tensorkart_simulator.pad import Pad
from tensorkart_simulator.render import OUT_H, OUT_W, Mode7Renderer
from tensorkart_simulator.track import Track, load_track

Info = dict[str, Any]
RewardFn = Callable[[Info, Info], float]
TerminateFn = Callable[[Info], bool]
ACTION_LOW = np.array([-1, -1, 0, 0, 0], dtype=np.float32)
ACTION_HIGH = np.array([1, 1, 1, 1, 1], dtype=np.float32)


def progress_reward(previous: Info, info: Info) -> float:
    """Metres driven along the centre line since the last step (negative when going backwards)."""
    return float(info["progress"] - previous["progress"])


def pad_of(action: np.ndarray) -> Pad:
    """The N64 pad an action vector [x, y, a, b, rb] stands for."""
    x, y, a, b, rb = (float(v) for v in np.clip(action, ACTION_LOW, ACTION_HIGH))
    return Pad.from_normalised(x, y, a=a > 0.5, b=b > 0.5, r=rb > 0.5)


class PracticeTrackEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(
        self,
        track: str | Track = "luigi",
        frame_skip: int = 1,
        laps: int = 1,
        max_steps: int = 3000,
        reward: RewardFn = progress_reward,
        terminate: TerminateFn | None = None,
        hud: bool = False,
        render_mode: str | None = None,
    ) -> None:
        if frame_skip < 1:
            raise ValueError(f"frame_skip must be >= 1, got {frame_skip}")
        self.track = track if isinstance(track, Track) else load_track(track)
        self.frame_skip = frame_skip
        self.laps = laps
        self.max_steps = max_steps
        self.reward_fn = reward
        self.terminate_fn = terminate or (lambda info: laps > 0 and info["laps"] >= laps)
        self.hud = hud
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0, 255, shape=(OUT_H, OUT_W, 3), dtype=np.uint8)
        self.action_space = spaces.Box(ACTION_LOW, ACTION_HIGH, dtype=np.float32)
        self._game: Game | None = None
        self._renderer: Mode7Renderer | None = None
        self._frame: np.ndarray | None = None
        self._info: Info = {}
        self._steps = 0

    def _observe(self) -> tuple[np.ndarray, Info]:
        assert self._game is not None and self._renderer is not None
        game = self._game
        self._frame = self._renderer.render()
        info = {
            "frame": game.frame,
            "laps": game.laps,
            "lap_times": list(game.lap_times),
            "progress": game.progress,
            "offset": game.offset,
            "speed_kmh": game.speed_kmh(),
            "interventions": game.interventions,
            "sim_seconds": game.sim_seconds,
            "autonomy": game.autonomy,
        }
        return self._frame, info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, Info]:
        super().reset(seed=seed)  # the practice track is deterministic; the seed only feeds self.np_random
        self._game = Game(self.track)
        self._renderer = Mode7Renderer(self._game, hud=self.hud, laps=self.laps)
        self._steps = 0
        frame, self._info = self._observe()
        return frame, dict(self._info)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, Info]:
        if self._game is None:
            raise RuntimeError("call reset() before step()")
        pad = pad_of(np.asarray(action, dtype=np.float32))
        for _ in range(self.frame_skip):
            self._game.step(pad)
        self._steps += 1
        previous = self._info
        frame, self._info = self._observe()
        reward = float(self.reward_fn(previous, self._info))
        terminated = bool(self.terminate_fn(self._info))
        truncated = not terminated and self._steps >= self.max_steps
        return frame, reward, terminated, truncated, dict(self._info)

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array":
            return None if self._frame is None else self._frame.copy()
        return None


ENV_ID = "TensorKart/PracticeTrack-v0"
if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point=PracticeTrackEnv)
