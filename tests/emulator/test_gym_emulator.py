"""The Gymnasium environment over the emulator, with a real controller service (needs TENSORKART_TEST_ROM)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import start_module


def test_emulator_env_steps_resets_and_sets_the_controller(run_scenario, test_rom, x_display, tmp_path: Path) -> None:
    env = {"CONTROLLER_PORT": "0", "CONTROLLER_HTTP_PORT": "0", "CONTROLLER_METRICS_PORT": "0"}
    controller = start_module("tensorkart_controller", env, tmp_path / "controller.log", grpc=True, ports=("http",))
    port, http = controller.port("grpc"), controller.port("http")
    try:
        result = run_scenario(
            "gym_episodes",
            {"rom": str(test_rom), "controller": f"127.0.0.1:{port}", "pad_server": f"127.0.0.1:{http}"},
            display=x_display,
        )
    finally:
        controller.terminate()
    first, second, third = result["episodes"]
    for episode in result["episodes"]:
        start = episode["frames"][0]
        # frame_skip 2: every step is two of the core's frames.
        assert episode["frames"] == list(range(start, start + 17, 2))
        # What the controller serves is the action, in N64 units (x from -1 to +0.75 by 0.25).
        assert episode["sticks"] == [-80, -60, -40, -20, 0, 20, 40, 60]
    # reset = load the savestate: the same game state every episode, the same pictures once the
    # video plugin's history is the same too (see test_rom.py).
    assert first["ram"] == second["ram"] == third["ram"]
    assert second["digests"] == third["digests"]
