"""A small process supervisor for `tensorkart up`: the local stack as child processes.

Starts each service with embedded defaults, forwards their output prefixed with the
service name, waits until each answers its health check, prints the endpoints, and on
Ctrl-C / SIGTERM stops them all (SIGTERM, then SIGKILL after a grace period). If one
dies, the others are stopped and the supervisor exits non-zero.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tensorkart_cli.errors import CliError

# httpx, redis and grpc are imported where used: every tensorkart command imports this module,
# and a command that fails its preflight should not pay for them.

PR_SET_PDEATHSIG = 1


@dataclass
class ChildSpec:
    """How to start one service and how to tell it is ready."""

    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    endpoint: str = ""  # shown to the user
    ready: Callable[[], bool] = lambda: True


@dataclass
class Child:
    spec: ChildSpec
    process: subprocess.Popen
    pump: threading.Thread


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the supervisor itself dies (even by SIGKILL)."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError, ValueError):
        return False


def grpc_ready(address: str) -> Callable[[], bool]:
    def probe() -> bool:
        from tensorkart_core.health import check

        return check(address, timeout=0.5) == "SERVING"

    return probe


def http_ready(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        import httpx

        try:
            return httpx.get(url, timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    return probe


class Supervisor:
    """Runs children until told to stop or until one dies."""

    def __init__(self, out: Callable[[str], None] = print, grace_seconds: float = 10.0) -> None:
        self.children: list[Child] = []
        self.out = out
        self.grace_seconds = grace_seconds
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.recent: dict[str, deque[str]] = {}

    def start(self, spec: ChildSpec) -> Child:
        env = {**os.environ, **spec.env, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            spec.command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            text=True,
            bufsize=1,
        )
        pump = threading.Thread(target=self._pump, args=(spec.name, process), daemon=True)
        pump.start()
        child = Child(spec, process, pump)
        self.children.append(child)
        return child

    def _pump(self, name: str, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        width = max(len(c.spec.name) for c in self.children) if self.children else len(name)
        recent = self.recent.setdefault(name, deque(maxlen=50))
        for line in process.stdout:
            with self._lock:
                recent.append(line.rstrip())
                self.out(f"{name:<{max(width, 10)}} | {line.rstrip()}")

    def last_error(self, name: str) -> str:
        """The child's own last error line (else its last line), for a one-line failure message."""
        lines = [line.strip() for line in self.recent.get(name, ()) if line.strip()]
        for line in reversed(lines):
            if "error" in line.lower():
                return line
        return lines[-1] if lines else "no output"

    def dead(self) -> list[Child]:
        return [c for c in self.children if c.process.poll() is not None]

    def wait_ready(self, timeout: float) -> list[str]:
        """Wait until every child is ready; returns the names that are not (died or timed out)."""
        deadline = time.monotonic() + timeout
        pending = list(self.children)
        while pending and time.monotonic() < deadline and not self._stop.is_set():
            if self.dead():
                break
            pending = [c for c in pending if not c.spec.ready()]
            if pending:
                time.sleep(0.2)
        return [c.spec.name for c in pending]

    def request_stop(self, *_args: object) -> None:
        self._stop.set()

    def run_until_stopped(self) -> int:
        """Block until a stop request (0) or a child's death (1)."""
        while not self._stop.wait(0.3):
            dead = self.dead()
            if dead:
                for child in dead:
                    self.out(f"{child.spec.name} exited with status {child.process.returncode}; stopping the stack")
                return 1
        return 0

    def stop_all(self) -> None:
        for child in reversed(self.children):
            if child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        for child in self.children:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(remaining)
            except subprocess.TimeoutExpired:
                self.out(f"{child.spec.name} did not stop in {self.grace_seconds:.0f}s; killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
        for child in self.children:
            child.pump.join(timeout=2)


def ensure_redis(url: str, supervisor: Supervisor) -> str:
    """REDIS_URL if it answers; else start a private redis-server on a free port; else exit."""
    if redis_answers(url):
        return url
    binary = shutil.which("redis-server")
    if not binary:
        raise CliError(
            f"no Redis answers at {url} and no redis-server binary is installed",
            "start Redis, set REDIS_URL, or install it: apt-get install redis-server",
        )
    port = free_port()
    supervisor.start(
        ChildSpec(
            "redis",
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            endpoint=f"redis://127.0.0.1:{port}/0",
            ready=lambda: redis_answers(f"redis://127.0.0.1:{port}/0"),
        )
    )
    return f"redis://127.0.0.1:{port}/0"


def python_module(module: str) -> list[str]:
    return [sys.executable, "-m", module]


def stack_specs(data_root: Path, redis_url: str, ports: dict[str, int], host: str = "127.0.0.1") -> list[ChildSpec]:
    """The local stack: recorder, inference, controller, trainer API and one worker."""
    common = {"TENSORKART_DATA": str(data_root), "REDIS_URL": redis_url}
    return [
        ChildSpec(
            "recorder",
            python_module("tensorkart_recorder"),
            {
                **common,
                "RECORDER_PORT": str(ports["recorder"]),
                "RECORDER_METRICS_PORT": str(ports["recorder_metrics"]),
            },
            f"grpc://{host}:{ports['recorder']}",
            grpc_ready(f"{host}:{ports['recorder']}"),
        ),
        ChildSpec(
            "inference",
            python_module("tensorkart_inference"),
            {
                **common,
                "INFERENCE_PORT": str(ports["inference"]),
                "INFERENCE_METRICS_PORT": str(ports["inference_metrics"]),
            },
            f"grpc://{host}:{ports['inference']}",
            grpc_ready(f"{host}:{ports['inference']}"),
        ),
        ChildSpec(
            "controller",
            python_module("tensorkart_controller"),
            {
                **common,
                "CONTROLLER_PORT": str(ports["controller"]),
                "CONTROLLER_HTTP_PORT": str(ports["controller_http"]),
                "CONTROLLER_METRICS_PORT": str(ports["controller_metrics"]),
            },
            f"grpc://{host}:{ports['controller']}  input-bot http://{host}:{ports['controller_http']}/0",
            grpc_ready(f"{host}:{ports['controller']}"),
        ),
        ChildSpec(
            "trainer",
            python_module("tensorkart_trainer"),
            {**common, "TRAINER_PORT": str(ports["trainer"])},
            f"http://{host}:{ports['trainer']}/  (API /v1, /openapi.json)",
            http_ready(f"http://{host}:{ports['trainer']}/healthz"),
        ),
        ChildSpec("worker", [sys.executable, "-m", "tensorkart_trainer.worker"], common, f"RQ worker on {redis_url}"),
    ]


def port_variable(key: str) -> str:
    """The variable of a DEFAULT_PORTS key: recorder -> RECORDER_PORT, controller_http -> CONTROLLER_HTTP_PORT."""
    return f"{key.upper()}_PORT"


def port_in_use(port: int) -> bool:
    """True when something already listens on `port` (a service of ours could not bind it)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


DEFAULT_PORTS = {
    "recorder": 50051,
    "inference": 50052,
    "controller": 50053,
    "controller_http": 8082,
    "trainer": 8000,
    "recorder_metrics": 9051,
    "inference_metrics": 9052,
    "controller_metrics": 9053,
}
