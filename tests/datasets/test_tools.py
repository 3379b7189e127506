"""`tensorkart datasets`: validate / list / inspect / flip / trim / import / sheet on real files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from tensorkart_cli.main import app
from tensorkart_core.dataset import read_rows
from tests.recorder.support import make_dataset, picture

runner = CliRunner()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["datasets", *args])
    return result.exit_code, result.output


def original_format(data_root: Path, name: str, count: int = 6) -> list[np.ndarray]:
    """A dataset as TensorKart's record.py wrote it on Windows: csv.writer rows with CRLF, no session.json."""
    pictures = make_dataset(data_root, name, count)
    path = data_root / "samples" / name / "data.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    return pictures


def test_validate_accepts_a_dataset_in_the_original_format(data_root):
    original_format(data_root, "workshop")
    code, out = cli("validate", "workshop", "--data", str(data_root))
    assert code == 0, out
    assert "valid (6 frames)" in out
    values = np.loadtxt(data_root / "samples/workshop/data.csv", delimiter=",", usecols=(1, 2, 3, 4, 5))
    assert values.shape == (6, 5)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("missing", "img_2.png is missing"),
        ("truncated", "not a complete PNG"),
        ("malformed", "expected 6 comma-separated fields"),
        ("range", "out of range"),
        ("button", "buttons must be 0 or 1"),
        ("partial", "incomplete"),
    ],
)
def test_validate_reports_each_problem_and_fails(data_root, damage, expected):
    make_dataset(data_root, "bad", 5)
    folder = data_root / "samples" / "bad"
    csv = folder / "data.csv"
    lines = csv.read_text().splitlines(keepends=True)
    if damage == "missing":
        (folder / "img_2.png").unlink()
    elif damage == "truncated":
        data = (folder / "img_1.png").read_bytes()
        (folder / "img_1.png").write_bytes(data[: len(data) // 2])
    elif damage == "malformed":
        lines[3] = "samples/bad/img_3.png,0.5\n"
    elif damage == "range":
        lines[1] = lines[1].replace(",0.0,", ",1.5,", 1)
    elif damage == "button":
        lines[0] = lines[0].rstrip("\n").rsplit(",", 1)[0] + ",2\n"
    elif damage == "partial":
        lines[-1] = lines[-1].rstrip("\n")
    csv.write_text("".join(lines))
    code, out = cli("validate", "bad", "--data", str(data_root))
    assert code == 1
    assert expected in out


def test_validate_unknown_or_badly_named_dataset(data_root):
    code, out = cli("validate", "nothing", "--data", str(data_root))
    assert code == 1 and "no such dataset" in out
    code, out = cli("validate", "../etc", "--data", str(data_root))
    assert code == 2 and "name" in out


def test_list_and_inspect_show_frames_duration_and_steering(data_root):
    original_format(data_root, "workshop", 11)
    code, out = cli("list", "--data", str(data_root), "--json")
    assert code == 0
    [entry] = json.loads(out)
    assert entry["name"] == "workshop" and entry["frames"] == 11 and entry["resolution"] == "64x48"
    counts = entry["steering_histogram"]["counts"]
    assert len(counts) == 21 and sum(counts) == 11 and max(counts) == 1  # x spread evenly over [-1, 1]
    assert entry["duration_s"] is None  # the original format does not record the rate
    code, out = cli("list", "--data", str(data_root))
    assert code == 0 and "workshop" in out and "11" in out
    (data_root / "samples/workshop/session.json").write_text(json.dumps({"rate_hz": 5, "source": "screen"}))
    code, out = cli("inspect", "workshop", "--data", str(data_root))
    assert code == 0 and json.loads(out)["duration_s"] == 2.2


def test_flip_mirrors_images_and_negates_x(data_root):
    pictures = original_format(data_root, "run")
    before = (data_root / "samples/run/data.csv").read_bytes()
    code, out = cli("flip", "run", "--data", str(data_root))
    assert code == 0, out
    assert out.strip().splitlines()[-1] == str(data_root / "samples" / "run-flip")
    original, _ = read_rows(data_root / "samples/run/data.csv")
    flipped, _ = read_rows(data_root / "samples/run-flip/data.csv")
    assert [r.image for r in flipped] == [f"samples/run-flip/img_{i}.png" for i in range(6)]
    assert [r.x for r in flipped] == [-r.x for r in original]
    assert [(r.y, r.a, r.b, r.rb) for r in flipped] == [(r.y, r.a, r.b, r.rb) for r in original]
    for row, rgb in zip(flipped, pictures, strict=True):
        assert np.array_equal(np.asarray(Image.open(data_root / row.image)), rgb[:, ::-1])
    assert (data_root / "samples/run/data.csv").read_bytes() == before
    info = json.loads((data_root / "samples/run-flip/session.json").read_text())
    assert info["derived_from"] == "run"
    code, out = cli("flip", "run", "--data", str(data_root))
    assert code == 1 and "already exists" in out


def test_trim_drops_head_and_tail(data_root):
    make_dataset(data_root, "run", 10)
    code, out = cli("trim", "run", "--head", "2", "--tail", "3", "--out", "core", "--data", str(data_root))
    assert code == 0, out
    original, _ = read_rows(data_root / "samples/run/data.csv")
    trimmed, _ = read_rows(data_root / "samples/core/data.csv")
    assert [r.outputs for r in trimmed] == [r.outputs for r in original[2:7]]
    for row, source in zip(trimmed, original[2:7], strict=True):
        assert (data_root / row.image).read_bytes() == (data_root / source.image).read_bytes()
    code, out = cli("trim", "run", "--head", "6", "--tail", "4", "--out", "empty", "--data", str(data_root))
    assert code == 1 and "leaves nothing" in out
    assert not (data_root / "samples/empty").exists() or not any((data_root / "samples/empty").iterdir())


def test_import_rewrites_paths_and_refuses_a_broken_folder(data_root, tmp_path):
    download = tmp_path / "download" / "luigi_run"
    download.mkdir(parents=True)
    lines = []
    for i in range(4):
        Image.fromarray(picture(i, 64, 48)).save(download / f"img_{i}.png")
        lines.append(f"samples\\luigi_run\\img_{i}.png,{i / 4},0,1,0,0\r\n")  # a Windows recording
    (download / "data.csv").write_text("".join(lines), newline="")

    code, out = cli("import", str(download), "--name", "luigi", "--data", str(data_root))
    assert code == 0, out
    rows, _ = read_rows(data_root / "samples/luigi/data.csv")
    assert [r.image for r in rows] == [f"samples/luigi/img_{i}.png" for i in range(4)]
    assert [r.x for r in rows] == [0, 0.25, 0.5, 0.75]
    assert np.array_equal(np.asarray(Image.open(data_root / rows[3].image)), picture(3, 64, 48))
    code, out = cli("validate", "luigi", "--data", str(data_root))
    assert code == 0, out

    (download / "img_2.png").unlink()
    code, out = cli("import", str(download), "--name", "broken", "--data", str(data_root))
    assert code == 1 and "img_2.png not found" in out
    assert not (data_root / "samples/broken").exists()
    code, out = cli("import", str(download), "--name", "partial", "--skip-bad", "--data", str(data_root))
    assert code == 0 and "skipped" in out
    assert len(read_rows(data_root / "samples/partial/data.csv")[0]) == 3


def test_contact_sheet_draws_the_steering(data_root, tmp_path):
    make_dataset(data_root, "run", 9, width=160, height=120)
    out = tmp_path / "sheet.png"
    code, text = cli("sheet", "run", "--count", "9", "--columns", "3", "--out", str(out), "--data", str(data_root))
    assert code == 0, text
    sheet = np.asarray(Image.open(out).convert("RGB"))
    assert sheet.shape == (3 * (150 + 4) + 4, 3 * (200 + 4) + 4, 3)
    # First frame steers full left (a red bar), the last full right (a green bar).
    first = sheet[4 : 4 + 150, 4 : 4 + 200]
    last = sheet[4 + 2 * 154 : 4 + 2 * 154 + 150, 4 + 2 * 204 : 4 + 2 * 204 + 200]
    assert (np.all(first[-10:, :100] == (230, 60, 60), axis=-1)).sum() > 100
    assert (np.all(last[-10:, 100:] == (60, 220, 90), axis=-1)).sum() > 100
