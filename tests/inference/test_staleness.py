"""Stale Drive frames by absolute age, across clocks: the edge clock's offset estimated per stream."""

from __future__ import annotations

import time
from pathlib import Path

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.images import encode_frame
from tensorkart_core.proto.v1 import inference_pb2_grpc
from tensorkart_inference.staleness import EdgeClock
from tests.inference.modelbank import install, test_frame

MS = 1_000_000
OTHER_CLOCK = 5_000_000 * MS  # the edge's monotonic clock is ~83 minutes ahead of ours


def test_age_maps_the_edge_clock_onto_ours_and_counts_every_wait():
    clock = EdgeClock(window_s=10)
    assert clock.age_ns(OTHER_CLOCK, 1_000 * MS) == 0  # nothing known about the edge's clock yet
    clock.observe(OTHER_CLOCK + 0, 1_002 * MS)  # offset estimate: ours - theirs + 2 ms transit
    clock.observe(OTHER_CLOCK + 10 * MS, 1_013 * MS)  # a slower transit does not move it
    assert clock.offset_ns == 1_002 * MS - OTHER_CLOCK
    assert clock.age_ns(OTHER_CLOCK + 10 * MS, 1_013 * MS) == 1 * MS  # run on arrival
    # the same frame run 300 ms later (it queued behind others here): 301 ms old
    assert clock.age_ns(OTHER_CLOCK + 10 * MS, 1_313 * MS) == 301 * MS
    clock.observe(OTHER_CLOCK + 80 * MS, 1_081 * MS)  # a quicker transit: the estimate improves
    assert clock.age_ns(OTHER_CLOCK + 80 * MS, 1_081 * MS) == 0
    assert clock.age_ns(0, 5_000 * MS) == 0  # no capture time: nothing to measure


def test_the_quickest_frame_is_forgotten_after_the_window():
    clock = EdgeClock(window_s=1)
    clock.observe(OTHER_CLOCK, 1_000 * MS)
    clock.observe(OTHER_CLOCK + 500 * MS, 1_530 * MS)
    assert clock.age_ns(OTHER_CLOCK + 500 * MS, 1_530 * MS) == 30 * MS
    # 2 s later the quick frame is out of the window: the slower path is the baseline now
    clock.observe(OTHER_CLOCK + 2_000 * MS, 3_030 * MS)
    assert clock.age_ns(OTHER_CLOCK + 2_000 * MS, 3_030 * MS) == 0


def test_drive_answers_a_frame_that_arrives_late_as_stale_and_the_next_on_time(
    model_bank: Path, data_root: Path, start_inference
):
    install(model_bank, data_root, "va")
    address, _ = start_inference(INFERENCE_MODEL="va", INFERENCE_STALE_MS="100")
    stub = inference_pb2_grpc.InferenceStub(make_channel(address))
    picture = test_frame(1)

    def frames():
        # capture times on another host's clock; frame 2 was captured 1 s before it was sent
        # (it waited at the edge), frames 1 and 3 just before
        yield encode_frame(picture, 1, OTHER_CLOCK + time.monotonic_ns())
        time.sleep(0.05)
        yield encode_frame(picture, 2, OTHER_CLOCK + time.monotonic_ns() - 1_000 * MS)
        time.sleep(0.05)
        yield encode_frame(picture, 3, OTHER_CLOCK + time.monotonic_ns())

    answers = list(stub.Drive(frames(), timeout=60))
    assert [a.frame_sequence for a in answers] == [1, 2, 3]
    assert [a.stale for a in answers] == [False, True, False]
    assert answers[1].error == "" and list(answers[1].outputs) == []
    assert answers[0].model_version == answers[2].model_version == "va"
