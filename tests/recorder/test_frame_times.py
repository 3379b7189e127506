"""Real per-frame times and intervention marks: a real recorder over gRPC writes them into
session.json, and the timeline, the LeRobot export (resampled) and the Rerun export use them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tensorkart_capture.streamer import RecordingStreamer
from tensorkart_core import datasets as ds
from tensorkart_core.datasets.export.episodes import resample
from tensorkart_core.datasets.export.lerobot import export_lerobot
from tensorkart_core.datasets.export.rerun_rrd import export_rerun
from tensorkart_core.images import encode_frame
from tensorkart_core.proto.v1 import types_pb2
from tests.recorder.support import picture, start_recorder

BASE_NS = 7_000_000_000  # the capture host's monotonic clock: any origin
# ~13 Hz with jitter and a stall (a dropped frame), as a real capture gives.
TIMES = [0.0, 0.04, 0.11, 0.19, 0.33, 0.41, 0.52, 0.6, 0.68, 0.85, 0.9, 1.0]
HELD = {3, 4, 5, 9}  # the human holds LB (takes over) on these frames


def stamped(sequence: int, seconds: float, lb: bool, x: float = 0.0) -> types_pb2.Sample:
    frame = encode_frame(picture(sequence, 64, 48), sequence, BASE_NS + round(seconds * 1e9))
    return types_pb2.Sample(frame=frame, joystick=types_pb2.Joystick(x=x, a=True, lb=lb))


def record(address: str, name: str, samples: list[types_pb2.Sample], **options) -> RecordingStreamer:
    streamer = RecordingStreamer(address, name, metadata={"source": "test"}, rate_hz=10, **options).start()
    for item in samples:
        assert streamer.offer(item)
    stats = streamer.close()
    assert stats.written == len(samples) and stats.rejected == 0
    return streamer


def test_the_recorder_writes_capture_times_and_interventions(start_service, data_root: Path, tmp_path: Path) -> None:
    recorder = start_recorder(start_service, data_root)
    xs = [round(-1 + i / 6, 4) for i in range(len(TIMES))]
    samples = [stamped(i + 1, t, i in HELD, xs[i]) for i, t in enumerate(TIMES)]
    record(recorder.address, "timed", samples, contiguous=True)

    folder = data_root / "samples" / "timed"
    session = json.loads((folder / "session.json").read_text())
    assert session["frame_times"] == pytest.approx(TIMES, abs=1e-6)  # the capture clock, not index / fps
    assert session["interventions"] == [[3, 5], [9, 9]]
    assert isinstance(session["time_origin"], float)
    assert not (folder / ".frame_log.csv").exists()  # folded into session.json at close

    timeline = ds.timeline(data_root, "timed")
    assert timeline["frames"]["t"] == pytest.approx(TIMES, abs=1e-6)

    # LeRobot: timestamps exactly k / fps, each tick the latest frame captured at or before it.
    out = tmp_path / "lr"
    export_lerobot(data_root, ["timed"], out, fps=10)
    data = pq.read_table(out / "data/chunk-000/file-000.parquet").to_pydict()
    picks = resample(TIMES, 10)
    assert picks == [0, 1, 3, 3, 4, 5, 7, 8, 8, 10, 11]
    np.testing.assert_allclose(data["timestamp"], [k / 10 for k in range(len(picks))], atol=1e-6)
    np.testing.assert_allclose([a[0] for a in data["action"]], [xs[i] for i in picks], atol=1e-6)

    # Rerun: the time timeline is the capture time, interventions are events where a takeover starts.
    columns = rrd_columns(export_rerun(data_root, ["timed"], tmp_path / "timed.rrd"))
    assert columns["/events/interventions"]["frame"] == [3, 9]
    camera = dict(zip(columns["/camera"]["frame"], columns["/camera"]["time"], strict=True))
    assert [camera[i] / 1e9 for i in range(len(TIMES))] == pytest.approx(TIMES, abs=1e-6)


def rrd_columns(path: Path) -> dict[str, dict[str, list]]:
    from rerun.chunk import RrdReader

    columns: dict[str, dict[str, list]] = {}
    for chunk in RrdReader(path).store().stream().to_chunks():
        batch = chunk.to_record_batch()
        entity = columns.setdefault(str(chunk.entity_path), {})
        for name in ("frame", "time"):
            if name in batch.schema.names:
                values = batch.column(name).cast("int64") if name == "time" else batch.column(name)
                entity.setdefault(name, []).extend(values.to_pylist())
    return columns


def test_a_relay_interventions_stream_marks_each_takeover(start_service, data_root: Path) -> None:
    """The play relay sends only the frames the human drove (LB held), sparse: each run of sequence
    numbers is one takeover, resumed streams append to the same dataset."""
    recorder = start_recorder(start_service, data_root)
    first = [stamped(s, s / 30, True) for s in (10, 11, 12, 40, 41)]
    record(recorder.address, "lap-interventions", first, resume=True)
    second = [stamped(s, s / 30, True) for s in (7, 8)]  # a new capture process: a new clock
    record(recorder.address, "lap-interventions", second, resume=True)

    session = json.loads((data_root / "samples/lap-interventions/session.json").read_text())
    assert session["interventions"] == [[0, 2], [3, 4], [5, 6]]
    times = session["frame_times"]
    assert len(times) == 7 and times == sorted(times)
    assert np.diff(times[:5]) == pytest.approx([1 / 30, 1 / 30, 28 / 30, 1 / 30], abs=1e-6)
    assert times[6] - times[5] == pytest.approx(1 / 30, abs=1e-6)
    assert times[5] >= times[4]  # the second capture is anchored after the first on the recorder's clock
