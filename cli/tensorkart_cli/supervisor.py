"""The local stack for `tensorkart up`: its services as `ServiceSpec`s, a private Redis when
none answers, and a `Supervisor` (tensorkart_core.launcher) that runs them until told to stop.

Each service's output is forwarded prefixed with its name; a port given as 0 is picked by the
service itself and read back from what it reports (tensorkart_core.ports). If one child dies,
the others are stopped and the supervisor exits non-zero.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from tensorkart_cli.errors import CliError
from tensorkart_core.launcher import Child, Launcher, ServiceSpec, grpc_ready, http_ready, python_module

# httpx, redis and grpc are imported where used: every tensorkart command imports this module,
# and a command that fails its preflight should not pay for them.

__all__ = ["DEFAULT_PORTS", "Supervisor", "ensure_redis", "python_module", "stack_specs"]


class Supervisor(Launcher):
    """Runs children until told to stop (SIGINT/SIGTERM → `request_stop`) or until one dies."""

    def __init__(self, out: Callable[[str], None] = print, grace_seconds: float = 10.0) -> None:
        self._print = out
        self._lock = threading.Lock()
        super().__init__(out=self._prefixed, grace_seconds=grace_seconds)
        self._stop = threading.Event()

    def _prefixed(self, name: str, line: str) -> None:
        with self._lock:
            self._print(f"{name:<10} | {line}")

    def child(self, name: str) -> Child:
        return next(child for child in self.children if child.name == name)

    def last_error(self, name: str) -> str:
        return self.child(name).last_error()

    def request_stop(self, *_args: object) -> None:
        self._stop.set()

    def wait_stack_ready(self, timeout: float) -> list[str]:
        """Names of the children not ready after `timeout` (a death or a stop request ends the wait)."""
        return [child.name for child in self.wait_ready(timeout, stop=self._stop)]

    def run_until_stopped(self) -> int:
        """Block until a stop request (0) or a child's death (1)."""
        while not self._stop.wait(0.3):
            dead = self.dead()
            if dead:
                for child in dead:
                    self._print(f"{child.name} exited with status {child.process.returncode}; stopping the stack")
                return 1
        return 0


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError, ValueError):
        return False


def ensure_redis(url: str, supervisor: Supervisor) -> str:
    """REDIS_URL if it answers; else a private redis-server on a Unix socket (no TCP port to
    race for); else exit."""
    if redis_answers(url):
        return url
    binary = shutil.which("redis-server")
    if not binary:
        raise CliError(
            f"no Redis answers at {url} and no redis-server binary is installed",
            "start Redis, set REDIS_URL, or install it: apt-get install redis-server",
        )
    path = Path(tempfile.mkdtemp(prefix="tensorkart-redis-")) / "redis.sock"
    private = f"unix://{path}?db=0"
    supervisor.start(
        ServiceSpec(
            "redis",
            [binary, "--port", "0", "--unixsocket", str(path), "--save", "", "--appendonly", "no"],
            ready=lambda _child: redis_answers(private),
            endpoint=lambda _child: private,
        )
    )
    return private


def stack_specs(data_root: Path, redis_url: str, ports: dict[str, int], host: str = "127.0.0.1") -> list[ServiceSpec]:
    """The local stack: recorder, inference, controller, trainer API and one worker (port 0: any)."""
    common = {"TENSORKART_DATA": str(data_root), "REDIS_URL": redis_url}

    def grpc_endpoint(child: Child) -> str:
        return f"grpc://{child.address('grpc', host)}"

    return [
        ServiceSpec(
            "recorder",
            python_module("tensorkart_recorder"),
            {**common, **port_env(ports, "recorder", "recorder_metrics")},
            ("grpc", "metrics"),
            grpc_ready(),
            grpc_endpoint,
        ),
        ServiceSpec(
            "inference",
            python_module("tensorkart_inference"),
            {**common, **port_env(ports, "inference", "inference_metrics")},
            ("grpc", "metrics"),
            grpc_ready(),
            grpc_endpoint,
        ),
        ServiceSpec(
            "controller",
            python_module("tensorkart_controller"),
            {**common, **port_env(ports, "controller", "controller_http", "controller_metrics")},
            ("grpc", "metrics", "http"),
            grpc_ready(),
            lambda child: f"{grpc_endpoint(child)}  input-bot {child.url('http', host)}/0",
        ),
        ServiceSpec(
            "trainer",
            python_module("tensorkart_trainer"),
            {**common, **port_env(ports, "trainer")},
            ("http",),
            http_ready("/healthz"),
            lambda child: f"{child.url('http', host)}/  (API /v1, /openapi.json)",
        ),
        ServiceSpec(
            "worker",
            python_module("tensorkart_trainer.worker"),
            common,
            endpoint=lambda _c: f"RQ worker on {redis_url}",
        ),
    ]


def bound_ports(supervisor: Supervisor) -> dict[str, int]:
    """The ports the stack's services bound, keyed like DEFAULT_PORTS."""
    found: dict[str, int] = {}
    for name, keys in {
        "recorder": {"recorder": "grpc", "recorder_metrics": "metrics"},
        "inference": {"inference": "grpc", "inference_metrics": "metrics"},
        "controller": {"controller": "grpc", "controller_http": "http", "controller_metrics": "metrics"},
        "trainer": {"trainer": "http"},
    }.items():
        reported = supervisor.child(name).ports
        found.update({key: reported[port] for key, port in keys.items()})
    return found


def port_env(ports: dict[str, int], *keys: str) -> dict[str, str]:
    """The port variables of `keys`: recorder -> RECORDER_PORT=..., controller_http -> CONTROLLER_HTTP_PORT=..."""
    return {port_variable(key): str(ports[key]) for key in keys}


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
