"""The one way TensorKart starts child processes: the local stack (`tensorkart up`), private
stacks for play/eval, benchmarks, the demo and the tests.

A `Launcher` starts each service in its own process group (`process_group=0`) with the
environment given, captures its output (to a log file, or line by line to a callback with the
last lines kept for error messages), and hands it a private TENSORKART_PORTS_FILE. A service
told to bind port 0 reports the ports it bound there (tensorkart_core.ports); `wait_ready`
waits until the ports a spec expects are reported and its readiness probe passes (gRPC health
SERVING, an HTTP 200). `stop` sends SIGTERM to the process group, then SIGKILL after a grace
period. Used as a context manager it stops everything it started on exit.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tensorkart_core.ports import PORTS_FILE_ENV, read_ports

LOOPBACK = "127.0.0.1"
_ports_dir: Path | None = None
_ports_files = itertools.count()


def _new_ports_file(name: str) -> Path:
    """A fresh file name for one child's ports, in this process's folder (removed at exit)."""
    global _ports_dir
    if _ports_dir is None:
        _ports_dir = Path(tempfile.mkdtemp(prefix="tensorkart-ports-"))
        atexit.register(shutil.rmtree, _ports_dir, True)
    return _ports_dir / f"{name}-{next(_ports_files)}.json"


class LaunchError(RuntimeError):
    """A child exited or was not ready in time; the message carries its own last error line."""


@dataclass
class ServiceSpec:
    """How to start one service and how to tell it is ready.

    `ports`: the keys the service must report (e.g. ("grpc", "metrics")) before it counts as
    started; `ready(child)` then probes it (it may use `child.address("grpc")`)."""

    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    ports: Sequence[str] = ()
    ready: Callable[[Child], bool] | None = None
    endpoint: Callable[[Child], str] = lambda _child: ""  # shown to the user once ready


@dataclass
class Child:
    """A started service process."""

    spec: ServiceSpec
    process: subprocess.Popen
    ports_file: Path
    log_path: Path | None = None
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=400))
    pump: threading.Thread | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def ports(self) -> dict[str, int]:
        """The ports the service reported so far."""
        return read_ports(self.ports_file)

    def port(self, key: str = "grpc") -> int:
        try:
            return self.ports[key]
        except KeyError:
            raise LaunchError(f"{self.name} has not reported its {key} port") from None

    def address(self, key: str = "grpc", host: str = LOOPBACK) -> str:
        return f"{host}:{self.port(key)}"

    def url(self, key: str = "http", host: str = LOOPBACK) -> str:
        return f"http://{host}:{self.port(key)}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        """Everything the child wrote (its log file), else the last lines kept."""
        if self.log_path is not None:
            return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(self.recent)

    def last_error(self) -> str:
        """The child's own last error line (else its last line), for a one-line failure message."""
        lines = [line.strip() for line in self.log().splitlines() if line.strip()]
        for line in reversed(lines):
            lowered = line.lower()
            if "error" in lowered or lowered.startswith("tensorkart"):
                return line
        return lines[-1] if lines else "no output"

    def ready(self) -> bool:
        """Every expected port reported and the readiness probe passes."""
        reported = self.ports
        if any(key not in reported for key in self.spec.ports):
            return False
        return self.spec.ready is None or self.spec.ready(self)

    def stop(self, grace_seconds: float = 10.0) -> int:
        """SIGTERM to the process group, SIGKILL after `grace_seconds`; the exit status."""
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(grace_seconds)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait()
        if self.pump is not None:
            self.pump.join(timeout=2)
        return self.process.returncode

    def terminate(self, timeout: float = 15.0) -> int:
        """`stop` under the name subprocess uses."""
        return self.stop(timeout)

    def signal(self, signum: int) -> None:
        """Send `signum` to the child's process group (while the child lives)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signum)

    def kill9(self) -> None:
        self.signal(signal.SIGKILL)
        self.process.wait()


class Launcher:
    """Starts children, waits for them, stops them (in reverse order); a context manager."""

    def __init__(
        self,
        out: Callable[[str, str], None] | None = None,
        log_dir: Path | None = None,
        grace_seconds: float = 10.0,
    ) -> None:
        """`out(name, line)` receives every output line when given; else with `log_dir` each
        child writes `<log_dir>/<name>.log`; else output is only kept (last lines)."""
        self.children: list[Child] = []
        self.out = out
        self.log_dir = log_dir
        self.grace_seconds = grace_seconds

    def start(self, spec: ServiceSpec, log_path: Path | None = None) -> Child:
        """Start `spec` (its env added to ours, PYTHONUNBUFFERED=1) in a new process group."""
        ports_file = _new_ports_file(spec.name)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **spec.env, PORTS_FILE_ENV: str(ports_file)}
        if log_path is None and self.log_dir is not None and self.out is None:
            log_path = self.log_dir / f"{spec.name}.log"
        log_file: IO[bytes] | int = subprocess.PIPE
        if log_path is not None:
            log_file = open(log_path, "ab")  # noqa: SIM115 - closed below, the child keeps its copy
        try:
            process = subprocess.Popen(
                spec.command,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                process_group=0,
            )
        finally:
            if log_path is not None:
                log_file.close()  # type: ignore[union-attr]
        child = Child(spec, process, ports_file, log_path)
        if log_path is None:
            child.pump = threading.Thread(target=self._pump, args=(child,), name=f"out-{spec.name}", daemon=True)
            child.pump.start()
        self.children.append(child)
        return child

    def _pump(self, child: Child) -> None:
        assert child.process.stdout is not None
        for raw in child.process.stdout:
            line = raw.decode(errors="replace").rstrip()
            child.recent.append(line)
            if self.out is not None:
                self.out(child.name, line)

    def dead(self) -> list[Child]:
        return [child for child in self.children if not child.alive()]

    def wait_ready(
        self, timeout: float, children: Sequence[Child] | None = None, stop: threading.Event | None = None
    ) -> list[Child]:
        """Wait until `children` (default: all) are ready; returns those that are not (a child
        that died stops the wait at once)."""
        deadline = time.monotonic() + timeout
        pending = list(self.children if children is None else children)
        while pending and time.monotonic() < deadline and not (stop is not None and stop.is_set()):
            if any(not child.alive() for child in pending):
                break
            pending = [child for child in pending if not child.ready()]
            if pending:
                time.sleep(0.1)
        return pending

    def start_ready(self, spec: ServiceSpec, timeout: float = 120.0, log_path: Path | None = None) -> Child:
        """Start `spec` and wait until it is ready; LaunchError (child stopped) otherwise."""
        child = self.start(spec, log_path)
        if self.wait_ready(timeout, [child]):
            state = f"exited with status {child.process.returncode}" if not child.alive() else "was not ready"
            child.kill9()
            raise LaunchError(f"{spec.name} {state} after {timeout:.0f}s at most: {child.last_error()}\n{child.log()}")
        return child

    def stop_all(self) -> None:
        """SIGTERM every child (last started first), then SIGKILL those still alive after the grace."""
        for child in reversed(self.children):
            child.signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        for child in reversed(self.children):
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                if self.out is not None:
                    self.out(child.name, f"did not stop in {self.grace_seconds:.0f}s; killing it")
                child.kill9()
        for child in self.children:
            if child.pump is not None:
                child.pump.join(timeout=2)

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop_all()


def python_module(module: str, *args: str) -> list[str]:
    """The command that runs `python -m module ARGS` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def grpc_ready(key: str = "grpc", timeout: float = 0.5) -> Callable[[Child], bool]:
    """Readiness: the gRPC health service on the reported `key` port answers SERVING."""

    def probe(child: Child) -> bool:
        from tensorkart_core.health import check

        return check(child.address(key), timeout=timeout) == "SERVING"

    return probe


def http_ready(path: str = "/healthz", key: str = "http") -> Callable[[Child], bool]:
    """Readiness: GET `path` on the reported `key` port answers 200."""

    def probe(child: Child) -> bool:
        import httpx

        try:
            return httpx.get(child.url(key) + path, timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    return probe


@contextlib.contextmanager
def launched(spec: ServiceSpec, timeout: float = 120.0, log_path: Path | None = None) -> Iterator[Child]:
    """One service, started and ready for the `with` block, stopped after it."""
    with Launcher() as launcher:
        yield launcher.start_ready(spec, timeout, log_path)
