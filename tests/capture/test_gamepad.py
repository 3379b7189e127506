"""Pad mappings: presets, overrides, deadzone/inversion/range, and events through pygame's real queue."""

from __future__ import annotations

import pytest

from tensorkart_capture.gamepad import PRESETS, Gamepad, MappingError, PadMapping, map_state, normalise_axis


def test_normalise_axis_deadzone_range_and_inversion():
    assert normalise_axis(0.04, deadzone=0.05) == 0.0
    assert normalise_axis(-0.05, deadzone=0.05) == 0.0
    assert normalise_axis(1.0, deadzone=0.1) == pytest.approx(1.0)
    assert normalise_axis(-1.0, deadzone=0.1) == pytest.approx(-1.0)
    assert normalise_axis(0.55, deadzone=0.1) == pytest.approx(0.5)
    # An N64 pad that stops at 0.8 still reaches full lock.
    assert normalise_axis(0.8, deadzone=0.0, axis_range=0.8) == pytest.approx(1.0)
    assert normalise_axis(0.95, deadzone=0.0, axis_range=0.8) == pytest.approx(1.0)
    assert normalise_axis(0.5, deadzone=0.0, invert=True) == pytest.approx(-0.5)
    assert normalise_axis(float("nan"), deadzone=0.0) == 0.0


def test_presets_map_buttons_like_tensorkart():
    axes = [-1.0, 0.5, 0.0, 0.0, 0.0, 0.0]
    xbox = map_state(PRESETS["xbox"], axes, [True, False, True, False, False, True, False, False])
    assert xbox.x == pytest.approx(-1.0) and xbox.y > 0 and xbox.a and xbox.b and xbox.rb and not xbox.lb
    ds = [False] * 12
    ds[3] = ds[4] = True  # Square (b) and L1 (override)
    dualshock = map_state(PRESETS["dualshock"], axes, ds)
    assert dualshock.b and dualshock.lb and not dualshock.a
    n64 = [False] * 10
    n64[6] = n64[9] = True  # A and Start
    pad = map_state(PRESETS["n64"], [0.8, -0.8], n64)
    assert pad.a and pad.start and not pad.b
    assert pad.x == pytest.approx(1.0) and pad.y == pytest.approx(-1.0)
    # Missing axes/buttons read as neutral rather than failing.
    assert map_state(PRESETS["xbox"], [], []).x == 0.0


def test_mapping_parse_overrides_and_errors(tmp_path):
    mapping = PadMapping.parse("dualshock,invert_y=1,deadzone=0.2,z=none")
    assert mapping.name == "dualshock" and mapping.invert_y and mapping.deadzone == 0.2 and mapping.z is None
    custom = tmp_path / "pad.json"
    custom.write_text('{"axis_x": 3, "a": 1}')
    loaded = PadMapping.parse(f"{custom},b=9")
    assert (loaded.axis_x, loaded.a, loaded.b, loaded.name) == (3, 1, 9, "pad")
    assert PadMapping.parse("a=4").a == 4
    with pytest.raises(MappingError, match="unknown pad preset"):
        PadMapping.parse("gamecube")
    with pytest.raises(MappingError, match="KEY=VALUE"):
        PadMapping.parse("xbox,bogus=1")
    with pytest.raises(MappingError, match="deadzone"):
        PadMapping.parse("xbox,deadzone=1.5")
    with pytest.raises(MappingError, match="not a number"):
        PadMapping.parse("xbox,a=left")


def test_gamepad_follows_events_from_pygames_queue(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    import pygame

    mapping = PadMapping.parse("xbox,invert_y=1,deadzone=0.1")
    pad = Gamepad(mapping, index=0, require_device=False)
    instance = pad.instance_id
    try:
        assert pad.read() == map_state(mapping, [0.0] * 6, [False] * 16)

        def post(kind: int, **fields: object) -> None:
            pygame.event.post(pygame.event.Event(kind, instance_id=instance, joy=instance, **fields))

        post(pygame.JOYAXISMOTION, axis=0, value=-0.55)
        post(pygame.JOYAXISMOTION, axis=1, value=1.0)
        post(pygame.JOYBUTTONDOWN, button=0)
        post(pygame.JOYBUTTONDOWN, button=4)
        # An event of another pad is not ours.
        pygame.event.post(
            pygame.event.Event(pygame.JOYBUTTONDOWN, instance_id=instance + 7, joy=instance + 7, button=5)
        )
        state = pad.read()
        assert state.x == pytest.approx(-0.5)
        assert state.y == pytest.approx(-1.0)  # inverted
        assert state.a and state.lb and not state.rb and not state.b
        post(pygame.JOYBUTTONUP, button=0)
        post(pygame.JOYAXISMOTION, axis=0, value=0.05)
        state = pad.read()
        assert not state.a and state.lb and state.x == 0.0
    finally:
        pad.close()


def test_missing_gamepad_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    import pygame

    pygame.joystick.init()
    index = pygame.joystick.get_count() + 3
    with pytest.raises(RuntimeError, match="no gamepad"):
        Gamepad(PRESETS["xbox"], index=index)
