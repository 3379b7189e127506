"""The one launcher (tensorkart_core.launcher) and port reporting (tensorkart_core.ports): real
service processes bind port 0, report what they bound, are found ready on those ports, and stop
cleanly on SIGTERM; a child that dies or ignores SIGTERM is named or killed."""

from __future__ import annotations

import json
import socket
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tensorkart_core.health import check
from tensorkart_core.launcher import Launcher, LaunchError, ServiceSpec, grpc_ready, python_module
from tensorkart_core.ports import PORTS_FILE_ENV, read_ports, report_ports
from tests.helpers import any_port_env


def test_report_ports_merges_into_the_named_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "ports.json"
    report_ports(grpc=1)  # no TENSORKART_PORTS_FILE: nothing written, no error
    monkeypatch.setenv(PORTS_FILE_ENV, str(target))
    report_ports(grpc=41234, metrics=40111)
    report_ports(http=39877)
    assert json.loads(target.read_text()) == {"grpc": 41234, "http": 39877, "metrics": 40111}
    assert read_ports(target) == {"grpc": 41234, "http": 39877, "metrics": 40111}
    assert read_ports(tmp_path / "missing.json") == {}
    assert list(tmp_path.iterdir()) == [target]  # the temporary file was renamed into place


def test_controller_on_port_zero_reports_its_ports_and_stops_cleanly(tmp_path: Path) -> None:
    env = {
        "CONTROLLER_HOST": "127.0.0.1",
        "CONTROLLER_HTTP_HOST": "127.0.0.1",
        **any_port_env("CONTROLLER", "HTTP_PORT"),
    }
    spec = ServiceSpec(
        "controller", python_module("tensorkart_controller"), env, ("grpc", "http", "metrics"), grpc_ready()
    )
    with Launcher(log_dir=tmp_path) as launcher:
        controller = launcher.start_ready(spec, timeout=120)
        ports = controller.ports
        assert set(ports) == {"grpc", "http", "metrics"} and all(port > 0 for port in ports.values())
        assert check(controller.address("grpc"), timeout=5) == "SERVING"
        with socket.create_connection(("127.0.0.1", ports["http"]), timeout=5) as poll:  # the input-bot protocol
            poll.sendall(b"GET /0 HTTP/1.0\r\n\r\n")
            reply = b"".join(iter(lambda: poll.recv(4096), b""))
        assert reply.startswith(b"HTTP/1.0 200") and b'"X_AXIS"' in reply
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{ports['metrics']}/metrics", timeout=5).read()
        assert b"tensorkart_" in metrics
        assert controller.stop(grace_seconds=30) == 0  # SIGTERM to its process group: a clean exit
    assert "stopped cleanly" in (tmp_path / "controller.log").read_text()


def test_a_child_that_dies_is_named_with_its_own_error(tmp_path: Path) -> None:
    spec = ServiceSpec(
        "controller",
        python_module("tensorkart_controller"),
        {"CONTROLLER_MODE": "sideways", "CONTROLLER_PORT": "0", "CONTROLLER_METRICS_PORT": "0"},
        ("grpc",),
        grpc_ready(),
    )
    with Launcher(log_dir=tmp_path) as launcher, pytest.raises(LaunchError) as caught:
        launcher.start_ready(spec, timeout=60)
    assert "controller exited with status 2" in str(caught.value)
    assert "CONTROLLER_MODE='sideways'" in str(caught.value)


def test_output_lines_reach_the_callback_and_sigterm_ignored_means_sigkill() -> None:
    lines: list[tuple[str, str]] = []
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    )
    launcher = Launcher(out=lambda name, line: lines.append((name, line)), grace_seconds=0.5)
    child = launcher.start(ServiceSpec("stubborn", [sys.executable, "-c", stubborn]))
    assert not launcher.wait_ready(30)  # no ports expected, no probe: ready once started
    deadline = time.monotonic() + 30
    while not lines and time.monotonic() < deadline:
        time.sleep(0.05)
    launcher.stop_all()
    assert child.process.returncode == -9  # it ignored SIGTERM: killed after the grace period
    assert ("stubborn", "up") in lines
