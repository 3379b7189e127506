"""`tensorkart datasets movie / export / import` on real files: an MP4 with the steering drawn, the
LeRobot v3 layout (read back against lerobot's documented v3.0 layout with pyarrow and PyAV, and by
Rerun's own LeRobot reader), a LeRobot import, and a Rerun recording read by rerun-sdk's RRD reader.

The `lerobot` package itself is not installed here: every release pins torch<2.11 with torchvision
and torchcodec, which on this x86_64 machine means a CUDA build of several GB, so these are reader
tests against its layout (lerobot/datasets/utils.py v3.0 constants) instead of LeRobotDataset."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image
from typer.testing import CliRunner

from tensorkart_cli.main import app
from tensorkart_core import datasets as ds
from tensorkart_core.datasets.export.episodes import resample
from tests.trainer.tinydata import make_dataset

runner = CliRunner()
FRAMES = 12


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["datasets", *args])
    return result.exit_code, result.output


def decode(path: Path) -> tuple[list[float], list[np.ndarray], float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pictures = [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24")) for f in container.decode(stream)]
        rate = float(stream.average_rate)
    return [t for t, _ in pictures], [p for _, p in pictures], rate


def png(data_root: Path, name: str, n: int) -> np.ndarray:
    return np.asarray(Image.open(data_root / "samples" / name / f"img_{n}.png").convert("RGB"))


@pytest.fixture
def two(data_root: Path) -> Path:
    """`run` (12 frames at 10 Hz, frames 4..5 soft-deleted) and `run-interventions` (5 frames)."""
    make_dataset(data_root, "run", frames=FRAMES, width=64, height=48)
    make_dataset(data_root, "run-interventions", frames=5, width=64, height=48, seed=2)
    ds.delete_range(data_root, "run", 4, 5)
    return data_root


def test_movie_draws_the_steering_on_every_kept_frame(two: Path, tmp_path: Path) -> None:
    out = tmp_path / "run.mp4"
    code, text = cli("movie", "run", "--out", str(out), "--data", str(two))
    assert code == 0, text
    times, pictures, rate = decode(out)
    assert len(pictures) == FRAMES - 2 and rate == 10  # deleted frames left out, at the dataset's rate
    assert times == pytest.approx([k / 10 for k in range(FRAMES - 2)])
    kept = [f for f in ds.frames(two, "run") if not f.deleted]
    for picture, frame in zip(pictures, kept, strict=True):
        x = frame.row.x
        if abs(x) < 0.3:
            continue
        tip = 32 + round(x * 28)  # the bar runs from the centre (32) to 32 + x * (64 / 2 - 4)
        bar = picture[-4:-2, min(32, tip) + 2 : max(32, tip) - 1].astype(int)  # along the bottom edge
        red, green = bar[..., 0].mean(), bar[..., 1].mean()
        assert (red > green + 60) if x < 0 else (green > red + 60), (frame.index, x, red, green)


def test_lerobot_export_follows_the_v3_layout_and_imports_back(two: Path, tmp_path: Path) -> None:
    out = tmp_path / "lerobot"
    code, text = cli("export", "run", "run-interventions", "--format", "lerobot", "--out", str(out), "--data", str(two))
    assert code == 0, text
    info = json.loads((out / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 10
    # run: frames 0..3 and 6..11 (two episodes around the cut); run-interventions: one episode.
    assert info["total_episodes"] == 3 and info["total_frames"] == 15 and info["total_tasks"] == 2
    assert info["features"]["action"] == {"dtype": "float32", "shape": [5], "names": ["x", "y", "a", "b", "rb"]}
    image = info["features"]["observation.image"]
    assert image["dtype"] == "video" and image["shape"] == [48, 64, 3] and image["info"]["video.fps"] == 10
    for key in ("timestamp", "frame_index", "episode_index", "index", "task_index"):
        assert key in info["features"]

    data = pq.read_table(out / info["data_path"].format(chunk_index=0, file_index=0)).to_pydict()
    assert data["index"] == list(range(15))
    # LeRobot's check_timestamps_sync: timestamp == frame_index / fps within 1e-4 s.
    np.testing.assert_allclose(data["timestamp"], np.asarray(data["frame_index"]) / 10, atol=1e-4)
    kept = [f.row for f in ds.frames(two, "run") if not f.deleted] + ds.read_rows(
        two / "samples/run-interventions/data.csv"
    )[0]
    np.testing.assert_allclose(data["action"], [r.outputs for r in kept], atol=1e-6)

    episodes = pq.read_table(out / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [e["length"] for e in episodes] == [4, 6, 5]
    assert [(e["dataset_from_index"], e["dataset_to_index"]) for e in episodes] == [(0, 4), (4, 10), (10, 15)]
    sources = [("run", range(0, 4)), ("run", range(6, 12)), ("run-interventions", range(5))]
    for episode, (name, numbers) in zip(episodes, sources, strict=True):
        video = out / info["video_path"].format(
            video_key="observation.image",
            chunk_index=episode["videos/observation.image/chunk_index"],
            file_index=episode["videos/observation.image/file_index"],
        )
        times, pictures, _rate = decode(video)
        assert len(pictures) == episode["length"]
        start = episode["videos/observation.image/from_timestamp"]
        assert times == pytest.approx([start + k / 10 for k in range(len(numbers))])
        for picture, n in zip(pictures, numbers, strict=True):  # H.264 is lossy: close, not equal
            assert np.abs(picture.astype(int) - png(two, name, n)).mean() < 12

    tasks = pq.read_table(out / "meta/tasks.parquet")
    pandas_meta = json.loads(tasks.schema.metadata[b"pandas"])
    assert pandas_meta["index_columns"] == ["__index_level_0__"]  # pandas reads the task strings as the index
    assert tasks.column("__index_level_0__").to_pylist() == ["drive (run)", "drive (run-interventions)"]
    assert tasks.column("task_index").to_pylist() == [0, 1] and data["task_index"] == [0] * 10 + [1] * 5
    stats = json.loads((out / "meta/stats.json").read_text())
    assert stats["action"]["count"] == [15] and len(stats["action"]["mean"]) == 5
    assert np.asarray(stats["observation.image"]["mean"]).shape == (3, 1, 1)

    # Rerun's own LeRobot reader (an independent implementation of the format) opens it.
    from rerun.experimental import LeRobotReader

    reader = LeRobotReader(out)
    assert reader.version == "v3" and list(reader.episodes()) == [0, 1, 2]
    assert any(str(c.entity_path) == "/observation.image" for c in reader.stream(1).to_chunks())

    # ... and it comes back as TensorKart datasets, one per episode.
    code, text = cli("import", str(out), "--name", "back", "--data", str(two))
    assert code == 0, text
    assert text.strip().splitlines()[-3:] == [str(two / "samples" / f"back-ep{n}") for n in range(3)]
    back = ds.read_rows(two / "samples/back-ep1/data.csv")[0]
    np.testing.assert_allclose([r.outputs for r in back], [r.outputs for r in kept[4:10]], atol=1e-6)
    assert ds.validate_dataset(two, "back-ep1").valid
    assert np.abs(png(two, "back-ep1", 0).astype(int) - png(two, "run", 6)).mean() < 12


def test_an_irregular_recording_is_resampled_onto_the_fps(data_root: Path, tmp_path: Path) -> None:
    make_dataset(data_root, "jitter", frames=8, width=32, height=24)
    times = [0.0, 0.04, 0.11, 0.19, 0.33, 0.41, 0.52, 0.6]  # ~13 Hz with jitter and a dropped frame
    session = json.loads((data_root / "samples/jitter/session.json").read_text())
    (data_root / "samples/jitter/session.json").write_text(json.dumps({**session, "frame_times": times}))
    assert resample(times, 10) == [0, 1, 3, 3, 4, 5, 7]  # the latest frame at or before each 0.1 s tick
    code, text = cli("export", "jitter", "--out", str(tmp_path / "lr"), "--fps", "10", "--data", str(data_root))
    assert code == 0, text
    data = pq.read_table(tmp_path / "lr/data/chunk-000/file-000.parquet").to_pydict()
    np.testing.assert_allclose(data["timestamp"], [k / 10 for k in range(7)], atol=1e-6)
    rows = ds.read_rows(data_root / "samples/jitter/data.csv")[0]
    np.testing.assert_allclose([a[0] for a in data["action"]], [rows[i].x for i in (0, 1, 3, 3, 4, 5, 7)], atol=1e-6)


def test_rerun_recording_opens_with_rerun_sdks_reader(two: Path, tmp_path: Path) -> None:
    session = json.loads((two / "samples/run/session.json").read_text())
    (two / "samples/run/session.json").write_text(json.dumps({**session, "interventions": [[8, 10]]}))
    out = tmp_path / "runs.rrd"
    code, text = cli("export", "run", "run-interventions", "--format", "rerun", "--out", str(out), "--data", str(two))
    assert code == 0, text
    from rerun.chunk import RrdReader

    reader = RrdReader(out)
    [recording] = reader.recordings()
    assert recording.application_id == "tensorkart"
    columns: dict[str, dict[str, list]] = {}
    for chunk in reader.store().stream().to_chunks():
        batch = chunk.to_record_batch()
        entity = columns.setdefault(str(chunk.entity_path), {})
        for name in batch.schema.names:
            if name in ("frame", "time") or name.endswith(("Scalars:scalars", "TextLog:text", "EncodedImage:blob")):
                entity.setdefault(name, []).extend(batch.column(name).to_pylist())
    kept = [f for f in ds.frames(two, "run") if not f.deleted]
    assert sorted(columns["/run/camera"]["frame"]) == [f.index for f in kept]  # the cut shows as a gap
    steering = dict(
        zip(columns["/run/steering/x"]["frame"], columns["/run/steering/x"]["Scalars:scalars"], strict=True)
    )
    assert {k: v[0] for k, v in steering.items()} == pytest.approx({f.index: f.row.x for f in kept})
    assert columns["/run/events/interventions"]["frame"] == [8]
    assert columns["/run/events/cuts"]["frame"] == [4]
    assert columns["/run-interventions/events/interventions"]["frame"] == [0]
    [blob] = columns["/run/camera"]["EncodedImage:blob"][0]  # one blob per row
    assert bytes(blob) == (two / "samples/run/img_0.png").read_bytes()  # frames as stored


def test_export_errors_are_clear(two: Path, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep me")
    code, text = cli("export", "run", "--out", str(tmp_path / "full"), "--data", str(two))
    assert code != 0 and "not empty" in text and (tmp_path / "full" / "x").read_text() == "keep me"
    code, text = cli("export", "nope", "--out", str(tmp_path / "o"), "--data", str(two))
    assert code != 0 and "no dataset matches" in text
    code, text = cli("export", "run", "--format", "zip", "--out", str(tmp_path / "o"), "--data", str(two))
    assert code == 2 and "--format" in text
    (tmp_path / "fake" / "meta").mkdir(parents=True)
    (tmp_path / "fake" / "meta" / "info.json").write_text(json.dumps({"codebase_version": "v2.1", "fps": 10}))
    code, text = cli("import", str(tmp_path / "fake"), "--name", "f", "--data", str(two))
    assert code != 0 and "only v3" in text and not (two / "samples" / "f").exists()
