"""`tensorkart emulator ...` and `tensorkart record --source emulator` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.helpers import NOBODY, TENSORKART


def _tensorkart(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TENSORKART, *args], env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )


def test_check_names_a_bad_rom_and_describes_the_plugins(tmp_path: Path) -> None:
    bad = _tensorkart("emulator", "check", "--rom", str(tmp_path / "missing.z64"))
    assert bad.returncode == 2 and "missing.z64: no such file" in bad.stderr
    folder = _tensorkart("emulator", "check", "--rom", str(tmp_path))
    assert folder.returncode == 2 and "not a regular file" in folder.stderr
    header_only = tmp_path / "header.z64"  # passes the header check, so the plugins are checked next
    header_only.write_bytes(bytes.fromhex("80371240") + bytes(8188))
    plugin = _tensorkart("emulator", "check", "--rom", str(header_only), "--video", "/nonexistent/video.so")
    assert plugin.returncode == 2 and "gfx plugin /nonexistent/video.so: no such file" in plugin.stderr


def test_check_and_save_state_with_a_rom(test_rom, x_display, tmp_path: Path) -> None:
    checked = _tensorkart("emulator", "check", "--rom", str(test_rom))
    assert checked.returncode == 0, checked.stderr
    described = json.loads(checked.stdout.splitlines()[-1])
    assert described["byte_order"] in ("z64", "v64", "n64") and described["gfx"]["path"].endswith(".so")
    out = tmp_path / "start.st"
    env = {"DISPLAY": x_display, "SDL_AUDIODRIVER": "dummy", "EMULATOR_CONFIG_DIR": str(tmp_path / "m64p")}
    saved = _tensorkart(
        "emulator", "save-state", "--rom", str(test_rom), "--out", str(out), "--at-frame", "30", env=env
    )
    assert saved.returncode == 0, saved.stderr
    assert json.loads(saved.stdout.splitlines()[-1]) == {"savestate": str(out.resolve()), "frame": 30}


def test_record_source_emulator_writes_a_valid_dataset(start_emulator, tmp_path: Path) -> None:
    emulator, address = start_emulator("emu.log", EMULATOR_MAX_FRAMES="45")
    try:
        data = tmp_path / "data"
        recorded = _tensorkart(
            "record", "--source", "emulator", "--name", "emu", "--data", str(data), "--quiet",
            env={"EMULATOR_ADDR": address, "RECORDER_ADDR": NOBODY},
        )  # fmt: skip
    finally:
        emulator.terminate()
    assert recorded.returncode == 0, recorded.stderr
    assert recorded.stdout.strip().splitlines()[-1] == str(data / "samples" / "emu")
    rows = (data / "samples" / "emu" / "data.csv").read_text().splitlines()
    assert len(rows) == 45
    valid = _tensorkart("datasets", "validate", "emu", "--data", str(data))
    assert valid.returncode == 0, valid.stderr


def test_eval_source_emulator_needs_a_rom() -> None:
    done = _tensorkart("eval", "--model", "any", "--source", "emulator")
    assert done.returncode == 2 and "--source emulator needs --rom" in done.stderr
