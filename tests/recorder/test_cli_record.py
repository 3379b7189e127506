"""`tensorkart record` end to end: the contract form with --source sim, and --source replay."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tensorkart_core.dataset import validate_dataset
from tests.helpers import NOBODY, REPO
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
    nobody = NOBODY
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

    bad = run_cli(["record", "--source", "replay", "--dataset", "orig", "--name", "../x"], {})
    assert bad.returncode == 2 and "name" in bad.stderr


def one_error_line(done: subprocess.CompletedProcess) -> str:
    """The command's stderr is exactly one line `error: <what> — <fix>`, no traceback."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and " — " in lines[0], lines[0]
    return lines[0]


def test_a_taken_name_is_refused_before_anything_is_captured(start_service, data_root):
    """Case 1: the refusal comes when the session opens, names --resume, and the dataset stays as it was."""
    make_dataset(data_root, "orig", 8)
    make_dataset(data_root, "luigi-20", 5)
    folder = data_root / "samples" / "luigi-20"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    recorder = start_recorder(start_service, data_root)
    env = {"TENSORKART_DATA": str(data_root), "RECORDER_ADDR": recorder.address}
    for source in (["--source", "sim", "--seconds", "20"], ["--source", "replay", "--dataset", "orig"]):
        done = run_cli(["record", *source, "--name", "luigi-20"], env)
        assert done.returncode == 1
        line = one_error_line(done)
        assert "dataset 'luigi-20' already exists" in line and "--resume" in line
        assert "fps" not in done.stderr and "dropped" not in done.stderr  # no progress line: nothing captured
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert "recording to samples/luigi-20" not in recorder.process.log()

    nobody = NOBODY  # no recorder: the data root a private one would write to is checked
    done = run_cli(
        ["record", "--source", "sim", "--seconds", "20", "--name", "luigi-20"], {**env, "RECORDER_ADDR": nobody}
    )
    assert done.returncode == 1 and "--resume" in one_error_line(done)
    assert "private" not in done.stderr


def test_record_refusal_at_open_reaches_the_streamer_before_capture(start_service, data_root):
    """The streamer itself waits for the recorder's answer: a name taken between check and start loses no frame."""
    from tensorkart_capture.runner import RecordOptions, record
    from tensorkart_capture.sources.replay import ReplaySource
    from tensorkart_capture.streamer import RecorderUnavailable

    make_dataset(data_root, "orig", 8)
    make_dataset(data_root, "taken", 3)
    recorder = start_recorder(start_service, data_root)
    source = ReplaySource(data_root, "orig", rate_hz=0)
    pulled: list[int] = []
    original = source.frames

    def counting():
        for frame in original():
            pulled.append(frame.sequence)
            yield frame

    source.frames = counting
    options = RecordOptions(name="taken", source="replay", recorder_addr=recorder.address, data_root=data_root)
    try:
        record(options, source=source)
    except RecorderUnavailable as error:
        assert error.code.name == "ALREADY_EXISTS"
    else:
        raise AssertionError("the recorder accepted a taken name")
    assert pulled == []  # not one frame was read from the source


def test_bad_record_options_fail_at_once_with_one_line(data_root):
    """Case 4: --seconds 0 names --seconds (not an option the user never typed); screen without a display."""
    env = {"TENSORKART_DATA": str(data_root), "RECORDER_ADDR": NOBODY}
    zero = run_cli(["record", "--source", "sim", "--seconds", "0", "--name", "z"], env)
    assert zero.returncode == 2
    assert one_error_line(zero) == "error: --seconds must be positive, got 0 — e.g. --seconds 20"
    no_display = run_cli(["record", "--source", "screen", "--seconds", "5", "--name", "z"], {**env, "DISPLAY": ""})
    assert no_display.returncode == 2 and "needs a display" in one_error_line(no_display)
    track = run_cli(["record", "--source", "sim", "--track", "nowhere", "--name", "z"], env)
    assert track.returncode == 2 and "unknown track 'nowhere'" in one_error_line(track)
    assert not (data_root / "samples" / "z").exists()


def test_the_capture_process_is_refused_before_it_captures(start_service, data_root):
    """`python -m tensorkart_capture record` on an edge host: the same refusal at open, naming --resume."""
    import sys

    make_dataset(data_root, "orig", 8)
    make_dataset(data_root, "taken", 3)
    before = (data_root / "samples" / "taken" / "data.csv").read_bytes()
    recorder = start_recorder(start_service, data_root)
    done = subprocess.run(
        [sys.executable, "-m", "tensorkart_capture", "record", "--source", "replay", "--data", str(data_root),
         "--dataset", "orig", "--name", "taken", "--recorder", recorder.address, "--metrics-port", "0"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1 and done.stdout == ""  # no totals: nothing was captured
    assert "error: dataset 'taken' already exists on the recorder" in done.stderr and "--resume" in done.stderr
    assert "Traceback" not in done.stderr
    assert (data_root / "samples" / "taken" / "data.csv").read_bytes() == before
