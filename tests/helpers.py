"""Test helpers: free ports, real service processes started and stopped like in production."""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tensorkart_core.health import wait_until_serving
from tensorkart_core.launcher import Child, Launcher, LaunchError, ServiceSpec, python_module

REPO = Path(__file__).resolve().parent.parent


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


_EPHEMERAL_LOW, _EPHEMERAL_HIGH = _ephemeral_range()
_handed_out: set[int] = set()
_random = random.Random()


def free_port() -> int:
    """A port no socket holds now, chosen below the kernel's ephemeral range.

    A port the kernel hands out for bind(0) is also the pool it draws client source ports from:
    between this check and the server's bind, any of the suite's many short TCP connections (every
    input-bot poll is one) could take it, and the server then fails with EADDRINUSE. Below the
    ephemeral range only explicit binds can collide, and this process never hands a port out twice.
    """
    low = 20000 if _EPHEMERAL_LOW > 21000 else 1024
    high = min(_EPHEMERAL_LOW, 65536) - 1
    for _ in range(200):
        port = _random.randint(low, high)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port found in {low}-{high}")


ServiceProcess = Child  # a service running as a real child process, started by the one launcher


def start_module(
    module: str,
    env: dict[str, str],
    log_path: Path,
    ready: Callable[[], bool] | None = None,
    grpc_address: str | None = None,
    timeout: float = 60.0,
    args: list[str] | None = None,
    ports: tuple[str, ...] = (),
    grpc: bool = False,
) -> ServiceProcess:
    """Start `python -m module ARGS` with `env` added (tensorkart_core.launcher); wait until the
    `ports` it must report are reported and it is ready: gRPC health SERVING on its reported
    gRPC port (`grpc`) or at `grpc_address`, or `ready()`.

    Services bind port 0 (e.g. CONTROLLER_PORT=0) and report what they bound: read it back with
    `service.address("grpc")`, `service.port("http")`."""

    def probe(child: Child) -> bool:
        if grpc and not wait_until_serving(child.address("grpc"), timeout=0.5):
            return False
        if grpc_address and not wait_until_serving(grpc_address, timeout=0.5):
            return False
        return ready() if ready is not None else True

    spec = ServiceSpec(
        module,
        python_module(module, *(args or [])),
        env,
        ports=("grpc", *ports) if grpc and "grpc" not in ports else ports,
        ready=probe,
    )
    try:
        return Launcher().start_ready(spec, timeout, log_path)
    except LaunchError as error:
        raise RuntimeError(str(error)) from None


def any_port_env(prefix: str, *names: str) -> dict[str, str]:
    """`{PREFIX_PORT: "0", PREFIX_METRICS_PORT: "0", ...}`: each listener on a port the kernel picks."""
    return {f"{prefix}_{name}": "0" for name in ("PORT", "METRICS_PORT", *names)}


TENSORKART = str(Path(sys.executable).parent / "tensorkart")
ENDPOINT = re.compile(r"^\s+(\w+)\s+(?:grpc|http)://([\d.]+:\d+)")
INPUT_BOT = re.compile(r"input-bot (http://[\d.]+:\d+)")


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

    def input_bot(self) -> str:
        return next(m.group(1) for line in self.lines if (m := INPUT_BOT.search(line)))

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


@contextmanager
def xvfb_server(screen: str = "640x480x24") -> Iterator[str]:
    """A private Xvfb on a display number it picks itself (-displayfd); yields ":N"."""
    binary = shutil.which("Xvfb")
    if binary is None:
        pytest.fail("Xvfb is not installed (apt-get install -y xvfb; .ci/run installs it)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [binary, "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        pytest.fail("Xvfb did not report a display number")
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)
