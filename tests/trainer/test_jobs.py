"""Training jobs end to end: real API process, real RQ worker process, real TensorFlow, tiny data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.registry import ModelRegistry, read_metadata
from tensorkart_trainer.closed_loop import Evaluation, TrackResult
from tests.trainer.conftest import wait_for
from tests.trainer.tinydata import frame, make_dataset

TINY = {"epochs": 2, "batch_size": 8, "evaluate": False, "cache": True}


def _job(url: str, job_id: str) -> dict:
    return httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()


def _ended(url: str, job_id: str):
    def check():
        view = _job(url, job_id)
        return view if view["state"] in ("finished", "failed", "canceled") else None

    return check


def _events(run: Path) -> dict[str, list]:
    """tag -> [(step, plugin, value or image count, description)] of every event file of a TensorBoard run."""
    import tensorflow as tf

    tags: dict[str, list] = {}
    for path in sorted(run.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                content = tf.make_ndarray(value.tensor)
                # scalars: a 0-d tensor; images: [width, height, png, png, ...] as strings
                data = float(content) if plugin == "scalars" else len(content) - 2
                tags.setdefault(value.tag, []).append((event.step, plugin, data, value.metadata.summary_description))
    return tags


def _check_tensorboard_log(view: dict, trainer_env: dict[str, str]) -> None:
    """The job's TensorBoard log: loss and learning-rate curves per epoch, validation loss, input frames."""
    logdir = Path(view["tensorboard"]["logdir"])
    assert view["tensorboard"]["command"] == f"tensorboard --logdir {logdir}"
    assert logdir == Path(trainer_env["TENSORKART_DATA"]) / "trainer" / "jobs" / view["id"] / "tensorboard"
    train, validation = _events(logdir / "train"), _events(logdir / "validation")
    losses = [(step, value) for step, plugin, value, _ in train["epoch_loss"]]
    assert [step for step, _ in losses] == [0, 1]
    assert [value for _, value in losses] == pytest.approx([e["loss"] for e in view["history"]], rel=1e-5)
    assert [value for _, _, value, _ in train["epoch_learning_rate"]] == pytest.approx([1e-4, 1e-4])
    assert [step for step, *_ in validation["epoch_loss"]] == [0, 1]
    [(step, plugin, images, description)] = train["input_frames"]
    assert step == 0
    assert plugin == "images" and images == 6
    assert "steering (x): #0: " in description and "#5: " in description


