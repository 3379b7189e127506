"""`python -m tensorkart_emulator check-plugins` (what the n64 image's self-check runs): the real
core and plugins, attached to a blank cartridge in a child process; typed errors for a missing or
wrong plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tensorkart_emulator.plugins import DEBIAN_PLUGIN_DIR, default_input_plugin


def check_plugins(tmp_path: Path, display: str, **env: str) -> subprocess.CompletedProcess:
    variables = {**os.environ, "DISPLAY": display, "EMULATOR_CONFIG_DIR": str(tmp_path / "m64p"), **env}
    return subprocess.run(
        [sys.executable, "-m", "tensorkart_emulator", "check-plugins"],
        env=variables,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_plugin_attaches_to_the_core(x_display: str, tmp_path: Path) -> None:
    checked = check_plugins(tmp_path, x_display, EMULATOR_INPUT_BOT_HOST="127.0.0.1", EMULATOR_INPUT_BOT_PORT="8099")
    assert checked.returncode == 0, checked.stderr
    result = json.loads(checked.stdout.splitlines()[-1])
    assert result["core"]["name"] == "Mupen64Plus Core"
    assert set(result["plugins"]) == {"gfx", "rsp", "input"}
    assert result["plugins"]["input"]["path"] == str(default_input_plugin())
    assert "Rom closed" in checked.stderr  # the blank cartridge was opened, the plugins attached, then closed
    if default_input_plugin().name == "mupen64plus-input-tensorkart.so":
        assert result["plugins"]["input"]["name"] == "TensorKart input-bot plugin (tensorkart-input)"
        assert "controller 0: input-bot server 127.0.0.1:8099" in checked.stderr


def test_a_missing_or_wrong_plugin_is_named(x_display: str, tmp_path: Path) -> None:
    missing = check_plugins(tmp_path, x_display, EMULATOR_INPUT_PLUGIN="/nonexistent/input.so")
    assert missing.returncode == 2
    assert "input plugin /nonexistent/input.so: no such file" in missing.stderr
    rsp = DEBIAN_PLUGIN_DIR / "mupen64plus-rsp-hle.so"
    wrong = check_plugins(tmp_path, x_display, EMULATOR_INPUT_PLUGIN=str(rsp))
    assert wrong.returncode == 2
    assert f"input plugin {rsp}: it is a rsp plugin" in wrong.stderr
