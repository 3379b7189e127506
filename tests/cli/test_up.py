"""`tensorkart up` as a real supervisor: every service healthy, reflection lists the
tensorkart.v1 services, the trainer answers, Ctrl-C leaves no process behind, and the
stack stops (non-zero) when a service dies."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from tests.helpers import UpProcess


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_up_serves_everything_and_ctrl_c_leaves_nothing(data_root, redis_url) -> None:
    up = UpProcess(data_root, redis_url)
    try:
        up.wait_for("TensorKart stack is up")
        endpoints = up.endpoints()
        expected = {"recorder": "Recorder", "inference": "Inference", "controller": "Controller"}
        for name, service in expected.items():
            with grpc.insecure_channel(endpoints[name]) as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
                services = ProtoReflectionDescriptorDatabase(channel).get_services()
                assert f"tensorkart.v1.{service}" in services
        # Case 7: the export line other commands need, matching the random ports.
        exports = dict(item.split("=", 1) for item in next(x for x in up.lines if x.startswith("export ")).split()[1:])
        assert exports["RECORDER_ADDR"] == endpoints["recorder"]
        assert exports["INFERENCE_ADDR"] == endpoints["inference"]
        assert exports["CONTROLLER_ADDR"] == endpoints["controller"]
        assert exports["TRAINER_URL"] == f"http://{endpoints['trainer']}"
        assert exports["CONTROLLER_INPUT_BOT_URL"] == up.input_bot()
        assert exports["TENSORKART_DATA"] == str(data_root.resolve())
        schema = httpx.get(f"http://{endpoints['trainer']}/openapi.json", timeout=10).json()
        assert schema["info"]["title"] == "TensorKart trainer"
        children = up.children()
        assert len(children) >= 5
        up.process.send_signal(signal.SIGINT)
        assert up.process.wait(60) == 0
        up.reader.join(5)
        assert "all services stopped" in up.lines[-1]
        assert not [pid for pid in children if alive(pid)]
    finally:
        up.stop()


def test_up_exits_non_zero_when_a_service_dies(data_root, redis_url) -> None:
    up = UpProcess(data_root, redis_url)
    try:
        up.wait_for("TensorKart stack is up")
        children = up.children()
        victim = next(pid for pid in children if "tensorkart_controller" in Path(f"/proc/{pid}/cmdline").read_text())
        os.kill(victim, signal.SIGKILL)
        assert up.process.wait(60) == 1
        up.reader.join(5)
        assert any("controller exited" in line for line in up.lines)
        assert not [pid for pid in children if alive(pid)]
    finally:
        up.stop()


def test_up_starts_a_private_redis_when_none_answers(data_root) -> None:

    up = UpProcess(data_root, f"unix://{data_root}/nobody-listens.sock?db=0")
    try:
        up.wait_for("TensorKart stack is up")
        # A private redis-server on a Unix socket: no TCP port chosen before it binds.
        assert any(re.match(r"^\s+redis\s+unix://\S+/redis\.sock\?db=0$", line) for line in up.lines)
        exports = next(x for x in up.lines if x.startswith("export "))
        assert "REDIS_URL=unix://" in exports
        up.process.send_signal(signal.SIGTERM)
        assert up.process.wait(60) == 0
    finally:
        up.stop()
