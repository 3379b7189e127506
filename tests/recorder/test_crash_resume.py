"""kill -9 of the recorder mid-stream: the dataset stays valid and capture resumes after reconnecting."""

from __future__ import annotations

import json
import threading
import time

from tensorkart_capture.recording import run_recording
from tensorkart_capture.sources import open_source
from tensorkart_capture.streamer import RecordingStreamer
from tensorkart_core.dataset import read_rows, validate_dataset
from tests.recorder.support import make_dataset, start_recorder


def wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_kill_9_then_restart_resumes_the_same_dataset(start_service, data_root):
    make_dataset(data_root, "source", 40, width=160, height=120)
    recorder = start_recorder(start_service, data_root)
    source = open_source("replay", data_root=data_root, dataset="source", rate_hz=30, loop=True)
    streamer = RecordingStreamer(
        recorder.address,
        "crash",
        metadata={"source": "replay"},
        rate_hz=30,
        queue_size=300,
        backoff_max=0.5,
        contiguous=True,
    ).start()
    stop = threading.Event()
    loop = threading.Thread(target=run_recording, args=(source, streamer), kwargs={"stop": stop})
    loop.start()
    try:
        assert wait_for(lambda: streamer.snapshot().written >= 15), "nothing recorded before the crash"
        recorder.process.kill9()
        written_at_crash = streamer.snapshot().written
        restarted = start_recorder(start_service, data_root, port=recorder.port)
        assert wait_for(lambda: streamer.snapshot().written >= written_at_crash + 15), restarted.process.log()
    finally:
        stop.set()
        loop.join(30)
        source.close()
    stats = streamer.close()

    assert stats.reconnects >= 1
    assert stats.offered == stats.written + stats.dropped
    report = validate_dataset(data_root, "crash")
    assert report.valid, report.problems
    rows, _ = read_rows(data_root / "samples" / "crash" / "data.csv")
    # Rows the recorder wrote whose ack was lost in the crash are counted as dropped by the client.
    assert stats.written <= len(rows) <= stats.written + stats.dropped_in_flight
    indices = [int(r.image.rsplit("_", 1)[1].split(".")[0]) for r in rows]
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    info = json.loads((data_root / "samples" / "crash" / "session.json").read_text())
    assert [s["resume"] for s in info["segments"]][-1] is True
    assert info["frames_dropped"] == stats.dropped
    assert info["frames_written"] == len(rows)
    assert info["ended"] is not None
    assert not list((data_root / "samples" / "crash").glob(".*.tmp"))
    # The per-frame times survive the kill: one per row, never going back, the side file folded in.
    times = info["frame_times"]
    assert len(times) == len(rows) and times == sorted(times) and times[0] == 0.0
    assert not (data_root / "samples" / "crash" / ".frame_log.csv").exists()
