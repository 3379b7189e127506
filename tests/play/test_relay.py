"""The edge relay between real processes: frames -> inference -> controller, recovery, override."""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tensorkart_capture.relay import Relay, RelayOptions, interventions_streamer
from tensorkart_capture.sources.base import CapturedFrame
from tensorkart_core.grpc_client import make_channel
from tensorkart_core.preprocess import DEFAULT_SPEC
from tensorkart_core.proto.v1 import controller_pb2, controller_pb2_grpc, types_pb2
from tests.inference.modelbank import install, litert_outputs, test_frame

PICTURES = [test_frame(seed) for seed in range(4)]


def frames(count: int | None, rate_hz: float, stop: threading.Event | None = None) -> Iterator[CapturedFrame]:
    """A paced source of test pictures (count None: until `stop`)."""
    sequence = 0
    while (count is None or sequence < count) and not (stop and stop.is_set()):
        sequence += 1
        yield CapturedFrame(sequence, time.monotonic_ns(), PICTURES[sequence % len(PICTURES)], game_frame=sequence)
        time.sleep(1 / rate_hz)


def controller_state(address: str, port: int = 0) -> types_pb2.ControllerState:
    stub = controller_pb2_grpc.ControllerStub(make_channel(address))
    return stub.GetState(controller_pb2.GetStateRequest(port=port), timeout=10)


def wait_until(condition, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_relay_drives_the_controller_with_the_models_steering(
    model_bank: Path, data_root: Path, start_inference, start_controller
):
    install(model_bank, data_root, "va")
    inference, _ = start_inference(INFERENCE_MODEL="va")
    controller = start_controller(SAFETY_TIMEOUT_MS="5000")
    relay = Relay(RelayOptions(inference, controller.address, port=1))
    assert relay.wait_connected(30)
    stats = relay.run(frames(40, rate_hz=60))

    assert stats.captured == 40 and stats.sent == 40 and stats.answered == 40
    assert stats.dropped == 0 and stats.stale == 0 and stats.invalid == 0
    assert stats.models == ["va"]
    assert stats.pushed == 40  # the relay is the pad's one writer: every answer goes through it
    assert stats.latency_p50_ms > 0
    state = controller_state(controller.address, port=1)
    assert state.frame_sequence == 40 and state.source == types_pb2.STEERING_SOURCE_MODEL
    assert state.model_version == "va"
    x = float(litert_outputs(data_root, "va", DEFAULT_SPEC(PICTURES[40 % len(PICTURES)]))[0])
    assert state.x_axis == max(-80, min(80, round(x * 80)))
    assert controller_state(controller.address, port=0).frame_sequence == 0  # other pads untouched


def test_killing_inference_goes_neutral_and_the_relay_recovers(
    model_bank: Path, data_root: Path, start_inference, start_controller, start_service, services
):
    install(model_bank, data_root, "va")
    inference, _ = start_inference(INFERENCE_MODEL="va")
    controller = start_controller(SAFETY_TIMEOUT_MS="200")
    relay = Relay(RelayOptions(inference, controller.address, backoff_initial_s=0.05, backoff_max_s=0.5))
    stop = threading.Event()
    result: list = []
    runner = threading.Thread(target=lambda: result.append(relay.run(frames(None, 30, stop), stop)))
    runner.start()
    try:
        model = types_pb2.STEERING_SOURCE_MODEL
        wait_until(lambda: controller_state(controller.address).source == model, what="model steering")
        inference_process = services[0]  # started first
        assert "tensorkart_inference" in " ".join(inference_process.process.args)
        inference_process.kill9()  # the inference server dies without a goodbye
        wait_until(
            lambda: controller_state(controller.address).source == types_pb2.STEERING_SOURCE_SAFETY,
            what="neutral fallback",
        )
        neutral = controller_state(controller.address)
        assert neutral.x_axis == 0 and neutral.y_axis == 0 and not neutral.a_button
        before = neutral.frame_sequence
        port = inference.rsplit(":", 1)[1]  # a new server on the same address
        start_service(
            "tensorkart_inference",
            {
                "TENSORKART_DATA": str(data_root),
                "INFERENCE_MODEL": "va",
                "INFERENCE_HOST": "127.0.0.1",
                "INFERENCE_PORT": port,
                "INFERENCE_METRICS_PORT": "0",
            },
            grpc_address=inference,
        )
        wait_until(
            lambda: (
                controller_state(controller.address).source == model
                and controller_state(controller.address).frame_sequence > before
            ),
            what="recovery",
        )
    finally:
        stop.set()
        runner.join(30)
    stats = result[0]
    assert stats.inference_reconnects >= 1 and stats.dropped_disconnected > 0
    assert stats.answered > 0


def test_manual_override_drives_and_records_interventions(
    model_bank: Path, data_root: Path, start_inference, start_controller, start_recorder
):
    install(model_bank, data_root, "va")
    inference, _ = start_inference(INFERENCE_MODEL="va")
    controller = start_controller(SAFETY_TIMEOUT_MS="5000")
    recorder = start_recorder()
    takeover = types_pb2.Joystick(x=-0.7, a=True, lb=True)

    def human(captured: CapturedFrame) -> types_pb2.Joystick | None:
        return takeover if captured.sequence > 20 else types_pb2.Joystick(x=0.3)  # LB held for the last 10

    streamer = interventions_streamer(recorder, "lap1", {"source": "test"})
    relay = Relay(RelayOptions(inference, controller.address, session="lap1"), human, streamer)
    assert relay.wait_connected(30)
    stats = relay.run(frames(30, rate_hz=60))
    assert stats.overrides == 10 and stats.human_pushed == 10 and stats.answered == 30
    state = controller_state(controller.address)
    assert state.source == types_pb2.STEERING_SOURCE_HUMAN and state.human_override
    assert state.x_axis == round(-0.7 * 80) and state.a_button
    dataset = data_root / "samples" / "lap1-interventions"
    rows = list(csv.reader((dataset / "data.csv").open()))
    assert len(rows) == 10
    assert all(abs(float(row[1]) + 0.7) < 1e-4 for row in rows)
    assert all((data_root / row[0]).is_file() for row in rows)


def test_edge_preprocessing_follows_hot_swaps_to_a_model_with_another_spec(
    model_bank: Path, data_root: Path, redis_url: str, start_inference, start_controller
):
    from tensorkart_core.registry import ModelRegistry
    from tests.inference.modelbank import CROP_SPEC

    install(model_bank, data_root, "va", "vcrop", "vb")
    registry = ModelRegistry.from_url(data_root, redis_url)
    registry.promote("va")
    inference, _ = start_inference(INFERENCE_STALE_MS="5000")
    controller = start_controller(SAFETY_TIMEOUT_MS="5000")
    relay = Relay(RelayOptions(inference, controller.address, max_frame_age_ms=60_000, model_refresh_s=0.2))
    assert relay.wait_connected(30)
    stop = threading.Event()
    result: list = []
    runner = threading.Thread(target=lambda: result.append(relay.run(frames(None, 30, stop), stop)))
    runner.start()
    try:
        for version, spec in (("vcrop", CROP_SPEC), ("vb", DEFAULT_SPEC)):
            registry.promote(version)
            wait_until(lambda v=version: controller_state(controller.address).model_version == v, what=version)
            wait_until(lambda s=spec: relay.edge_spec == s, what=f"edge spec of {version}")
    finally:
        stop.set()
        runner.join(30)
    stats = result[0]
    assert stats.models == ["va", "vcrop", "vb"]
    assert stats.invalid == 0 and stats.stale == 0 and stats.dropped == 0
    assert stats.answered == stats.captured
