"""Soft delete and restore (`tensorkart datasets delete/restore`, tensorkart_core.datasets.curation):
deleted rows move to deleted.csv and come back in their original order; data.csv stays readable by
numpy.loadtxt exactly as TensorKart's utils.py reads it; bad ranges change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tensorkart_cli.main import app
from tensorkart_core import datasets as ds
from tests.trainer.tinydata import make_dataset

runner = CliRunner()
FRAMES = 10


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["datasets", *args])
    return result.exit_code, result.output


def utils_py_load(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """TensorKart utils.py's load_sample: image paths and the five joystick values of data.csv."""
    csv = str(folder / "data.csv")
    image_files = np.loadtxt(csv, delimiter=",", dtype=str, usecols=(0,))
    joystick_values = np.loadtxt(csv, delimiter=",", usecols=(1, 2, 3, 4, 5))
    return image_files, joystick_values


@pytest.fixture
def run(data_root: Path) -> Path:
    make_dataset(data_root, "run", frames=FRAMES, width=32, height=24)
    return data_root / "samples" / "run"


def test_delete_moves_rows_aside_and_restore_puts_them_back_in_order(data_root: Path, run: Path) -> None:
    original = (run / "data.csv").read_bytes()
    code, out = cli("delete", "run", "--from", "3", "--to", "5", "--data", str(data_root))
    assert code == 0, out
    assert json.loads(out.splitlines()[-1]) == {"name": "run", "count": 10, "kept": 7, "deleted_count": 3, "changed": 3}
    images, values = utils_py_load(run)
    assert list(images) == [f"samples/run/img_{n}.png" for n in (0, 1, 2, 6, 7, 8, 9)]
    assert values.shape == (7, 5)
    assert (run / "deleted.csv").read_text().splitlines() == original.decode().splitlines()[3:6]
    assert [s.path for s in ds.scan(data_root, "run").samples] == [
        str(run / f"img_{n}.png") for n in (0, 1, 2, 6, 7, 8, 9)
    ]
    line = ds.timeline(data_root, "run")
    assert line["count"] == 10 and line["deleted_count"] == 3
    assert line["frames"]["deleted"] == [n in (3, 4, 5) for n in range(10)]
    assert line["frames"]["t"] == pytest.approx([n / 10 for n in range(10)])  # session.json rate_hz 10

    # A second, overlapping range: frames 8..9 and the already deleted 5 (changes 2).
    code, out = cli("delete", "run", "--from", "5", "--to", "9", "--data", str(data_root))
    assert code == 0 and json.loads(out.splitlines()[-1])["changed"] == 4  # 6, 7, 8, 9
    code, out = cli("restore", "run", "--from", "4", "--to", "7", "--data", str(data_root))
    assert code == 0 and json.loads(out.splitlines()[-1])["kept"] == 3 + 4
    assert list(utils_py_load(run)[0]) == [f"samples/run/img_{n}.png" for n in (0, 1, 2, 4, 5, 6, 7)]
    code, out = cli("restore", "run", "--from", "0", "--to", "9", "--data", str(data_root))
    assert code == 0, out
    assert (run / "data.csv").read_bytes() == original  # every row back, in the original order
    assert not (run / "deleted.csv").exists()
    assert ds.validate_dataset(data_root, "run").valid


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [("4", "2", "after its end"), ("0", "10", "out of range"), ("-1", "3", "negative"), ("12", "12", "out of range")],
)
def test_a_bad_range_is_refused_and_changes_nothing(data_root: Path, run: Path, start, end, message) -> None:
    cli("delete", "run", "--from", "1", "--to", "1", "--data", str(data_root))
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    code, out = cli("delete", "run", "--from", start, "--to", end, "--data", str(data_root))
    assert code != 0 and message in out, out
    code, out = cli("restore", "run", "--from", start, "--to", end, "--data", str(data_root))
    assert code != 0 and message in out, out
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_unknown_dataset_and_unordered_rows_are_refused(data_root: Path, run: Path) -> None:
    code, out = cli("delete", "nope", "--from", "0", "--data", str(data_root))
    assert code != 0 and "not found" in out
    rows = (run / "data.csv").read_text().splitlines()
    shuffled = "\n".join([rows[1], rows[0], *rows[2:]]) + "\n"
    (run / "data.csv").write_text(shuffled)
    code, out = cli("delete", "run", "--from", "0", "--to", "1", "--data", str(data_root))
    assert code != 0 and "increasing img_<n> order" in out
    assert (run / "data.csv").read_text() == shuffled and not (run / "deleted.csv").exists()


def test_a_dataset_being_recorded_is_not_curated(data_root: Path, run: Path) -> None:
    (run / "session.json").write_text(json.dumps({"rate_hz": 10, "segments": [{"started": "x", "ended": None}]}))
    code, out = cli("delete", "run", "--from", "0", "--data", str(data_root))
    assert code != 0 and "being recorded" in out and not (run / "deleted.csv").exists()


def test_a_row_left_in_both_files_by_a_crash_counts_as_deleted_and_is_tidied(data_root: Path, run: Path) -> None:
    rows = (run / "data.csv").read_text().splitlines(keepends=True)
    (run / "deleted.csv").write_text(rows[2])  # crash after deleted.csv was written, before data.csv
    assert [f.deleted for f in ds.frames(data_root, "run")] == [n == 2 for n in range(FRAMES)]
    ds.delete_range(data_root, "run", 9, 9)
    assert len((run / "data.csv").read_text().splitlines()) == FRAMES - 2
    assert (run / "deleted.csv").read_text() == rows[2] + rows[9]


def test_frame_images_follow_every_change_of_the_csv_files(data_root: Path, run: Path) -> None:
    assert ds.frame_image(data_root, "run", 9) == run / "img_9.png"
    ds.delete_range(data_root, "run", 8, 9)
    assert ds.frame_image(data_root, "run", 9) == run / "img_9.png"  # deleted frames can still be shown
    ds.restore_range(data_root, "run", 8, 9)
    rows = (run / "data.csv").read_text().splitlines(keepends=True)
    (run / "data.csv").write_text("".join(rows[:5]))  # edited by hand: five frames left
    with pytest.raises(IndexError, match="has 5 frames"):
        ds.frame_image(data_root, "run", 9)
