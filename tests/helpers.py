"""Test helpers: free ports, real service processes started and stopped like in production."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tensorkart_core.health import wait_until_serving

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServiceProcess:
    """A service running as a real child process (python -m <module>)."""

    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def terminate(self, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill9(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start_module(
    module: str,
    env: dict[str, str],
    log_path: Path,
    ready: Callable[[], bool] | None = None,
    grpc_address: str | None = None,
    timeout: float = 60.0,
    args: list[str] | None = None,
) -> ServiceProcess:
    """Start `python -m module` with `env` added; wait until `ready()` or the gRPC health says SERVING."""
    log_file = open(log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
    process = subprocess.Popen(
        [sys.executable, "-m", module, *(args or [])],
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    service = ServiceProcess(process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{module} exited with {process.returncode}:\n{service.log()}")
        if grpc_address and wait_until_serving(grpc_address, timeout=0.5):
            return service
        if ready and ready():
            return service
        if not grpc_address and not ready:
            return service
        time.sleep(0.1)
    service.kill9()
    raise RuntimeError(f"{module} not ready after {timeout}s:\n{service.log()}")
