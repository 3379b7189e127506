"""The image-path rule (tensorkart_core.datasets.paths) is one: a data.csv that `datasets validate`
accepts trains, for every supported way of naming the image. Each form gets its own dataset; the
validator, the trainer's scan, `tensorkart prepare` and one real training job through the API
and a worker all read every frame of every one."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tensorkart_cli.main import app
from tensorkart_core import datasets as trainer_datasets
from tensorkart_core.datasets import CSV_NAME, Row, session_rows, validate_dataset
from tests.trainer.conftest import wait_for
from tests.trainer.tinydata import make_dataset

FRAMES = 6
# form name -> how a row names img_<n>.png of dataset <name>
FORMS = {
    "root-relative": lambda name, n: f"samples/{name}/img_{n}.png",
    "csv-relative": lambda name, n: f"img_{n}.png",
    "workshop-other-run": lambda name, n: f"samples/2017-05-01_run3/img_{n}.png",
    "windows-separators": lambda name, n: f"samples\\{name}\\img_{n}.png",
    "windows-absolute": lambda name, n: f"C:\\Users\\kevin\\TensorKart\\samples\\run\\img_{n}.png",
    "posix-absolute-elsewhere": lambda name, n: f"/home/someone/tensorkart/samples/run/img_{n}.png",
}


def _dataset_in_form(data_root: Path, form: str) -> str:
    name = f"form-{form}"
    rows = make_dataset(data_root, name, frames=FRAMES, width=64, height=48, seed=len(form))
    renamed = [Row(FORMS[form](name, n), r.x, r.y, r.a, r.b, r.rb) for n, r in enumerate(rows)]
    (data_root / "samples" / name / CSV_NAME).write_text("".join(r.to_csv() for r in renamed))
    return name


@pytest.mark.parametrize("form", FORMS)
def test_every_path_form_validates_scans_and_prepares(data_root: Path, form: str) -> None:
    name = _dataset_in_form(data_root, form)
    report = validate_dataset(data_root, name)
    assert report.valid, report.problems
    validated = CliRunner().invoke(app, ["datasets", "validate", name, "--data", str(data_root)])
    assert validated.exit_code == 0, validated.output  # what a user runs accepts it
    scan = trainer_datasets.scan(data_root, name)
    assert not scan.bad_rows and not scan.bad_images, (scan.bad_rows, scan.bad_images)
    folder = data_root / "samples" / name
    assert [Path(s.path) for s in scan.samples] == [folder / f"img_{n}.png" for n in range(FRAMES)]
    paths, values = session_rows(folder, data_root)
    assert [Path(p).resolve() for p in paths] == [(folder / f"img_{n}.png").resolve() for n in range(FRAMES)]
    assert values.shape == (FRAMES, 5)


def test_a_path_outside_the_data_root_is_not_read(data_root: Path, tmp_path: Path) -> None:
    name = _dataset_in_form(data_root, "root-relative")
    csv = data_root / "samples" / name / CSV_NAME
    csv.write_text(csv.read_text().replace(f"samples/{name}/img_0.png", "../outside/secret.png", 1))
    (data_root.parent / "outside").mkdir(exist_ok=True)
    (data_root.parent / "outside" / "secret.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # exists, but not ours
    report = validate_dataset(data_root, name)
    assert not report.valid and any("secret.png" in p for p in report.problems), report.problems
    [problem] = trainer_datasets.scan(data_root, name).bad_images
    assert problem.startswith("../outside/secret.png: missing"), problem


def test_every_form_trains(start_api, start_worker, trainer_env, data_root: Path) -> None:
    names = [_dataset_in_form(data_root, form) for form in FORMS]
    start_api()
    start_worker()
    url = trainer_env["TRAINER_URL"]
    body = {"datasets": names, "epochs": 1, "batch_size": 8, "evaluate": False, "on_bad_data": "fail"}
    job_id = httpx.post(f"{url}/v1/jobs", json=body, timeout=10).json()["id"]

    def ended():
        view = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()
        return view if view["state"] in ("finished", "failed", "canceled") else None

    view = wait_for(ended, what="training job over every path form")
    assert view["state"] == "finished", view.get("error")
    assert view["bad_data"]["bad_images"] == 0 and view["bad_data"]["bad_rows"] == 0
    assert view["metrics"]["train_frames"] + view["metrics"]["validation_frames"] == FRAMES * len(FORMS)
