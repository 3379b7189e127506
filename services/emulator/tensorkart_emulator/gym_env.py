"""A Gymnasium 1.x environment over the emulator frontend (the real game in mupen64plus, in-process).

observation: the frame the video plugin rendered (height x width x 3); action: [x, y, a, b, rb] like
the practice track's environment (x, y in [-1, 1], buttons pressed above 0.5), set on the controller
service whose input-bot endpoint (pad_server) our input plugin polls; info: the frame number and the
game table's RAM values; reset: load the savestate (or, without one, a state saved at the first
frame); frame_skip: each action is held for that many frames; answer_delay k: the action answering
frame N drives frame N+k.
Reward and termination are pluggable, reward(previous_info, info) and terminate(info); the default
reward is the change of the table's `course_progress`, 0 when the table has none.

The core is process-global: one EmulatorEnv per process.
"""

from __future__ import annotations

import collections
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from tensorkart_core.proto.v1 import types_pb2
from tensorkart_emulator import m64p
from tensorkart_emulator.controller_link import ControllerLink
from tensorkart_emulator.frames import EmuFrame
from tensorkart_emulator.frontend import Frontend, FrontendOptions
from tensorkart_emulator.plugins import DEFAULT_PLUGINS
from tensorkart_emulator.ram import RamReader, check_table_fits, load_game_table

Info = dict[str, Any]
ACTION_LOW = np.array([-1, -1, 0, 0, 0], dtype=np.float32)
ACTION_HIGH = np.array([1, 1, 1, 1, 1], dtype=np.float32)


def progress_reward(previous: Info, info: Info) -> float:
    return float(info.get("course_progress", 0.0) - previous.get("course_progress", 0.0))


def joystick_of(action: np.ndarray) -> types_pb2.Joystick:
    x, y, a, b, rb = (float(v) for v in np.clip(action, ACTION_LOW, ACTION_HIGH))
    return types_pb2.Joystick(x=x, y=y, a=a > 0.5, b=b > 0.5, rb=rb > 0.5)


class EmulatorEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 60}

    def __init__(
        self,
        rom: str | Path,
        controller: str,
        state: str | Path | None = None,
        game: str | None = None,
        frame_skip: int = 1,
        answer_delay: int = 1,
        max_steps: int = 10_000,
        reward: Callable[[Info, Info], float] = progress_reward,
        terminate: Callable[[Info], bool] = lambda info: False,
        plugins: dict[m64p.PluginType, Path | None] | None = None,
        config_dir: str | Path | None = None,
        width: int = 640,
        height: int = 480,
        render_mode: str | None = None,
        pad_server: str = "127.0.0.1:8082",
    ) -> None:
        if frame_skip < 1 or answer_delay < 1:
            raise ValueError("frame_skip and answer_delay must be >= 1")
        self.state_path = Path(state) if state else None
        self.table = load_game_table(game) if game else None
        self.frame_skip, self.answer_delay, self.max_steps = frame_skip, answer_delay, max_steps
        self.reward_fn, self.terminate_fn = reward, terminate
        self.render_mode = render_mode
        host, _, port = pad_server.rpartition(":")
        self._workdir = Path(config_dir) if config_dir else Path(tempfile.mkdtemp(prefix="tensorkart-env-"))
        options = FrontendOptions(
            rom=Path(rom),
            config_dir=self._workdir,
            plugins=dict(plugins or DEFAULT_PLUGINS),
            lockstep=True,
            width=width,
            height=height,
            # Where our input plugin polls the pad: the controller's input-bot HTTP endpoint.
            config={"Input-Bot-Control0": {"plugged": True, "host": host, "port": int(port)}},
        )
        self.frontend = Frontend(options)
        self.link = ControllerLink(controller)
        self.observation_space = spaces.Box(0, 255, shape=(height, width, 3), dtype=np.uint8)
        self.action_space = spaces.Box(ACTION_LOW, ACTION_HIGH, dtype=np.float32)
        self._pending: collections.deque[tuple[int, types_pb2.Joystick]] = collections.deque()
        self._joystick = types_pb2.Joystick()
        self._frame: EmuFrame | None = None
        self._ram: RamReader | None = None
        self._info: Info = {}
        self._steps = 0

    def _observe(self, frame: EmuFrame) -> tuple[np.ndarray, Info]:
        self._frame = frame
        info: Info = {"frame": frame.index, "blank": frame.blank, "duplicate": frame.duplicate}
        if self._ram is not None:
            info.update(self._ram.snapshot())
        return frame.rgb, info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, Info]:
        super().reset(seed=seed)
        self._pending.clear()
        self._joystick = types_pb2.Joystick()
        if not self.frontend.running():
            frame = self.frontend.start()
            if self.table is not None:
                check_table_fits(self.table, self.frontend.rom.name)
                self._ram = RamReader(self.frontend.core.rdram(), self.table)
            if self.state_path is None:
                self.state_path = self.frontend.save_state(self._workdir / "reset.st")
        assert self.state_path is not None
        self.link.set(self._joystick, self.frontend.latest.index if self.frontend.latest else 0)
        frame = self.frontend.load_state(self.state_path)
        assert frame is not None
        self._steps = 0
        observation, self._info = self._observe(frame)
        return observation, dict(self._info)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, Info]:
        if self._frame is None:
            raise RuntimeError("call reset() before step()")
        self._pending.append((self._frame.index + self.answer_delay, joystick_of(np.asarray(action))))
        frame = self._frame
        for _ in range(self.frame_skip):
            while self._pending and self._pending[0][0] <= frame.index + 1:
                self._joystick = self._pending.popleft()[1]
            # Sent before every frame, so the controller's safety timeout never neutralises a held action.
            self.link.set(self._joystick, frame.index)
            frame = self.frontend.advance()
        self._steps += 1
        previous = self._info
        observation, self._info = self._observe(frame)
        reward = float(self.reward_fn(previous, self._info))
        terminated = bool(self.terminate_fn(self._info))
        truncated = not terminated and self._steps >= self.max_steps
        return observation, reward, terminated, truncated, dict(self._info)

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array" and self._frame is not None:
            return self._frame.rgb.copy()
        return None

    def close(self) -> None:
        self.frontend.stop()
        self.link.close()
