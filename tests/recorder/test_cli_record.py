"""`tensorkart record` end to end: the contract form with --source sim, and --source replay."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tensorkart_core.dataset import validate_dataset
from tests.helpers import REPO, free_port
from tests.recorder.support import make_dataset, start_recorder

TENSORKART = str(Path(REPO) / ".venv" / "bin" / "tensorkart")


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TENSORKART, *args],
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_record_sim_starts_a_private_recorder_when_none_answers(data_root):
    nobody = f"127.0.0.1:{free_port()}"
    done = run_cli(
        ["record", "--source", "sim", "--track", "luigi", "--seconds", "3", "--name", "cli-sim"],
        {"TENSORKART_DATA": str(data_root), "RECORDER_ADDR": nobody},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(data_root / "samples" / "cli-sim")
    assert "started a private one" in done.stderr
    assert "dropped 0" in done.stderr and "frames" in done.stderr
    report = validate_dataset(data_root, "cli-sim")
    assert report.valid, report.problems
    assert report.rows >= 80  # 3 simulated seconds at 30 Hz
    info = json.loads((data_root / "samples" / "cli-sim" / "session.json").read_text())
    assert info["track"] == "luigi" and info["source"] == "sim" and info["frames_dropped"] == 0


def test_record_replay_uses_the_running_recorder(start_service, data_root):
    make_dataset(data_root, "orig", 8)
    recorder = start_recorder(start_service, data_root)
    done = run_cli(
        ["record", "--source", "replay", "--dataset", "orig", "--rate", "0", "--name", "again", "--quiet"],
        {"TENSORKART_DATA": str(data_root), "RECORDER_ADDR": recorder.address},
    )
    assert done.returncode == 0, done.stderr
    assert "private" not in done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(data_root / "samples" / "again")
    assert validate_dataset(data_root, "again").rows == 8
    assert "recording to samples/again" in recorder.process.log()

    refused = run_cli(
        ["record", "--source", "replay", "--dataset", "orig", "--name", "again", "--quiet"],
        {"TENSORKART_DATA": str(data_root), "RECORDER_ADDR": recorder.address},
    )
    assert refused.returncode == 1 and "already exists" in refused.stderr
    bad = run_cli(["record", "--source", "replay", "--dataset", "orig", "--name", "../x"], {})
    assert bad.returncode == 2 and "name" in bad.stderr
