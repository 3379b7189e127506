"""Capture -> recorder streaming: replay source, bounded queue, drop accounting, the process entry point."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import numpy as np
from PIL import Image

from tensorkart_capture.recording import build_sample, run_recording
from tensorkart_capture.sources import open_source
from tensorkart_capture.streamer import RecordingStreamer
from tensorkart_core.dataset import read_rows, validate_dataset
from tensorkart_core.grpc_client import make_channel
from tensorkart_core.images import decode_frame
from tensorkart_core.ports import PORTS_FILE_ENV
from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.proto.v1 import recorder_pb2, recorder_pb2_grpc
from tests.helpers import NOBODY, REPO, reported_address
from tests.recorder.support import make_dataset, sample, start_recorder


def test_replay_source_yields_the_dataset_in_order(data_root):
    pictures = make_dataset(data_root, "orig", 5)
    with open_source("replay", data_root=data_root, dataset="orig", rate_hz=0) as source:
        frames = list(source)
    assert [f.sequence for f in frames] == [1, 2, 3, 4, 5]
    assert all(np.array_equal(f.rgb, p) for f, p in zip(frames, pictures, strict=True))
    assert [round(f.joystick.x, 4) for f in frames] == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert [f.joystick.rb for f in frames] == [False, True, False, True, False]
    times = [f.capture_time_ns for f in frames]
    assert times == sorted(times)


def test_replay_through_recorder_reproduces_the_dataset(start_service, data_root):
    pictures = make_dataset(data_root, "orig", 12)
    recorder = start_recorder(start_service, data_root)
    streamer = RecordingStreamer(recorder.address, "copy", rate_hz=0).start()
    with open_source("replay", data_root=data_root, dataset="orig", rate_hz=0) as source:
        assert run_recording(source, streamer) == 12
    stats = streamer.close()
    assert (stats.written, stats.dropped) == (12, 0)
    original, _ = read_rows(data_root / "samples" / "orig" / "data.csv")
    copy, _ = read_rows(data_root / "samples" / "copy" / "data.csv")
    assert [r.outputs for r in copy] == [r.outputs for r in original]
    for row, expected in zip(copy, pictures, strict=True):
        assert np.array_equal(np.asarray(Image.open(data_root / row.image)), expected)


def test_edge_preprocessing_sends_the_model_input_size():
    spec = PreprocessSpec(crop_top=0.25, width=200, height=66)
    frame = next(iter(_one_frame()))
    message = build_sample(frame, frame.joystick, spec)
    assert (message.frame.width, message.frame.height) == (200, 66)
    assert message.frame.preprocess_id == spec.id
    assert np.array_equal(decode_frame(message.frame), spec.prepare(frame.rgb))


def _one_frame():
    from tensorkart_capture.sources.base import CapturedFrame
    from tensorkart_core.proto.v1 import types_pb2

    rgb = np.arange(480 * 640 * 3, dtype=np.uint32).reshape(480, 640, 3).astype(np.uint8)
    yield CapturedFrame(1, 5, rgb, joystick=types_pb2.Joystick(x=0.25))


def test_no_recorder_means_counted_drops_never_a_blocked_capture():
    streamer = RecordingStreamer(NOBODY, "nowhere", queue_size=5, backoff_max=0.2).start()
    accepted = [streamer.offer(sample(i, rgb=np.zeros((4, 4, 3), np.uint8))) for i in range(1, 21)]
    assert accepted == [True] * 5 + [False] * 15
    stats = streamer.close(timeout=1.0)
    assert stats.written == 0
    assert stats.dropped_queue_full == 15
    assert stats.dropped_at_close == 5
    assert stats.offered == stats.dropped == 20
    # One channel keeps reconnecting by itself; no Record call was opened, so none was re-opened.
    assert stats.reconnects == 0 and not stats.connected


def test_capture_process_streams_until_sigterm_and_prints_totals(start_service, data_root, tmp_path):
    make_dataset(data_root, "orig", 60)
    recorder = start_recorder(start_service, data_root)
    ports_file = tmp_path / "ports.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tensorkart_capture",
            "record",
            "--source",
            "replay",
            "--data",
            str(data_root),
            "--dataset",
            "orig",
            "--name",
            "live",
            "--rate",
            "5",
            "--recorder",
            recorder.address,
            "--metrics-port",
            "0",
            "--meta",
            "track=luigi",
        ],
        cwd=REPO,
        env={**os.environ, PORTS_FILE_ENV: str(ports_file)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    channel = make_channel(recorder.address)
    stub = recorder_pb2_grpc.RecorderStub(channel)
    try:
        deadline = time.monotonic() + 60
        written = 0
        while time.monotonic() < deadline and written < 3:
            try:
                written = stub.GetSession(recorder_pb2.GetSessionRequest(name="live")).frames_written
            except Exception:
                written = 0
            time.sleep(0.1)
        assert written >= 3, process.stderr.read() if process.poll() is not None else "no frames written"
        text = httpx.get(f"http://{reported_address(ports_file, 'metrics')}/metrics", timeout=5).text
        assert "tensorkart_capture_frames_total" in text and "tensorkart_capture_frames_dropped_total" in text
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        channel.close()
    assert process.returncode == 0, err
    totals = json.loads(out.strip().splitlines()[-1])
    assert totals["frames_dropped"] == 0
    assert 3 <= totals["frames_written"] < 60  # stopped by the signal, not by the end of the replay
    assert totals["frames_written"] == totals["frames_captured"] == totals["recorder"]["frames_written"]
    report = validate_dataset(data_root, "live")
    assert report.valid and report.rows == totals["frames_written"]
    info = json.loads((data_root / "samples" / "live" / "session.json").read_text())
    assert info["track"] == "luigi" and info["source"] == "replay"
    assert "frames" in err and "dropped" in err


def test_slow_recorder_means_counted_drops_and_matching_totals(start_service, data_root):
    recorder = start_recorder(
        start_service,
        data_root,
        RECORDER_ENCODE_THREADS="1",
        RECORDER_MAX_PENDING="1",
        RECORDER_COMPRESS_LEVEL="9",
    )
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 256, (240, 320, 3), dtype=np.uint8) for _ in range(60)]
    streamer = RecordingStreamer(recorder.address, "slow", queue_size=3, contiguous=True).start()
    for sequence, rgb in enumerate(frames, start=1):  # far faster than the recorder can write
        streamer.offer(sample(sequence, rgb=rgb))
    stats = streamer.close()
    assert stats.dropped_queue_full > 0
    assert stats.offered == stats.written + stats.dropped == 60
    # Drops after the last frame sent leave no sequence gap: the client reports them at close.
    assert streamer.summary.frames_dropped == stats.dropped
    assert streamer.summary.frames_written == stats.written
    info = json.loads((data_root / "samples" / "slow" / "session.json").read_text())
    assert info["frames_dropped"] == stats.dropped and len(info["segments"]) == 1
    report = validate_dataset(data_root, "slow")
    assert report.valid and report.rows == stats.written
    rows, _ = read_rows(data_root / "samples" / "slow" / "data.csv")
    first = np.asarray(Image.open(data_root / rows[0].image))
    assert np.array_equal(first, frames[0])
