"""Fixtures for the controller tests: a real `python -m tensorkart_controller` on free ports,
and a client that polls the input-bot port exactly like the mupen64plus plugin does."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.inputbot import ALL_KEYS
from tensorkart_core.proto.v1 import controller_pb2, controller_pb2_grpc, types_pb2
from tests.helpers import ServiceProcess, any_port_env

N64_KEYS = set(ALL_KEYS)  # the 16 keys of the plugin's JSON object (tensorkart_core.inputbot)


def raw_poll(http_port: int, path: str = "/0", timeout: float = 30.0) -> bytes:
    """One poll as mupen64plus-input-bot's controller.c does it: new connection, the request,
    read until the server closes (the plugin keeps at most 4095 bytes)."""
    with socket.create_connection(("127.0.0.1", http_port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        received = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:  # the server closed the connection
                return received
            received += chunk


def split_reply(reply: bytes) -> tuple[str, bytes]:
    """(status line, body after the first blank line), as the plugin finds the body."""
    head, _, body = reply.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0].decode(), body


def poll_pad(http_port: int, port: int = 0) -> dict[str, int]:
    status, body = split_reply(raw_poll(http_port, f"/{port}"))
    assert status == "HTTP/1.0 200 OK", status
    pad = json.loads(body)
    assert set(pad) == N64_KEYS and all(type(v) is int for v in pad.values()), pad
    return pad


def steering(
    x: float = 0.0,
    y: float = 0.0,
    source: int = types_pb2.STEERING_SOURCE_MODEL,
    frame: int = 0,
    port: int = 0,
    **buttons: bool,
) -> types_pb2.Steering:
    return types_pb2.Steering(
        frame_sequence=frame,
        source=source,
        port=port,
        joystick=types_pb2.Joystick(x=x, y=y, **buttons),
    )


def start_poll(http_port: int, port: int = 0) -> tuple[threading.Event, dict]:
    done, result = threading.Event(), {}

    def run() -> None:
        started = time.monotonic()
        result["pad"] = poll_pad(http_port, port)
        result["seconds"] = time.monotonic() - started
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done, result


@dataclass
class RunningController:
    process: ServiceProcess
    grpc_address: str
    http_port: int
    metrics_port: int
    stub: controller_pb2_grpc.ControllerStub

    def set(self, *args, **kwargs) -> types_pb2.ControllerState:
        return self.stub.SetSteering(steering(*args, **kwargs), timeout=30)

    def state(self, port: int = 0) -> types_pb2.ControllerState:
        return self.stub.GetState(controller_pb2.GetStateRequest(port=port), timeout=30)

    def poll(self, port: int = 0) -> dict[str, int]:
        return poll_pad(self.http_port, port)

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=30) as reply:
            return reply.read().decode()


@pytest.fixture
def start_controller(start_service) -> Callable[..., RunningController]:
    """start_controller(**env) runs the controller with CONTROLLER_* settings from `env`."""

    def start(token: str | None = None, **env: str) -> RunningController:
        variables = {
            "CONTROLLER_HOST": "127.0.0.1",
            "CONTROLLER_HTTP_HOST": "127.0.0.1",
            **any_port_env("CONTROLLER", "HTTP_PORT"),
            "TENSORKART_TOKEN": token or "",
            **{f"CONTROLLER_{key.upper()}": value for key, value in env.items()},
        }
        process = start_service("tensorkart_controller", variables, grpc=True, ports=("http", "metrics"))
        address = process.address("grpc")
        stub = controller_pb2_grpc.ControllerStub(make_channel(address, token=token or ""))
        return RunningController(process, address, process.port("http"), process.port("metrics"), stub)

    return start
