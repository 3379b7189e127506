"""The TensorFlow backend (GPU host; here on CPU) with dynamic batching, and TLS + token."""

from __future__ import annotations

import subprocess
import time
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.images import encode_frame
from tensorkart_core.preprocess import DEFAULT_SPEC
from tensorkart_core.proto.v1 import inference_pb2, inference_pb2_grpc
from tests.inference.modelbank import install, litert_outputs, test_frame
from tests.inference.test_inference_server import predict


def test_tensorflow_backend_batches_concurrent_frames_and_matches_litert(
    model_bank: Path, data_root: Path, start_inference
):
    install(model_bank, data_root, "va")
    address, _ = start_inference(INFERENCE_MODEL="va", INFERENCE_BACKEND="tensorflow", INFERENCE_BATCH_WAIT_MS="5")
    stub = inference_pb2_grpc.InferenceStub(make_channel(address))
    info = stub.GetModelInfo(inference_pb2.GetModelInfoRequest(), timeout=30)
    assert info.backend == "tensorflow-cpu" and info.version == "va"
    pictures = [test_frame(seed) for seed in range(8)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: predict(stub, encode_frame(pictures[i], i, 0)), range(8)))
    for i, answer in enumerate(answers):
        assert answer.frame_sequence == i and answer.model_version == "va"
        np.testing.assert_allclose(
            answer.outputs,
            litert_outputs(data_root, "va", DEFAULT_SPEC(pictures[i]), precision="float32"),  # Keras is float32
            atol=1e-4,
        )


def make_certificate(folder: Path) -> tuple[Path, Path]:
    key, cert = folder / "server.key", folder / "server.crt"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=inference.test",
            "-addext", "subjectAltName=DNS:inference.test,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_tls_with_token(model_bank: Path, data_root: Path, start_service, redis_url: str, tmp_path: Path):
    install(model_bank, data_root, "va")
    cert, key = make_certificate(tmp_path)
    env = {
        "TENSORKART_DATA": str(data_root),
        "REDIS_URL": redis_url,
        "INFERENCE_MODEL": "va",
        "INFERENCE_HOST": "127.0.0.1",
        "INFERENCE_PORT": "0",
        "INFERENCE_METRICS_PORT": "0",
        "INFERENCE_TLS_CERT": str(cert),
        "INFERENCE_TLS_KEY": str(key),
        "TENSORKART_TOKEN": "tls-token",
    }
    address = start_service("tensorkart_inference", env, ports=("grpc",)).address("grpc")
    frame = encode_frame(test_frame(9), 1, 0)
    secure = inference_pb2_grpc.InferenceStub(make_channel(address, token="tls-token", tls_ca=cert))
    answer = None
    for _ in range(200):
        try:
            answer = predict(secure, frame)
            break
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            time.sleep(0.1)
    assert answer is not None and answer.model_version == "va"
    with pytest.raises(grpc.RpcError) as caught:  # plaintext client against a TLS server
        inference_pb2_grpc.InferenceStub(make_channel(address, token="tls-token", tls_ca="")).Predict(
            inference_pb2.PredictRequest(frame=frame), timeout=3
        )
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    with pytest.raises(grpc.RpcError) as caught:  # TLS, no token
        inference_pb2_grpc.InferenceStub(make_channel(address, token="", tls_ca=cert)).Predict(
            inference_pb2.PredictRequest(frame=frame), timeout=5
        )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_inference_ca_variable_gives_tls_to_inference_channels_only(tmp_path: Path, monkeypatch):
    """INFERENCE_TLS_CA: the edge talks TLS to a remote inference host, plaintext to the rest."""
    from tensorkart_core.grpc_client import INFERENCE_CA_VARIABLES

    cert, key = make_certificate(tmp_path)
    monkeypatch.delenv("TENSORKART_TLS_CA", raising=False)
    monkeypatch.setenv("INFERENCE_TLS_CA", str(cert))
    tls_server = grpc.server(futures.ThreadPoolExecutor(2))
    tls_port = tls_server.add_secure_port(
        "127.0.0.1:0", grpc.ssl_server_credentials([(key.read_bytes(), cert.read_bytes())])
    )
    plain_server = grpc.server(futures.ThreadPoolExecutor(2))
    plain_port = plain_server.add_insecure_port("127.0.0.1:0")
    for server in (tls_server, plain_server):
        health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
        server.start()
    try:
        request = health_pb2.HealthCheckRequest()
        with make_channel(f"127.0.0.1:{tls_port}", ca_variables=INFERENCE_CA_VARIABLES) as channel:
            assert health_pb2_grpc.HealthStub(channel).Check(request, timeout=10).status == 1
        with make_channel(f"127.0.0.1:{plain_port}") as channel:  # e.g. the local controller
            assert health_pb2_grpc.HealthStub(channel).Check(request, timeout=10).status == 1
    finally:
        tls_server.stop(0)
        plain_server.stop(0)
