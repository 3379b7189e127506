"""Streams over replicas (real inference processes): a replica's Drive stream cap (a stream past it
is refused with RESOURCE_EXHAUSTED, and the edge relay treats that as "back off and retry" and gets
in by itself), and a target naming several replicas spreading streams over them."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

import grpc
import pytest

from tensorkart_capture.relay import Relay, RelayOptions
from tensorkart_capture.sources.base import CapturedFrame
from tensorkart_core.grpc_client import make_channel
from tensorkart_core.images import encode_frame
from tensorkart_core.preprocess import DEFAULT_SPEC
from tensorkart_core.proto.v1 import inference_pb2_grpc
from tests.inference.modelbank import install, test_frame
from tests.inference.test_serving_load import wait_for


def refused(metrics_port: int) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith("tensorkart_inference_streams_refused_total "):
            return float(line.split()[1])
    return 0.0


def test_streams_past_the_cap_are_resource_exhausted_and_the_relay_gets_in_once_one_closes(
    model_bank: Path, data_root: Path, start_inference, start_controller
):
    install(model_bank, data_root, "va")
    address, metrics_port = start_inference(INFERENCE_MODEL="va", INFERENCE_MAX_STREAMS="2")
    frame = encode_frame(DEFAULT_SPEC.prepare(test_frame(1)), 1, 0, preprocess_id=DEFAULT_SPEC.id)
    channel = make_channel(address)
    stub = inference_pb2_grpc.InferenceStub(channel)
    holders = [threading.Event() for _ in range(2)]
    opened = [threading.Event() for _ in range(2)]

    def held_stream(index: int):
        def frames():
            yield frame
            holders[index].wait(60)

        for _answer in stub.Drive(frames(), timeout=120):
            opened[index].set()

    threads = [threading.Thread(target=held_stream, args=(i,), daemon=True) for i in range(2)]
    for thread in threads:
        thread.start()
    assert all(event.wait(30) for event in opened)  # the cap's two streams are open and answered

    with pytest.raises(grpc.RpcError) as caught:
        list(stub.Drive(iter([frame]), timeout=30))
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "INFERENCE_MAX_STREAMS" in caught.value.details()

    # an edge treats it as "back off and retry": it gets in by itself once a stream closes
    controller = start_controller(SAFETY_TIMEOUT_MS="5000")
    # dns:/// target: client-side round_robin, as edges reach a headless Service's pods
    relay = Relay(RelayOptions(f"dns:///{address}", controller.address, backoff_initial_s=0.05, backoff_max_s=0.3))
    relay.start()
    wait_for(lambda: refused(metrics_port) >= 2, 30, "the relay's streams refused (and retried)")
    assert relay.stats.answered == 0
    holders[0].set()
    threads[0].join(30)
    picture = test_frame(2)

    def source():
        for sequence in range(1, 400):
            yield CapturedFrame(sequence, time.monotonic_ns(), picture, game_frame=sequence)
            time.sleep(1 / 60)
            if relay.stats.answered >= 10:
                return

    stats = relay.run(source())
    assert stats.answered >= 10 and stats.models == ["va"]
    holders[1].set()
    threads[1].join(30)
    channel.close()


def open_streams(metrics_port: int) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith("tensorkart_inference_open_streams "):
            return float(line.split()[1])
    return 0.0


def test_a_target_naming_several_replicas_spreads_streams_over_them(model_bank: Path, data_root: Path, start_inference):
    """What edges get from a headless Service (dns:///...): client-side round_robin per call."""
    install(model_bank, data_root, "va")
    replicas = [start_inference(INFERENCE_MODEL="va") for _ in range(2)]
    target = "ipv4:" + ",".join(address for address, _ in replicas)
    channel = make_channel(target)
    grpc.channel_ready_future(channel).result(timeout=30)
    time.sleep(0.5)  # round_robin picks among connected replicas: let the second one connect too
    stub = inference_pb2_grpc.InferenceStub(channel)
    frame = encode_frame(DEFAULT_SPEC.prepare(test_frame(1)), 1, 0, preprocess_id=DEFAULT_SPEC.id)
    release = threading.Event()
    answered = threading.Semaphore(0)

    def held_stream() -> None:
        def frames():
            yield frame
            release.wait(60)

        for _answer in stub.Drive(frames(), timeout=120, wait_for_ready=True):
            answered.release()

    threads = [threading.Thread(target=held_stream, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        assert all(answered.acquire(timeout=30) for _ in threads)
        assert [open_streams(metrics_port) for _, metrics_port in replicas] == [2.0, 2.0]
    finally:
        release.set()
        for thread in threads:
            thread.join(30)
