"""Many Record streams open at once on one recorder process (grpc.aio): every one written
completely, while the health check keeps answering."""

from __future__ import annotations

import threading
import time

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from tensorkart_capture.streamer import RecordingStreamer
from tensorkart_core.dataset import read_rows, validate_dataset
from tensorkart_core.proto.v1 import recorder_pb2, recorder_pb2_grpc
from tests.recorder.support import picture, sample, start_recorder

STREAMS = 40  # more than the 32 worker threads the threaded server had: each open stream held one
FRAMES = 20


def probe_health(address: str, stop: threading.Event, answers: list[int], failures: list[str]) -> None:
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while not stop.is_set():
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5.0)
                answers.append(reply.status)
            except grpc.RpcError as error:
                failures.append(f"{error.code().name}: {error.details()}")
            stop.wait(0.05)


def test_forty_streams_open_at_once_are_all_written_while_health_answers(start_service, data_root):
    recorder = start_recorder(start_service, data_root, RECORDER_RECEIVE_THREADS="4", RECORDER_ENCODE_THREADS="2")
    streamers = [
        RecordingStreamer(recorder.address, f"room{i:02d}", queue_size=FRAMES + 1, contiguous=True).start()
        for i in range(STREAMS)
    ]
    stop = threading.Event()
    answers: list[int] = []
    failures: list[str] = []
    prober = threading.Thread(target=probe_health, args=(recorder.address, stop, answers, failures))
    prober.start()
    try:
        for streamer in streamers:  # every stream is open (its session accepted) before any frame is sent
            streamer.wait_started(timeout=30.0)
        answered_with_all_open = len(answers)
        for index in range(1, FRAMES + 1):
            for number, streamer in enumerate(streamers):
                assert streamer.offer(sample(index, rgb=picture(number * 1000 + index, 64, 48)))
        totals = [streamer.close(timeout=60.0) for streamer in streamers]
    finally:
        stop.set()
        prober.join(10)

    assert not failures, failures[:3]
    assert answered_with_all_open >= 1 and len(answers) > answered_with_all_open
    assert set(answers) == {health_pb2.HealthCheckResponse.SERVING}
    for number, (streamer, stats) in enumerate(zip(streamers, totals, strict=True)):
        assert (stats.written, stats.dropped, stats.rejected) == (FRAMES, 0, 0), (streamer.name, stats)
        assert streamer.summary is not None and streamer.summary.frames_written == FRAMES
        report = validate_dataset(data_root, streamer.name)
        assert report.valid, report.problems
        rows, _ = read_rows(data_root / "samples" / streamer.name / "data.csv")
        assert len(rows) == FRAMES
        last = np.asarray(Image.open(data_root / rows[-1].image).convert("RGB"))
        assert np.array_equal(last, picture(number * 1000 + FRAMES, 64, 48))


def test_a_stream_past_the_cap_gets_resource_exhausted_and_the_streamer_gets_in_later(start_service, data_root):
    recorder = start_recorder(start_service, data_root, RECORDER_MAX_STREAMS="2")
    first = RecordingStreamer(recorder.address, "cap1").start()
    second = RecordingStreamer(recorder.address, "cap2").start()
    first.wait_started()
    second.wait_started()
    with grpc.insecure_channel(recorder.address) as channel:
        start = recorder_pb2.RecordRequest(start=recorder_pb2.SessionStart(name="cap3"))
        call = recorder_pb2_grpc.RecorderStub(channel).Record(iter([start]), timeout=10)
        with pytest.raises(grpc.RpcError) as refused:
            list(call)
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "RECORDER_MAX_STREAMS" in refused.value.details()
    assert not (data_root / "samples" / "cap3").exists()

    # The streamer treats the refusal as "back off and retry", and gets in once a stream ends.
    third = RecordingStreamer(recorder.address, "cap3", backoff_max=0.2).start()
    assert third.offer(sample(1, rgb=picture(1, 64, 48)))
    # Close a stream only once the third has been refused at least once: on a loaded machine its
    # first attempt could otherwise come after the slot frees, and the retry path would go untested.
    deadline = time.monotonic() + 30.0
    while third.snapshot().reconnects < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    first.close()
    third.wait_started(timeout=30.0)
    stats = third.close()
    second.close()
    assert (stats.written, stats.dropped) == (1, 0)
    assert stats.reconnects >= 1
