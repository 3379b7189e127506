"""Hot swap on a real server under load: versions promoted in Redis while Drive streams run."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

import grpc
import numpy as np

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.images import encode_frame
from tensorkart_core.preprocess import DEFAULT_SPEC
from tensorkart_core.proto.v1 import inference_pb2, inference_pb2_grpc, types_pb2
from tensorkart_core.registry import ModelRegistry
from tests.inference.modelbank import CROP_SPEC, install, install_corrupt, litert_outputs, test_frame
from tests.inference.test_inference_server import predict, wait_for_version

STREAMS = 3
RATE_HZ = 60


def drive_stream(address: str, frames: list[types_pb2.Frame], stop: threading.Event, out: list) -> None:
    """Send frames round-robin at RATE_HZ until `stop`; collect (frame index, answer) or the error."""
    stub = inference_pb2_grpc.InferenceStub(make_channel(address))
    sent: list[int] = []

    def requests():
        sequence = 0
        while not stop.is_set():
            index = sequence % len(frames)
            frame = types_pb2.Frame()
            frame.CopyFrom(frames[index])
            frame.sequence = sequence
            sent.append(index)
            yield frame
            sequence += 1
            time.sleep(1 / RATE_HZ)

    try:
        for answer in stub.Drive(requests(), timeout=120):
            out.append((sent[answer.frame_sequence], answer))
    except grpc.RpcError as error:
        out.append((None, error))


def test_versions_swap_under_load_with_no_failed_frame(
    model_bank: Path, data_root: Path, redis_url: str, start_inference
):
    install(model_bank, data_root, "va", "vb", "vcrop")
    registry = ModelRegistry.from_url(data_root, redis_url)
    registry.promote("va")
    address, _ = start_inference(INFERENCE_STALE_MS="2000")
    stub = inference_pb2_grpc.InferenceStub(make_channel(address))
    probe = encode_frame(test_frame(0), 0, 0)
    wait_for_version(stub, probe, "va")

    pictures = [test_frame(seed) for seed in range(3)]
    frames = [encode_frame(p, 0, 0) for p in pictures]
    expected = {
        v: [litert_outputs(data_root, v, spec(p)) for p in pictures]
        for v, spec in (("va", DEFAULT_SPEC), ("vb", DEFAULT_SPEC), ("vcrop", CROP_SPEC))
    }
    stop = threading.Event()
    results: list[list] = [[] for _ in range(STREAMS)]
    threads = [threading.Thread(target=drive_stream, args=(address, frames, stop, results[i])) for i in range(STREAMS)]
    for thread in threads:
        thread.start()
    order = ["vb", "va", "vcrop", "va", "vb", "vcrop", "vb"]
    for version in order:
        registry.promote(version)
        wait_for_version(stub, probe, version)
    stop.set()
    for thread in threads:
        thread.join(60)

    served = set()
    for stream in results:
        errors = [answer for index, answer in stream if index is None]
        assert errors == [], errors
        assert [a.frame_sequence for _, a in stream] == list(range(len(stream)))  # each once, in order
        for index, answer in stream:
            assert answer.model_version in expected and not answer.stale and answer.error == ""
            np.testing.assert_allclose(answer.outputs, expected[answer.model_version][index], atol=1e-5)
            served.add(answer.model_version)
    assert served == {"va", "vb", "vcrop"}
    assert sum(len(stream) for stream in results) > STREAMS * 10


def metric(metrics_port: int, line_prefix: str) -> float | None:
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    for line in text.splitlines():
        if line.startswith(line_prefix):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_a_corrupt_version_is_refused_while_the_old_one_keeps_serving(
    model_bank: Path, data_root: Path, redis_url: str, start_inference
):
    install(model_bank, data_root, "va")
    install_corrupt(model_bank, data_root, "va", "broken")
    registry = ModelRegistry.from_url(data_root, redis_url)
    registry.promote("va")
    address, metrics_port = start_inference()
    stub = inference_pb2_grpc.InferenceStub(make_channel(address))
    frame = encode_frame(test_frame(6), 1, 0)
    wait_for_version(stub, frame, "va")

    registry.promote("broken")
    failures = 'tensorkart_inference_model_load_failures_total{version="broken"}'
    for _ in range(300):
        if metric(metrics_port, failures):
            break
        time.sleep(0.1)
    assert metric(metrics_port, failures) == 1.0
    answer = predict(stub, frame)
    assert answer.model_version == "va"
    np.testing.assert_allclose(answer.outputs, litert_outputs(data_root, "va", DEFAULT_SPEC(test_frame(6))), atol=1e-5)
    assert stub.GetModelInfo(inference_pb2.GetModelInfoRequest(), timeout=10).version == "va"
    time.sleep(2.5)  # two registry polls: the refused version is not retried while its files are unchanged
    assert metric(metrics_port, failures) == 1.0
    assert (data_root / "models" / "va" / "model.tflite").stat().st_size > 4096  # nothing stored was touched
