"""Fixtures of the emulator tests: scenarios in child processes, a private Xvfb, the test ROM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import ServiceProcess, start_module, xvfb_server
from tests.roms import first_test_rom

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def x_display() -> Iterator[str]:
    with xvfb_server() as display:
        yield display


@pytest.fixture
def test_rom() -> Path:
    return first_test_rom("a homebrew N64 ROM that renders through the RSP (e.g. jsdf/n64-sdk-demo's squaresdemo)")


ScenarioRunner = Callable[..., dict]


@pytest.fixture
def run_scenario(tmp_path: Path) -> ScenarioRunner:
    """Run tests.emulator.scenarios NAME in a child process; returns its JSON result (fails on a crash)."""

    def run(name: str, args: dict, display: str | None = None, timeout: float = 120) -> dict:
        args = {"config_dir": str(tmp_path / "m64p"), **args}
        env = dict(os.environ, SDL_AUDIODRIVER="dummy")
        if display:
            env["DISPLAY"] = display
        process = subprocess.run(
            [sys.executable, "-m", "tests.emulator.scenarios", name, json.dumps(args)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        lines = process.stdout.strip().splitlines()
        if process.returncode != 0 or not lines:
            pytest.fail(
                f"scenario {name} exited {process.returncode}:\n{process.stdout[-3000:]}\n{process.stderr[-3000:]}"
            )
        return json.loads(lines[-1])

    return run


EmulatorStarter = Callable[..., tuple[ServiceProcess, str]]


@pytest.fixture
def start_emulator(test_rom: Path, x_display: str, tmp_path: Path) -> EmulatorStarter:
    """Start the emulator service on the test ROM (extra settings as EMULATOR_* keywords); (process, feed address)."""

    def start(log_name: str = "emulator.log", **settings: str) -> tuple[ServiceProcess, str]:
        env = {
            "DISPLAY": x_display,
            "SDL_AUDIODRIVER": "dummy",
            "EMULATOR_ROM": str(test_rom),
            "EMULATOR_PORT": "0",
            "EMULATOR_METRICS_PORT": "0",
            "EMULATOR_CONFIG_DIR": str(tmp_path / "m64p"),
            **settings,
        }
        process = start_module("tensorkart_emulator", env, tmp_path / log_name, args=["run"], grpc=True)
        return process, process.address("grpc")

    return start