def test_train_cli_runs_a_job_that_registers_a_working_model(
    start_api, start_worker, trainer_env, data_root: Path, trainer_redis_url: str
) -> None:
    make_dataset(data_root, "luigi-1", frames=24)
    make_dataset(data_root, "luigi-2", frames=16, seed=5)
    folder = data_root / "samples" / "luigi-2"
    # One truncated PNG and one malformed row: skipped and counted, the job goes on.
    (folder / "img_4.png").write_bytes((folder / "img_4.png").read_bytes()[:200])
    with open(folder / "data.csv", "a") as handle:
        handle.write("samples/luigi-2/img_1.png,0.5,0,1,0\n")
    api = start_api()
    start_worker()
    url = trainer_env["TRAINER_URL"]

    cli = subprocess.run(
        [sys.executable, "-m", "tensorkart_cli.main", "train", "-d", "luigi-*", "--epochs", "2", "--batch-size", "8",
         "--eval", "--eval-track", "luigi", "--flip", "0.5", "--shift-px", "4", "--quiet"],
        env={**os.environ, **trainer_env}, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    version = cli.stdout.strip().splitlines()[-1]
    assert "finished" in cli.stderr

    jobs = httpx.get(f"{url}/v1/jobs").json()
    assert len(jobs) == 1
    view = jobs[0]
    assert any("training PilotNet" in line for line in view["log"])
    assert view["state"] == "finished" and view["model_version"] == version
    assert [e["epoch"] for e in view["history"]] == [1, 2]
    assert all(np.isfinite(e["loss"]) for e in view["history"])
    assert view["progress"]["fraction"] == 1.0
    assert view["bad_data"]["bad_rows"] == 1 and view["bad_data"]["bad_images"] == 1
    assert any("img_4.png" in p for p in view["bad_data"]["problems"])

    meta = read_metadata(data_root, version)
    assert meta["outputs"] == ["x", "a"]
    assert [d["name"] for d in meta["datasets"]] == ["luigi-1", "luigi-2"]
    assert all(len(d["content_sha256"]) == 64 for d in meta["datasets"])
    assert meta["job"]["id"] == view["id"] and meta["job"]["params"]["epochs"] == 2
    assert meta["metrics"]["epochs_run"] == 2
    # Closed-loop evaluation ran in the worker: the model drove the practice track (capped at 2
    # simulated seconds a lap by TRAINER_EVAL_MAX_SECONDS_PER_LAP) and its autonomy is in model.json.
    evaluation = Evaluation.model_validate(meta["evaluation"])
    assert evaluation.status == "done" and evaluation.reason is None and list(evaluation.tracks) == ["luigi"]
    luigi = evaluation.tracks["luigi"]
    assert isinstance(luigi, TrackResult) and luigi.capped and luigi.laps == 1
    assert luigi.sim_seconds == pytest.approx(2.0, abs=0.05) and 0.0 <= luigi.autonomy <= 1.0
    assert view["evaluation"] == meta["evaluation"]
    assert any(line.endswith("simulated s") and "evaluation on luigi: autonomy" in line for line in view["log"])
    summary = httpx.get(f"{url}/v1/models").json()["models"][0]
    assert summary["version"] == version and summary["autonomy"] == {"luigi": luigi.autonomy}
    # both LiteRT exports, the int8 one measured against the float one on real validation frames too
    assert meta["files"]["tflite_int8"] == "model.int8.tflite"
    assert (data_root / "models" / version / "model.int8.tflite").is_file()
    assert meta["quantization"]["probe_frames"] > 9  # blank + 8 random + validation frames
    assert 0 <= meta["quantization"]["int8_max_abs_diff"] < 1e-2
    assert any("int8 LiteRT export" in line for line in view["log"])
    _check_tensorboard_log(view, trainer_env)

    # The registered model loads and predicts on a pre-processed frame.
    import keras

    model = keras.models.load_model(data_root / "models" / version / "model.keras", compile=False)
    spec = PreprocessSpec.model_validate(meta["preprocess"])
    rgb = frame(np.random.default_rng(1), 0.3)
    out = model.predict(spec(rgb)[None], verbose=0)
    assert out.shape == (1, 2) and np.all(np.abs(out) <= 1.0)

    # Server-sent events of a finished job: one final event carrying the whole view.
    with httpx.stream("GET", f"{url}/v1/jobs/{view['id']}/events", timeout=10) as stream:
        body = "".join(stream.iter_text())
    assert "event: end" in body and json.loads(body.split("data: ", 1)[1])["model_version"] == version

    # Promote / rollback through the API publish registry events.
    registry = ModelRegistry.from_url(data_root, trainer_redis_url)
    assert httpx.post(f"{url}/v1/models/{version}/promote").json()["version"] == version
    assert registry.active() == version
    listed = httpx.get(f"{url}/v1/models").json()
    assert listed["active"] == version and listed["models"][0]["version"] == version

    # Fine-tuning from the new version keeps its outputs and pre-processing.
    body = {"datasets": ["luigi-1"], "base_model": version, "outputs": ["x", "y", "a", "b", "rb"], **TINY, "epochs": 1}
    tuned_id = httpx.post(f"{url}/v1/jobs", json=body).json()["id"]
    tuned = wait_for(_ended(url, tuned_id), what="fine-tuning job to end")
    assert tuned["state"] == "finished", tuned
    tuned_meta = read_metadata(data_root, tuned["model_version"])
    assert tuned_meta["base_model"] == version and tuned_meta["outputs"] == ["x", "a"]
    assert tuned_meta["preprocess_id"] == meta["preprocess_id"]

    # API restart: the job's state and history are still there.
    api.terminate()
    again = _job(start_api().url("http"), view["id"])  # the restarted API's port is its own pick
    assert again["state"] == "finished" and again["history"] == view["history"] and again["model_version"] == version


def test_bad_data_fails_the_job_when_asked(start_api, start_worker, trainer_env, data_root: Path) -> None:
    make_dataset(data_root, "broken", frames=6, width=160, height=120)
    with open(data_root / "samples" / "broken" / "data.csv", "a") as handle:
        handle.write("samples/broken/img_0.png,nan?,0,1,0,0\n")
    start_api()
    start_worker()
    url = trainer_env["TRAINER_URL"]
    job_id = httpx.post(f"{url}/v1/jobs", json={"datasets": ["broken"], "on_bad_data": "fail", **TINY}).json()["id"]
    view = wait_for(_ended(url, job_id), what="job to end")
    assert view["state"] == "failed"
    assert "malformed csv row" in view["error"] and "line 7" in view["error"]


def _running_step(url: str, job_id: str, step: int = 1):
    def check():
        view = _job(url, job_id)
        assert view["state"] in ("queued", "running"), view
        started = any("job started on pid" in line for line in view["log"])  # its pid is in the job meta
        running = view["state"] == "running" and started
        return view if running and (view["progress"].get("step") or 0) >= step else None

    return check


def test_two_workers_share_the_queue_and_cancel_mid_epoch(
    start_api, start_worker, trainer_env, data_root: Path
) -> None:
    make_dataset(data_root, "long", frames=150, width=160, height=120)
    make_dataset(data_root, "broken", frames=3, width=64, height=48)
    with open(data_root / "samples" / "broken" / "data.csv", "a") as handle:
        handle.write("oops\n")
    start_api()
    start_worker()
    start_worker()
    url = trainer_env["TRAINER_URL"]
    body = {"datasets": ["long"], "epochs": 50, "batch_size": 1, "evaluate": False, "cache": False}
    job_id = httpx.post(f"{url}/v1/jobs", json=body).json()["id"]
    running = wait_for(_running_step(url, job_id, 2), what="job to run")
    # While one worker trains, the other takes the next job from the same queue.
    other = httpx.post(f"{url}/v1/jobs", json={"datasets": ["broken"], "on_bad_data": "fail", **TINY}).json()["id"]
    other_view = wait_for(_ended(url, other), what="second job to end")
    assert other_view["state"] == "failed" and other_view["worker"] != running["worker"]
    assert _job(url, job_id)["state"] == "running"
    assert httpx.delete(f"{url}/v1/jobs/{job_id}").status_code == 202
    view = wait_for(_ended(url, job_id), what="job to stop")
    assert view["state"] == "canceled"
    progress = view["progress"]
    assert progress["epoch"] < 50 and progress["step"] < progress["steps"], progress  # stopped inside an epoch
    assert view["model_version"] is None
    assert any("canceled" in line for line in view["log"])


def _long_job_running(
    start_api, start_worker, trainer_env, data_root: Path, frames: int, size: tuple[int, int], step: int
):
    """A 50-epoch job on a fresh worker, once it reached `step`: (url, worker, job id, work horse pid)."""
    make_dataset(data_root, "long", frames=frames, width=size[0], height=size[1])
    start_api()
    worker = start_worker()
    url = trainer_env["TRAINER_URL"]
    body = {"datasets": ["long"], "epochs": 50, "batch_size": 1, "evaluate": False, "cache": False}
    job_id = httpx.post(f"{url}/v1/jobs", json=body).json()["id"]
    wait_for(_running_step(url, job_id, step), what="job to run")
    import redis
    from rq.job import Job

    horse = Job.fetch(job_id, connection=redis.Redis.from_url(trainer_env["REDIS_URL"])).meta["pid"]
    return url, worker, job_id, horse


def test_killed_worker_leaves_the_job_failed_with_reason(start_api, start_worker, trainer_env, data_root: Path) -> None:
    url, worker, job_id, horse = _long_job_running(start_api, start_worker, trainer_env, data_root, 40, (320, 240), 0)
    # SIGKILL both the worker and its work horse: nothing is left to report anything.
    worker.kill9()
    os.kill(horse, signal.SIGKILL)
    view = wait_for(_ended(url, job_id), timeout=60, what="job to be failed")
    assert view["state"] == "failed"
    assert "worker lost" in view["error"]


def test_job_orphaned_by_its_worker_fails_itself(start_api, start_worker, trainer_env, data_root: Path) -> None:
    url, worker, job_id, horse = _long_job_running(start_api, start_worker, trainer_env, data_root, 150, (160, 120), 1)
    worker.kill9()  # only the worker: its work horse notices and ends the job itself
    view = wait_for(_ended(url, job_id), timeout=60, what="job to be failed")
    assert view["state"] == "failed" and "worker process" in view["error"] and "died" in view["error"]
    wait_for(lambda: not _alive(horse), timeout=30, what="orphaned work horse to exit")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie counts as gone (its parent, the killed worker, cannot reap it).
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().split(")")[-1].split()[0] != "Z"
