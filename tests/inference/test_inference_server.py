"""The inference server as a real process: real outputs, errors that name the problem, auth, no model."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import grpc
import numpy as np
import pytest
import redis
from PIL import Image

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.images import encode_frame
from tensorkart_core.preprocess import DEFAULT_SPEC
from tensorkart_core.proto.v1 import inference_pb2, inference_pb2_grpc, types_pb2
from tensorkart_core.registry import ModelRegistry
from tests.inference.modelbank import (
    CROP_SPEC,
    OUTPUTS,
    install,
    install_float_only,
    litert_outputs,
    served_tflite,
    test_frame,
)


def stub_for(address: str, token: str | None = None) -> inference_pb2_grpc.InferenceStub:
    return inference_pb2_grpc.InferenceStub(make_channel(address, token=token or ""))


def predict(stub, frame: types_pb2.Frame) -> types_pb2.Steering:
    return stub.Predict(inference_pb2.PredictRequest(frame=frame), timeout=30)


def test_predict_and_drive_answer_with_the_models_real_outputs(model_bank: Path, data_root: Path, start_inference):
    install(model_bank, data_root, "va")
    address, _ = start_inference(INFERENCE_MODEL="va")
    stub = stub_for(address)

    info = stub.GetModelInfo(inference_pb2.GetModelInfoRequest(), timeout=10)
    assert info.version == "va" and list(info.outputs) == OUTPUTS
    assert info.preprocess_id == DEFAULT_SPEC.id and json.loads(info.preprocess_json) == DEFAULT_SPEC.model_dump()
    assert info.backend == "litert-xnnpack-int8"  # INFERENCE_PRECISION defaults to int8

    rgb = test_frame(1)
    expected = litert_outputs(data_root, "va", DEFAULT_SPEC(rgb))
    answer = predict(stub, encode_frame(rgb, sequence=7, capture_time_ns=12345))
    assert answer.frame_sequence == 7 and answer.capture_time_ns == 12345
    assert answer.model_version == "va" and answer.source == types_pb2.STEERING_SOURCE_MODEL
    assert not answer.stale and answer.error == ""
    np.testing.assert_allclose(answer.outputs, expected, atol=1e-5)
    assert answer.joystick.x == pytest.approx(float(np.clip(expected[0], -1, 1)), abs=1e-5)
    assert answer.joystick.a == bool(expected[2] > 0.5)
    assert answer.server_time_ns > 0

    # the same picture as PNG, and pre-processed at the edge: the same outputs
    png = io.BytesIO()
    Image.fromarray(rgb).save(png, format="PNG")
    as_png = types_pb2.Frame(sequence=8, width=640, height=480, encoding=types_pb2.ENCODING_PNG, data=png.getvalue())
    np.testing.assert_allclose(predict(stub, as_png).outputs, expected, atol=1e-5)
    edge = encode_frame(DEFAULT_SPEC.prepare(rgb), 9, 0, preprocess_id=DEFAULT_SPEC.id)
    np.testing.assert_allclose(predict(stub, edge).outputs, expected, atol=1e-5)

    # Drive: every frame answered once, in order, naming it, with that frame's outputs
    pictures = [test_frame(seed) for seed in range(10, 16)]
    frames = [encode_frame(p, sequence=100 + i, capture_time_ns=1000 + i) for i, p in enumerate(pictures)]
    answers = list(stub.Drive(iter(frames), timeout=60))
    assert [a.frame_sequence for a in answers] == [f.sequence for f in frames]
    assert [a.capture_time_ns for a in answers] == [f.capture_time_ns for f in frames]
    for picture, got in zip(pictures, answers, strict=True):
        assert not got.stale and got.model_version == "va"
        np.testing.assert_allclose(got.outputs, litert_outputs(data_root, "va", DEFAULT_SPEC(picture)), atol=1e-5)


@pytest.mark.parametrize("inline_below_ms", ["1000", "0"], ids=["on-the-loop-when-idle", "always-in-threads"])
def test_edge_frames_get_the_models_outputs_whether_run_on_the_loop_or_in_the_threads(
    model_bank: Path, data_root: Path, start_inference, inline_below_ms: str
):
    install(model_bank, data_root, "va")
    address, _ = start_inference(INFERENCE_MODEL="va", INFERENCE_INLINE_BELOW_MS=inline_below_ms)
    stub = stub_for(address)
    pictures = [test_frame(seed) for seed in range(20, 28)]
    frames = [
        encode_frame(DEFAULT_SPEC.prepare(p), 200 + i, 0, preprocess_id=DEFAULT_SPEC.id) for i, p in enumerate(pictures)
    ]
    # two streams at once: while one frame runs, the other stream's frames take the other path
    first, second = stub.Drive(iter(frames[::2]), timeout=60), stub.Drive(iter(frames[1::2]), timeout=60)
    answers = {a.frame_sequence: a for a in [*first, *second]}
    assert sorted(answers) == [f.sequence for f in frames]
    for frame, picture in zip(frames, pictures, strict=True):
        got = answers[frame.sequence]
        assert not got.stale and got.error == "" and got.model_version == "va"
        np.testing.assert_allclose(got.outputs, litert_outputs(data_root, "va", DEFAULT_SPEC(picture)), atol=1e-5)


def test_precision_float32_serves_the_exact_float_export(model_bank: Path, data_root: Path, start_inference):
    install(model_bank, data_root, "va")
    assert served_tflite(data_root, "va", "float32").name == "model.tflite"
    address, _ = start_inference(INFERENCE_MODEL="va", INFERENCE_PRECISION="float32")
    stub = stub_for(address)
    assert stub.GetModelInfo(inference_pb2.GetModelInfoRequest(), timeout=10).backend == "litert-xnnpack-float32"
    pictures = [test_frame(seed) for seed in (20, 21, 22)]
    answers = [predict(stub, encode_frame(p, i, 0)) for i, p in enumerate(pictures)]
    for picture, answer in zip(pictures, answers, strict=True):
        exact = litert_outputs(data_root, "va", DEFAULT_SPEC(picture), precision="float32")
        np.testing.assert_allclose(answer.outputs, exact, atol=1e-5)
        # the int8 export answers a little differently: the server really serves the float file
        quantized = litert_outputs(data_root, "va", DEFAULT_SPEC(picture))
        np.testing.assert_allclose(quantized, exact, atol=2e-2)
    assert any(
        not np.allclose(a.outputs, litert_outputs(data_root, "va", DEFAULT_SPEC(p)), atol=1e-5)
        for p, a in zip(pictures, answers, strict=True)
    )


def test_a_version_exported_without_int8_serves_its_float_file(model_bank: Path, data_root: Path, start_inference):
    install_float_only(model_bank, data_root, "va", "vold")
    assert served_tflite(data_root, "vold").name == "model.tflite"
    address, _ = start_inference(INFERENCE_MODEL="vold")  # INFERENCE_PRECISION=int8, the default
    stub = stub_for(address)
    info = stub.GetModelInfo(inference_pb2.GetModelInfoRequest(), timeout=10)
    assert info.version == "vold" and info.backend == "litert-xnnpack-float32"
    rgb = test_frame(23)
    answer = predict(stub, encode_frame(rgb, 1, 0))
    np.testing.assert_allclose(answer.outputs, litert_outputs(data_root, "vold", DEFAULT_SPEC(rgb)), atol=1e-5)


def malformed_frames() -> dict[str, tuple[types_pb2.Frame, str]]:
    good = encode_frame(test_frame(2), 1, 0)
    short = types_pb2.Frame(sequence=2, width=640, height=480, encoding=types_pb2.ENCODING_RAW_RGB, data=b"\0" * 99)
    unset = types_pb2.Frame(sequence=3, width=640, height=480, data=good.data)
    garbage = types_pb2.Frame(sequence=4, width=640, height=480, encoding=types_pb2.ENCODING_PNG, data=b"not a png")
    empty = types_pb2.Frame(sequence=5)
    foreign = encode_frame(CROP_SPEC.prepare(test_frame(2)), 6, 0, preprocess_id=CROP_SPEC.id)
    wrong_size = encode_frame(test_frame(2, 100, 50), 7, 0, preprocess_id=DEFAULT_SPEC.id)
    return {
        "short raw data": (short, "needs 921600 bytes, got 99"),
        "no encoding": (unset, "unknown encoding"),
        "undecodable png": (garbage, "cannot decode"),
        "empty frame": (empty, "zero size"),
        "pre-processed for another spec": (foreign, f"pre-processed for spec {CROP_SPEC.id}"),
        "pre-processed at the wrong size": (wrong_size, "100x50"),
    }


def test_malformed_frames_are_invalid_argument_and_a_drive_stream_survives_them(
    model_bank: Path, data_root: Path, start_inference
):
    install(model_bank, data_root, "va")
    address, _ = start_inference(INFERENCE_MODEL="va")
    stub = stub_for(address)
    bad = malformed_frames()
    for name, (frame, message) in bad.items():
        with pytest.raises(grpc.RpcError) as caught:
            predict(stub, frame)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, name
        assert message in caught.value.details(), (name, caught.value.details())
        assert f"frame {frame.sequence}" in caught.value.details(), name

    # Drive: a bad frame is answered neutral + stale with a typed error code (and the reason as
    # detail); a spec mismatch also names the spec served now; the stream goes on
    good = [encode_frame(test_frame(3), 1000 + i, 0) for i in range(3)]
    frames = [good[0], *(frame for frame, _ in bad.values()), good[1], good[2]]
    answers = list(stub.Drive(iter(frames), timeout=60))
    assert [a.frame_sequence for a in answers] == [f.sequence for f in frames]
    for answer, (name, (_frame, message)) in zip(answers[1:-2], bad.items(), strict=True):
        assert answer.stale and answer.source == types_pb2.STEERING_SOURCE_SAFETY
        assert message in answer.error
        assert answer.joystick == types_pb2.Joystick() and list(answer.outputs) == []
        if name == "pre-processed for another spec":
            assert answer.error_code == types_pb2.STEERING_ERROR_SPEC_MISMATCH
            assert answer.serving_preprocess_id == DEFAULT_SPEC.id
        else:
            assert answer.error_code == types_pb2.STEERING_ERROR_INVALID_FRAME, name
            assert answer.serving_preprocess_id == ""
    for answer in (answers[0], answers[-2], answers[-1]):
        assert not answer.stale and answer.error == "" and answer.model_version == "va"
        assert answer.error_code == types_pb2.STEERING_ERROR_UNSPECIFIED


def test_no_model_is_failed_precondition_until_one_is_promoted(
    model_bank: Path, data_root: Path, redis_url: str, start_inference
):
    install(model_bank, data_root, "va")
    address, _ = start_inference()  # follows the registry, which has no active version
    stub = stub_for(address)
    frame = encode_frame(test_frame(4), 1, 0)
    for call in (
        lambda: predict(stub, frame),
        lambda: list(stub.Drive(iter([frame]), timeout=30)),
        lambda: stub.GetModelInfo(inference_pb2.GetModelInfoRequest(), timeout=10),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "no active model" in caught.value.details()

    ModelRegistry.from_url(data_root, redis_url).promote("va")
    answer = wait_for_version(stub, frame, "va")
    np.testing.assert_allclose(answer.outputs, litert_outputs(data_root, "va", DEFAULT_SPEC(test_frame(4))), atol=1e-5)


def wait_for_version(stub, frame: types_pb2.Frame, version: str, attempts: int = 300) -> types_pb2.Steering:
    """Predict until the server answers with `version` (it follows the registry)."""
    for _ in range(attempts):
        try:
            answer = predict(stub, frame)
            if answer.model_version == version:
                return answer
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
        time.sleep(0.1)
    raise AssertionError(f"server never served {version}")


def test_token_is_required_when_set(model_bank: Path, data_root: Path, start_inference):
    install(model_bank, data_root, "va")
    address, _ = start_inference(INFERENCE_MODEL="va", TENSORKART_TOKEN="s3cret")
    frame = encode_frame(test_frame(5), 1, 0)
    for token in (None, "wrong"):
        with pytest.raises(grpc.RpcError) as caught:
            predict(stub_for(address, token), frame)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert predict(stub_for(address, "s3cret"), frame).model_version == "va"


def test_pinned_model_that_cannot_load_stops_the_server_with_a_clear_error(
    data_root: Path, start_service, redis_url: str
):
    with pytest.raises(RuntimeError) as caught:
        start_service(
            "tensorkart_inference",
            {
                "TENSORKART_DATA": str(data_root),
                "REDIS_URL": redis_url,
                "INFERENCE_MODEL": "nope",
                "INFERENCE_PORT": "0",
                "INFERENCE_METRICS_PORT": "0",
            },
            grpc=True,
        )
    assert "unknown model version 'nope'" in str(caught.value)
    assert redis.Redis.from_url(redis_url).get("tensorkart:models:active") is None  # nothing touched
