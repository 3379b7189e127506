"""With a homebrew ROM (TENSORKART_TEST_ROM, skipped otherwise) under a private Xvfb: frame-exact capture,
lock-step, savestate replay. The ROM must hand the RSP graphics tasks (the core counts a frame per task):
e.g. jsdf/n64-sdk-demo's public-domain squaresdemo.n64, which Debian's rice plugin renders."""

from __future__ import annotations

ADVANCES = 40


def test_lockstep_frames_are_numbered_without_gaps_and_carry_the_picture(run_scenario, test_rom, x_display) -> None:
    result = run_scenario("lockstep", {"rom": str(test_rom), "frames": ADVANCES}, display=x_display)
    indices = result["indices"]
    # N advances give N frames, numbered by the core's own counter, one apart.
    assert len(indices) == ADVANCES + 1
    assert indices == list(range(indices[0], indices[0] + ADVANCES + 1))
    assert result["callbacks"] == ADVANCES + 1 and result["gaps"] == 0
    assert result["shape"] == [480, 640, 3]
    # The picture the video plugin rendered: not blank (the very first frame may be), and it changes.
    assert not any(result["blank"][1:])
    assert result["distinct"] > ADVANCES // 2


def test_savestate_reload_reproduces_frames_and_ram(run_scenario, test_rom, x_display) -> None:
    result = run_scenario("replay", {"rom": str(test_rom), "warmup": 10, "frames": 30}, display=x_display)
    first, second, third = result["runs"]
    assert len(second["digests"]) == 30
    assert len(set(second["digests"])) > 1
    # Replays with the same history are identical bit for bit, pictures and RAM.
    assert second["digests"] == third["digests"]
    assert second["ram"] == third["ram"]
    # The game state replays exactly every time. (The first replay's pictures may differ in a few pixels:
    # with squaresdemo, 11 pixels of its timing bar on row 0, carried over by the video plugin.)
    assert first["ram"] == second["ram"]
    # A bad savestate is refused with a typed error, and the emulator goes on.
    assert result["bad"]["kind"] == "bad_savestate"
    assert result["alive"] > 0


def test_free_run_delivers_every_frame_in_order(run_scenario, test_rom, x_display) -> None:
    result = run_scenario("free_run", {"rom": str(test_rom), "seconds": 2.0}, display=x_display)
    indices = result["indices"]
    assert len(indices) > 30
    assert indices == list(range(indices[0], indices[0] + len(indices)))
