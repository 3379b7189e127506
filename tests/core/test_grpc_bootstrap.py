"""The shared gRPC bootstrap, exercised on the real service processes: health, reflection,
token auth, message size limit, graceful SIGTERM, readable settings errors."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.proto.v1 import recorder_pb2, recorder_pb2_grpc
from tests.helpers import any_port_env

SERVICES = {
    "recorder": ("tensorkart_recorder", "RECORDER", "tensorkart.v1.Recorder"),
    "inference": ("tensorkart_inference", "INFERENCE", "tensorkart.v1.Inference"),
    "controller": ("tensorkart_controller", "CONTROLLER", "tensorkart.v1.Controller"),
}


def service_env(prefix: str, data_root: Path, redis_url: str, **extra: str) -> dict[str, str]:
    """Each listener on a port the service picks (and reports)."""
    return {
        "TENSORKART_DATA": str(data_root),
        "REDIS_URL": redis_url,
        **any_port_env(prefix),
        f"{prefix}_HOST": "127.0.0.1",
        "CONTROLLER_HTTP_PORT": "0",
        **extra,
    }


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_serves_health_and_reflection(name, start_service, data_root, redis_url) -> None:
    module, prefix, full_name = SERVICES[name]
    env = service_env(prefix, data_root, redis_url)
    service = start_service(module, env, grpc=True)
    address = service.address("grpc")
    with grpc.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        # "" is liveness; the service's own name is readiness: inference has no model here, so it
        # is alive but not ready (tests/inference/test_readiness.py follows it to SERVING)
        ready = (
            health_pb2.HealthCheckResponse.NOT_SERVING
            if name == "inference"
            else health_pb2.HealthCheckResponse.SERVING
        )
        for service, expected in (("", health_pb2.HealthCheckResponse.SERVING), (full_name, ready)):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == expected, service
        services = ProtoReflectionDescriptorDatabase(channel).get_services()
    assert full_name in services
    assert "grpc.health.v1.Health" in services


def test_token_is_required_when_set(start_service, data_root, redis_url) -> None:
    env = service_env("RECORDER", data_root, redis_url, TENSORKART_TOKEN="s3cret")
    service = start_service("tensorkart_recorder", env, grpc=True)
    address = service.address("grpc")
    request = recorder_pb2.GetSessionRequest(name="nothing-here")
    for token in ("", "wrong"):
        with make_channel(address, token=token) as channel:
            with pytest.raises(grpc.RpcError) as error:
                recorder_pb2_grpc.RecorderStub(channel).GetSession(request, timeout=5)
            assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with make_channel(address, token="s3cret") as channel:
        try:
            recorder_pb2_grpc.RecorderStub(channel).GetSession(request, timeout=5)
        except grpc.RpcError as error:  # an unknown session is fine; being let in is the point
            assert error.code() != grpc.StatusCode.UNAUTHENTICATED


def test_oversized_message_is_refused_and_server_keeps_serving(start_service, data_root, redis_url) -> None:
    env = service_env("RECORDER", data_root, redis_url, RECORDER_MAX_MESSAGE_BYTES=str(64 * 1024))
    service = start_service("tensorkart_recorder", env, grpc=True)
    address = service.address("grpc")
    with make_channel(address) as channel:
        stub = recorder_pb2_grpc.RecorderStub(channel)
        with pytest.raises(grpc.RpcError) as error:
            stub.GetSession(recorder_pb2.GetSessionRequest(name="x" * 200_000), timeout=5)
        assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "larger than max" in (error.value.details() or "")
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_turns_health_not_serving_then_exits_cleanly(signum, start_service, data_root, redis_url) -> None:
    env = service_env("RECORDER", data_root, redis_url, RECORDER_GRACE_SECONDS="2")
    service = start_service("tensorkart_recorder", env, grpc=True)
    address = service.address("grpc")
    statuses: list[int] = []
    watching = threading.Event()

    def watch() -> None:
        with grpc.insecure_channel(address) as channel:
            stream = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))
            try:
                for reply in stream:
                    statuses.append(reply.status)
                    watching.set()
            except grpc.RpcError:
                pass

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert watching.wait(10)
    service.process.send_signal(signum)
    assert service.process.wait(30) == 0
    watcher.join(10)
    assert statuses[0] == health_pb2.HealthCheckResponse.SERVING
    assert health_pb2.HealthCheckResponse.NOT_SERVING in statuses
    assert "stopped cleanly" in service.log()


@pytest.mark.parametrize(
    ("module", "variable", "value"),
    [
        ("tensorkart_recorder", "RECORDER_PORT", "not-a-port"),
        ("tensorkart_inference", "INFERENCE_MAX_MESSAGE_BYTES", "-5"),
        ("tensorkart_controller", "CONTROLLER_GRACE_SECONDS", "soon"),
    ],
)
def test_invalid_environment_variable_gives_a_readable_error(module, variable, value, data_root) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", module],
        env={"PATH": "/usr/bin:/bin", "TENSORKART_DATA": str(data_root), variable: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert f"invalid environment variable {variable}={value!r}" in completed.stderr
    assert "Traceback" not in completed.stderr
