"""`tensorkart up` as a real supervisor: every service healthy, reflection lists the
tensorkart.v1 services, the trainer answers, Ctrl-C leaves no process behind, and the
stack stops (non-zero) when a service dies."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

TENSORKART = str(Path(sys.executable).parent / "tensorkart")
ENDPOINT = re.compile(r"^\s+(\w+)\s+(?:grpc|http)://([\d.]+:\d+)")


class UpProcess:
    """`tensorkart up` in the background, its output collected line by line."""

    def __init__(self, data_root: Path, redis_url: str) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [TENSORKART, "up", "--random-ports", "--data", str(data_root)],
            env={**os.environ, "REDIS_URL": redis_url},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"never saw {text!r}; output:\n" + "\n".join(self.lines[-80:]))

    def endpoints(self) -> dict[str, str]:
        found = {}
        for line in self.lines:
            match = ENDPOINT.match(line)
            if match:
                found[match.group(1)] = match.group(2)
        return found

    def children(self) -> list[int]:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


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
    from tests.helpers import free_port

    up = UpProcess(data_root, f"redis://127.0.0.1:{free_port()}/0")
    try:
        up.wait_for("TensorKart stack is up")
        assert any(re.match(r"^\s+redis\s+redis://127\.0\.0\.1:\d+/0$", line) for line in up.lines)
        up.process.send_signal(signal.SIGTERM)
        assert up.process.wait(60) == 0
    finally:
        up.stop()
