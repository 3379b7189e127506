"""The controller as a service: token auth on gRPC, clean exit on SIGTERM."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import grpc
import pytest

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.proto.v1 import controller_pb2, controller_pb2_grpc, types_pb2
from tests.controller.conftest import start_poll


def test_grpc_needs_the_token_when_one_is_set(start_controller):
    controller = start_controller(token="s3cret")
    anonymous = controller_pb2_grpc.ControllerStub(make_channel(controller.grpc_address, token=""))
    with pytest.raises(grpc.RpcError) as error:
        anonymous.GetState(controller_pb2.GetStateRequest(port=0), timeout=30)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    wrong = controller_pb2_grpc.ControllerStub(make_channel(controller.grpc_address, token="wrong"))
    with pytest.raises(grpc.RpcError) as error:
        wrong.SetSteering(types_pb2.Steering(), timeout=30)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert controller.set(x=0.5).x_axis == 40  # the fixture's stub carries the token
    assert controller.state().x_axis == 40


def test_sigterm_answers_waiting_polls_and_exits_cleanly(start_controller):
    controller = start_controller(mode="lock_step", lock_step_timeout_ms="60000")
    done, result = start_poll(controller.http_port)
    assert not done.wait(0.5)  # held in lock-step
    assert controller.process.terminate() == 0
    assert done.wait(20) and result["pad"]["X_AXIS"] == 0  # answered (neutral), not left hanging
    assert "stopped cleanly" in controller.process.log()


def test_the_controller_never_imports_tensorflow():
    code = (
        "import sys, tensorkart_controller.__main__, tensorkart_controller.inputbot, tensorkart_controller.service; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'ai_edge_litert')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def run_controller_expecting_failure(env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {"CONTROLLER_HOST": "127.0.0.1", "CONTROLLER_PORT": "0", "CONTROLLER_METRICS_PORT": "0"}
    return subprocess.run(
        [sys.executable, "-m", "tensorkart_controller"],
        env={**os.environ, **base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_bad_settings_and_a_busy_http_port_fail_with_a_clear_message():
    completed = run_controller_expecting_failure({"CONTROLLER_MODE": "sideways", "CONTROLLER_GAIN": "-1"})
    assert completed.returncode == 2
    assert "CONTROLLER_MODE='sideways'" in completed.stderr and "CONTROLLER_GAIN='-1'" in completed.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        completed = run_controller_expecting_failure(
            {"CONTROLLER_HTTP_HOST": "127.0.0.1", "CONTROLLER_HTTP_PORT": str(port)}
        )
    assert completed.returncode != 0
    assert f"cannot bind input-bot HTTP port 127.0.0.1:{port}" in completed.stderr
