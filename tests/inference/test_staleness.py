"""Stale Drive frames: lag measured against the stream's quickest recent frame, across clocks."""

from __future__ import annotations

import time
from pathlib import Path

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.images import encode_frame
from tensorkart_core.proto.v1 import inference_pb2_grpc
from tensorkart_inference.staleness import ArrivalLag
from tests.inference.modelbank import install, test_frame

MS = 1_000_000
OTHER_CLOCK = 5_000_000 * MS  # the edge's monotonic clock is ~83 minutes ahead of ours


def test_lag_cancels_the_clock_offset_and_measures_the_extra_delay():
    lag = ArrivalLag(window_s=10)
    assert lag.observe(OTHER_CLOCK + 0, 1_000 * MS) == 0
    assert lag.observe(OTHER_CLOCK + 10 * MS, 1_012 * MS) == 2 * MS  # 2 ms slower than the best so far
    assert lag.observe(OTHER_CLOCK + 20 * MS, 1_070 * MS) == 50 * MS  # queued 50 ms somewhere
    assert lag.observe(OTHER_CLOCK + 80 * MS, 1_079 * MS) == 0  # quicker than any before: the new best
    assert lag.observe(OTHER_CLOCK + 90 * MS, 1_091 * MS) == 2 * MS
    assert lag.observe(0, 5_000 * MS) == 0  # no capture time: nothing to measure


def test_the_quickest_frame_is_forgotten_after_the_window():
    lag = ArrivalLag(window_s=1)
    assert lag.observe(OTHER_CLOCK, 1_000 * MS) == 0
    assert lag.observe(OTHER_CLOCK + 500 * MS, 1_530 * MS) == 30 * MS
    # 2 s later the quick frame is out of the window: the slower path is the baseline now
    assert lag.observe(OTHER_CLOCK + 2_000 * MS, 3_030 * MS) == 0


def test_drive_answers_a_frame_that_arrives_late_as_stale_and_the_next_on_time(
    model_bank: Path, data_root: Path, start_inference
):
    install(model_bank, data_root, "va")
    address, _ = start_inference(INFERENCE_MODEL="va", INFERENCE_STALE_MS="100")
    stub = inference_pb2_grpc.InferenceStub(make_channel(address))
    picture = test_frame(1)

    def frames():
        # capture times on another host's clock; frame 2 was captured 1.5 s before it was sent
        # (it waited at the edge), frames 1 and 3 just before
        yield encode_frame(picture, 1, OTHER_CLOCK + time.monotonic_ns())
        time.sleep(0.05)
        yield encode_frame(picture, 2, OTHER_CLOCK + time.monotonic_ns() - 1_500 * MS)
        time.sleep(0.05)
        yield encode_frame(picture, 3, OTHER_CLOCK + time.monotonic_ns())

    answers = list(stub.Drive(frames(), timeout=60))
    assert [a.frame_sequence for a in answers] == [1, 2, 3]
    assert [a.stale for a in answers] == [False, True, False]
    assert answers[1].error == "" and list(answers[1].outputs) == []
    assert answers[0].model_version == answers[2].model_version == "va"
