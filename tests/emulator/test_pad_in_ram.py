"""RAM reads show what the controller served: pad states go controller -> tensorkart-input (issue 13)
-> the game, and the game's RAM holds them (needs TENSORKART_TEST_ROM and the plugin built by `make plugin`).

No address is assumed: the test finds the bytes of the game's controller buffer that follow every served
stick value, in lock-step, and then checks the rest of that pad record (stick y, the A button)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tensorkart_emulator.plugins import TENSORKART_INPUT_PATHS
from tests.helpers import start_module

# [x, y, a, b, rb]; the controller maps x, -y to N64 units x80 (y negative = up = positive N64 y).
ACTIONS = [[-1, 0, 0, 0, 0], [0.5, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0.25, -0.5, 1, 0, 0]]
EXPECTED_X = [-80, 40, 0, 20]


def test_ram_shows_the_served_pad(run_scenario, test_rom, x_display, tmp_path: Path) -> None:
    plugin = next((path for path in TENSORKART_INPUT_PATHS if path.is_file()), None)
    if plugin is None:
        pytest.skip("tensorkart-input is not built (make plugin)")
    env = {"CONTROLLER_PORT": "0", "CONTROLLER_HTTP_PORT": "0", "CONTROLLER_METRICS_PORT": "0"}
    controller = start_module("tensorkart_controller", env, tmp_path / "controller.log", grpc=True, ports=("http",))
    port, http = controller.port("grpc"), controller.port("http")
    try:
        args = {
            "rom": str(test_rom),
            "controller": f"127.0.0.1:{port}",
            "pad_server": f"127.0.0.1:{http}",
            "input_plugin": str(plugin),
            "actions": ACTIONS,
        }
        result = run_scenario("pad_in_ram", args, display=x_display)
    finally:
        controller.terminate()
    rams = np.stack([np.frombuffer(bytes.fromhex(snapshot), dtype=np.int8) for snapshot in result["ram"]])
    follows = np.all(rams == np.array(EXPECTED_X, dtype=np.int8)[:, None], axis=0)
    followers = [int(a) for a in np.nonzero(follows)[0] if 2 <= a < rams.shape[1] - 1]
    assert followers, "no RAM byte followed the served stick x values"
    # An N64 pad record is buttons (16 bits, A = 0x8000), stick x, stick y: check the rest of it.
    buttons_high = rams.view(np.uint8)[:, [a - 2 for a in followers]] & 0x80
    a_pressed = [bool(now) and not before for now, before in zip(buttons_high[3], buttons_high[2], strict=True)]
    full = [a for a, pressed in zip(followers, a_pressed, strict=True) if rams[3][a + 1] == 40 and pressed]
    assert full, f"stick x follows at {[hex(a) for a in followers]}, but no record there has stick y 40 and A pressed"
