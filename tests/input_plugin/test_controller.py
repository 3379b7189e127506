"""The plugin, driven through the real core, against the real TensorKart controller service
(a real process, steering in over gRPC): what the controller serves on each of the four
ports is what GetKeys hands the emulator."""

from __future__ import annotations

import time

from tests.input_plugin.support import settings_for

# port -> (x, y, buttons) steering; the controller maps x/y to N64 units (x 1.0 = 80, y negated).
STEERING = {
    0: (-1.0, 0.0, {}),
    1: (0.5, -0.25, {"b": True}),
    2: (0.0, 1.0, {"z": True, "start": True}),
    3: (0.3, 0.0, {"rb": True, "b": True}),
}


def expected(controller_pad: dict[str, int]) -> tuple[list[str], int, int]:
    """The BUTTONS fields the emulator should get for the controller's own JSON reply."""
    order = ("START_BUTTON", "Z_TRIG", "B_BUTTON", "A_BUTTON", "R_TRIG", "L_TRIG")
    pressed = sorted(key for key in order if controller_pad[key])
    return pressed, controller_pad["X_AXIS"], controller_pad["Y_AXIS"]


def test_all_four_pads_round_trip(start_controller, poller):
    controller = start_controller(safety_timeout_ms="60000")
    for port, (x, y, buttons) in STEERING.items():
        controller.set(x, y, port=port, frame=1, **buttons)
    settings = [s for port in range(4) for s in settings_for(controller.http_port, controller=port, timeout_ms=3000)]
    child = poller(settings)
    for port in range(4):
        pad = child.poll(port)
        want = expected(controller.poll(port))
        assert (sorted(pad["buttons"]), pad["x"], pad["y"]) == want, (port, pad)
    assert (child.poll(0)["x"], child.poll(1)["x"], child.poll(2)["y"]) == (-80, 40, -80)
    # The state changes between polls reach the emulator on the next poll.
    controller.set(0.75, 0.0, port=0, frame=2)
    assert child.poll(0)["x"] == 60
    child.quit()


def test_controller_configured_like_mupen64plus_set(start_controller, poller):
    """Values as `mupen64plus --set` stores them (strings)."""
    controller = start_controller(safety_timeout_ms="60000")
    controller.set(-0.5, 0.0, port=0, frame=1)
    child = poller(settings_for(controller.http_port, timeout_ms=3000), as_strings=True)
    pads = child.polls(0, 200)
    assert pads["last"]["x"] == -40 and "A_BUTTON" in pads["last"]["buttons"]
    assert not child.plugin_logs(level=2), child.plugin_logs()
    child.quit()


def test_controller_safety_fallback_reaches_the_game_as_neutral(start_controller, poller):
    controller = start_controller(safety_timeout_ms="500")
    child = poller(settings_for(controller.http_port, timeout_ms=3000))
    controller.set(1.0, 0.0, port=0, frame=1)
    assert child.poll(0)["x"] == 80
    time.sleep(1.0)  # no fresh steering for longer than the controller's safety timeout
    assert child.poll(0)["value"] == 0
    child.quit()
