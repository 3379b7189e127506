"""The real core without a ROM (CI): library and Debian plugins load and start, configuration round-trips,
and bad input gets a clear, typed error from real library calls."""

from __future__ import annotations

from pathlib import Path

from tensorkart_emulator.plugins import DEBIAN_PLUGIN_DIR


def test_core_starts_and_every_debian_plugin_loads(run_scenario) -> None:
    result = run_scenario("plugins", {})["plugins"]
    assert result["mupen64plus-video-rice.so"]["type"] == "GFX"
    assert result["mupen64plus-rsp-hle.so"]["type"] == "RSP"
    assert result["mupen64plus-input-sdl.so"]["type"] == "INPUT"
    assert result["mupen64plus-input-sdl.so"]["api"] >= 0x020100
    assert len(result) == 7


def test_config_round_trips_and_is_saved(run_scenario, tmp_path: Path) -> None:
    result = run_scenario("config", {"config_dir": str(tmp_path / "cfg")})
    assert result["osd"] is False
    assert result["path"] == "/tmp/states/"
    assert result["width"] == 320
    assert abs(result["ratio"] - 0.25) < 1e-6
    assert result["missing"]["kind"] == "core_call"
    assert result["missing"]["code"] == "INPUT_NOT_FOUND"
    saved = (tmp_path / "cfg" / "mupen64plus.cfg").read_text()
    assert "[TensorKart-Test]" in saved
    assert "ScreenWidth = 320" in saved


def test_rom_errors_name_the_problem(run_scenario, tmp_path: Path) -> None:
    junk = tmp_path / "picture.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64)
    short = tmp_path / "short.z64"
    short.write_bytes(bytes.fromhex("80371240") + b"\0" * 100)
    folder = tmp_path / "folder.z64"
    folder.mkdir()
    cases = {
        "none": "",
        "missing": str(tmp_path / "nothing.z64"),
        "folder": str(folder),
        "not_n64": str(junk),
        "short": str(short),
    }
    result = run_scenario("rom_errors", {"cases": cases})
    assert result["none"]["kind"] == "no_rom"
    assert result["missing"]["kind"] == "no_rom" and "nothing.z64" in result["missing"]["message"]
    assert result["folder"]["kind"] == "unreadable_rom"
    assert result["not_n64"]["kind"] == "not_n64_rom" and "89504e47" in result["not_n64"]["message"]
    assert result["short"]["kind"] == "not_n64_rom" and "too short" in result["short"]["message"]
    # The core itself refuses what our check stops: the error is typed and names the ROM.
    assert result["core_refuses"]["kind"] == "not_n64_rom"
    assert result["core_refuses"]["code"] == "INPUT_INVALID"


def test_plugin_errors_name_the_plugin(run_scenario, tmp_path: Path) -> None:
    not_a_plugin = tmp_path / "libnothing.so"
    not_a_plugin.write_bytes(b"\x7fELF garbage")
    cases = {
        "missing": ("GFX", "/usr/lib/x86_64-linux-gnu/mupen64plus/mupen64plus-video-nothing.so"),
        "relative": ("GFX", "mupen64plus-video-rice.so"),
        "wrong_type": ("INPUT", str(DEBIAN_PLUGIN_DIR / "mupen64plus-video-rice.so")),
        "not_a_plugin": ("GFX", str(not_a_plugin)),
        "not_mupen": ("GFX", "/lib/x86_64-linux-gnu/libz.so.1"),
    }
    result = run_scenario("plugin_errors", {"cases": cases})
    assert result["missing"]["kind"] == "missing_plugin" and "video-nothing" in result["missing"]["message"]
    assert result["relative"]["kind"] == "missing_plugin" and "full path" in result["relative"]["message"]
    assert result["wrong_type"]["kind"] == "bad_plugin" and "gfx plugin" in result["wrong_type"]["message"]
    assert result["not_a_plugin"]["kind"] == "bad_plugin"
    assert result["not_mupen"]["kind"] == "bad_plugin"


def test_frontend_start_refuses_bad_rom_and_plugin_before_running(run_scenario, tmp_path: Path) -> None:
    junk = tmp_path / "junk.n64"
    junk.write_bytes(b"\0" * 8192)
    cases = {
        "no_rom": {"rom": ""},
        "junk": {"rom": str(junk)},
        "missing_video": {"rom": str(junk), "video": "/nonexistent/mupen64plus-video-x.so"},
    }
    result = run_scenario("start_errors", {"cases": cases})
    assert result["no_rom"]["kind"] == "no_rom"
    assert result["junk"]["kind"] == "not_n64_rom"
    # The ROM is checked first: a bad ROM is reported even when a plugin is missing too.
    assert result["missing_video"]["kind"] == "not_n64_rom"
