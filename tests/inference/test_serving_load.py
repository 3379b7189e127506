"""The inference server as a classroom's host (a real process): many streams at once, health
answered under that load, readiness that follows the model (the stream cap: tests/play/test_stream_cap.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tensorkart_core.grpc_client import CHANNEL_OPTIONS, make_channel
from tensorkart_core.images import encode_frame
from tensorkart_core.preprocess import DEFAULT_SPEC
from tensorkart_core.proto.v1 import inference_pb2, inference_pb2_grpc, types_pb2
from tensorkart_core.registry import ModelRegistry
from tests.inference.modelbank import install, test_frame

SERVICE = "tensorkart.v1.Inference"
STREAMS = 64
FRAMES_PER_STREAM = 10
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def health_status(address: str, service: str) -> int:
    with grpc.insecure_channel(address) as channel:
        request = health_pb2.HealthCheckRequest(service=service)
        return health_pb2_grpc.HealthStub(channel).Check(request, timeout=5).status


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def one_edge(address: str, index: int, frame_data: types_pb2.Frame) -> list[types_pb2.Steering]:
    """One edge: its own channel, one Drive stream, FRAMES_PER_STREAM frames at 30 Hz."""
    async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        call = inference_pb2_grpc.InferenceStub(channel).Drive(timeout=120)
        answers: list[types_pb2.Steering] = []
        for sequence in range(1, FRAMES_PER_STREAM + 1):
            frame = types_pb2.Frame()
            frame.CopyFrom(frame_data)
            frame.sequence, frame.capture_time_ns = sequence, time.monotonic_ns()
            await call.write(frame)
            answers.append(await call.read())
            await asyncio.sleep(1 / 30)
        await call.done_writing()
        return answers


def test_64_streams_are_all_answered_and_health_answers_meanwhile(model_bank: Path, data_root: Path, start_inference):
    install(model_bank, data_root, "va")
    # a deadline this machine keeps under any load: the test is about answers, the bench about latency
    address, _ = start_inference(INFERENCE_MODEL="va", INFERENCE_STALE_MS="30000")
    frame = encode_frame(DEFAULT_SPEC.prepare(test_frame(1)), 0, 0, preprocess_id=DEFAULT_SPEC.id)
    health: list[int] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            health.append(health_status(address, ""))
            health.append(health_status(address, SERVICE))
            time.sleep(0.05)

    async def classroom() -> list[list[types_pb2.Steering]]:
        return await asyncio.gather(*(one_edge(address, i, frame) for i in range(STREAMS)))

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    try:
        streams = asyncio.run(classroom())
    finally:
        done.set()
        prober.join(10)
    assert len(streams) == STREAMS
    for answers in streams:
        assert [a.frame_sequence for a in answers] == list(range(1, FRAMES_PER_STREAM + 1))
        assert all(a.model_version == "va" and not a.stale and a.error_code == 0 for a in answers)
    assert len(health) >= 4 and set(health) == {SERVING}  # answered (5 s deadline) all along


def test_readiness_is_not_serving_until_a_model_is_warm_and_stays_serving_through_a_swap(
    model_bank: Path, data_root: Path, redis_url: str, start_inference
):
    install(model_bank, data_root, "va", "vb")
    address, _ = start_inference()  # follows the registry, which has no active model yet
    assert health_status(address, "") == SERVING  # alive
    assert health_status(address, SERVICE) == NOT_SERVING  # not ready: nothing to serve
    registry = ModelRegistry.from_url(data_root, redis_url)
    registry.promote("va")
    wait_for(lambda: health_status(address, SERVICE) == SERVING, 60, "readiness after promote")
    stub = inference_pb2_grpc.InferenceStub(make_channel(address))
    assert stub.GetModelInfo(inference_pb2.GetModelInfoRequest(), timeout=10).version == "va"

    seen: list[int] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            seen.append(health_status(address, SERVICE))
            time.sleep(0.02)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    try:
        wait_for(lambda: len(seen) >= 3, 30, "probes before the swap")
        registry.promote("vb")
        wait_for(lambda: stub.GetModelInfo(inference_pb2.GetModelInfoRequest(), timeout=10).version == "vb", 60, "swap")
        after_swap = len(seen)
        wait_for(lambda: len(seen) >= after_swap + 3, 30, "probes after the swap")
    finally:
        done.set()
        prober.join(10)
    assert set(seen) == {SERVING}  # before, during (load + warm-up of vb beside va) and after the swap
