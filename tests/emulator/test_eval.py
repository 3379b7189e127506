"""`tensorkart eval --source emulator` end to end on a homebrew ROM (no Mario Kart 64): the emulator
frontend's feed -> capture relay -> inference (a real model version) -> controller -> tensorkart-input
-> the game, in lock-step, until the time cap; the report is the emulator's. What only Mario Kart 64
can show (laps, progress and lap times from its RAM) is not checked here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.inference.conftest import model_bank  # noqa: F401 - shared fixture (a bank of small models)
from tests.inference.modelbank import install


def test_eval_drives_the_emulator_through_the_whole_loop(
    model_bank: Path,  # noqa: F811
    data_root: Path,
    test_rom: Path,
    x_display: str,
) -> None:
    install(model_bank, data_root, "va")
    env = {**os.environ, "TENSORKART_DATA": str(data_root), "DISPLAY": x_display, "SDL_AUDIODRIVER": "dummy"}
    # inputcpu's table names no lap or course_progress (and fits any ROM): the run ends at the time cap.
    done = subprocess.run(
        [sys.executable, "-m", "tensorkart_cli.main", "eval", "--model", "va", "--source", "emulator",
         "--rom", str(test_rom), "--game", "inputcpu", "--max-seconds", "2"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["model"] == "va" and report["lockstep"] is True
    assert report["frames"] == 120 and report["gaps"] == 0  # 2 s of game time at the table's 60 frames/s
    relay = json.loads(next(line for line in done.stderr.splitlines() if line.startswith("relay: "))[7:])
    assert relay["models"] == ["va"]
    assert relay["answered"] >= report["frames"] - 1 and relay["dropped"] == 0
