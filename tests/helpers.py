"""Test helpers: real service processes started and stopped like in production (the one
launcher), an address nobody answers at, a private Xvfb."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tensorkart_core.health import wait_until_serving
from tensorkart_core.launcher import Child, Launcher, LaunchError, ServiceSpec, python_module
from tensorkart_core.ports import read_ports

REPO = Path(__file__).resolve().parent.parent


def _refusing_socket() -> socket.socket:
    """A TCP socket bound to a kernel-chosen loopback port and never listening: while this
    process holds it, nobody else can listen there, and every connection to it is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


_REFUSING = _refusing_socket()
NOBODY_PORT = int(_REFUSING.getsockname()[1])
NOBODY = f"127.0.0.1:{NOBODY_PORT}"  # an address where no server answers (connection refused), for the run


def reported_address(ports_file: Path, key: str = "grpc", timeout: float = 30.0) -> str:
    """The loopback address of the `key` port a server in this process reported to `ports_file`
    (TENSORKART_PORTS_FILE), waiting for the report."""
    deadline = time.monotonic() + timeout
    while (port := read_ports(ports_file).get(key)) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"no {key} port reported to {ports_file} in {timeout:.0f}s")
        time.sleep(0.05)
    return f"127.0.0.1:{port}"


def redis_db_url(server: str, db: int) -> str:
    """Database `db` on a Redis server URL, TCP (redis://host:port) or Unix socket (unix://path)."""
    return f"{server}?db={db}" if server.startswith("unix://") else f"{server}/{db}"


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
    """`tensorkart up` in the background (the one launcher), its output collected line by line."""

    def __init__(self, data_root: Path, redis_url: str) -> None:
        self.lines: list[str] = []
        command = [TENSORKART, "up", "--random-ports", "--data", str(data_root)]
        self.launcher = Launcher(out=lambda _name, line: self.lines.append(line))
        self.child = self.launcher.start(ServiceSpec("up", command, {"REDIS_URL": redis_url}))
        self.process = self.child.process
        self.reader = self.child.pump

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
        """SIGTERM, so `tensorkart up` stops its services (each in its own process group); any it
        left behind are killed too."""
        children = self.children()
        self.child.stop(grace_seconds=30)
        for pid in children:
            with contextlib.suppress(OSError):
                if b"tensorkart" in Path(f"/proc/{pid}/cmdline").read_bytes():  # still ours, not a reused pid
                    os.kill(pid, signal.SIGKILL)
        if self.reader is not None:
            self.reader.join(5)


@contextlib.contextmanager
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


def load_demo():
    """tools/demo.py as a module (its recipes)."""
    spec = importlib.util.spec_from_file_location("tensorkart_demo", Path(__file__).parents[1] / "tools" / "demo.py")
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    sys.modules["tensorkart_demo"] = demo  # dataclasses look their module up
    spec.loader.exec_module(demo)
    return demo
