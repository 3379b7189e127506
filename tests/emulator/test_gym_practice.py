"""The Gymnasium environment over the practice track (tensorkart_simulator.gym_env)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env

from tensorkart_simulator.gym_env import ENV_ID, PracticeTrackEnv


def test_practice_track_env_passes_gymnasiums_checker() -> None:
    env = gym.make(ENV_ID, max_steps=50, render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=False)
    env.close()


def test_reset_restarts_the_track_and_replays_identically() -> None:
    env = PracticeTrackEnv(frame_skip=2, max_steps=40)
    full_throttle_left = np.array([-0.3, 0, 1, 0, 0], dtype=np.float32)
    runs = []
    for _ in range(2):
        first, info = env.reset()
        assert info["frame"] == 0 and info["progress"] == 0
        frames, rewards = [first], []
        for _ in range(20):
            frame, reward, terminated, truncated, info = env.step(full_throttle_left)
            assert not (terminated or truncated)
            frames.append(frame)
            rewards.append(reward)
        runs.append((frames, rewards, info))
    (frames_a, rewards_a, info_a), (frames_b, rewards_b, info_b) = runs
    assert all(np.array_equal(a, b) for a, b in zip(frames_a, frames_b, strict=True))
    assert info_a == info_b
    assert rewards_a == rewards_b and info_a["frame"] == 40  # frame skip 2: 20 steps = 40 game frames
    assert sum(rewards_a) > 5  # accelerating: metres of progress
    assert not np.array_equal(frames_a[0], frames_a[-1])


def test_reward_and_termination_are_pluggable() -> None:
    env = PracticeTrackEnv(
        reward=lambda previous, info: -abs(info["offset"]),
        terminate=lambda info: info["frame"] >= 6,
        max_steps=100,
    )
    env.reset()
    done, steps = False, 0
    while not done:
        _, reward, done, truncated, _ = env.step(np.array([0, 0, 1, 0, 0], dtype=np.float32))
        assert reward <= 0 and not truncated
        steps += 1
    assert steps == 6
