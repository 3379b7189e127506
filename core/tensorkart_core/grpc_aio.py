"""The asyncio gRPC server bootstrap for stream-heavy services (inference, controller).

On `grpc.aio` an open stream is a coroutine, not a thread: a server holds hundreds of idle or
30 Hz streams, and health checks and reflection are answered by the same event loop between
their messages. Blocking work (a model invocation) belongs in an executor, never on the loop.

`run_aio_server` gives a service what `grpc_server.run_server` gives a threaded one: health
checking (grpc.health.v1), server reflection, bearer-token auth when TENSORKART_TOKEN is set, a
bounded message size, keepalive, TLS, Prometheus metrics, and graceful shutdown on
SIGTERM/SIGINT (health NOT_SERVING first, then in-flight calls get `grace_seconds`).

Health has two meanings (docs/deploy.md): the server-wide name "" is liveness (the process
answers: SERVING from start to shutdown), a service's own name is readiness. A service listed
in `not_ready` starts NOT_SERVING and turns SERVING when it calls `set_ready` (from any
thread), e.g. once a model is loaded and warmed up.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from tensorkart_core.auth import AioTokenAuthInterceptor
from tensorkart_core.grpc_server import Servicer, add_services_and_bind, server_options
from tensorkart_core.metrics import AioMetricsInterceptor, serve_metrics
from tensorkart_core.ports import report_ports
from tensorkart_core.settings import ServiceSettings

log = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
LIVENESS = ""  # the server-wide health name: the process is up and its loop answers


@dataclass
class AioServer:
    """A started asyncio server; `set_ready` may be called from any thread."""

    server: grpc.aio.Server
    health: health.aio.HealthServicer
    loop: asyncio.AbstractEventLoop
    port: int
    metrics_port: int
    service_names: list[str]
    grace_seconds: float
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    _stopping: bool = False

    def set_ready(self, name: str, ready: bool) -> None:
        """Readiness of service `name`: SERVING or NOT_SERVING (thread-safe)."""
        status = SERVING if ready else NOT_SERVING
        if self._on_loop():
            self.loop.create_task(self.health.set(name, status))
        else:
            asyncio.run_coroutine_threadsafe(self.health.set(name, status), self.loop)

    def _on_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    async def stop(self, grace: float | None = None) -> None:
        """Health NOT_SERVING, refuse new calls, let in-flight calls finish, run on_stop hooks."""
        if self._stopping:
            return
        self._stopping = True
        await self.health.enter_graceful_shutdown()
        await self.server.stop(self.grace_seconds if grace is None else grace)
        for hook in self.on_stop:
            try:
                await asyncio.to_thread(hook)
            except Exception:  # a failing hook must not keep the process alive
                log.exception("shutdown hook failed")


async def start_aio_server(
    settings: ServiceSettings, servicers: Sequence[Servicer], not_ready: Sequence[str] = ()
) -> AioServer:
    """Build, bind and start an asyncio server on the running loop; does not block."""
    interceptors: list[grpc.aio.ServerInterceptor] = [AioMetricsInterceptor()]
    if settings.token:
        interceptors.append(AioTokenAuthInterceptor(settings.token))
    server = grpc.aio.server(interceptors=interceptors, options=server_options(settings))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names, port = add_services_and_bind(server, settings, servicers)
    for name in [LIVENESS, *names]:
        await health_servicer.set(name, NOT_SERVING if name in not_ready else SERVING)
    await server.start()
    metrics_port = serve_metrics(settings.metrics_port, settings.host)
    report_ports(grpc=port, metrics=metrics_port)
    return AioServer(
        server, health_servicer, asyncio.get_running_loop(), port, metrics_port, names, settings.grace_seconds
    )


def run_aio_server(
    name: str,
    settings: ServiceSettings,
    servicers: Sequence[Servicer],
    on_start: Callable[[AioServer], None] = lambda _server: None,
    on_stop: Sequence[Callable[[], None]] = (),
    not_ready: Sequence[str] = (),
) -> None:
    """Start a service on a new event loop and serve until SIGTERM/SIGINT (a service's `main`).

    `on_start(server)` runs on the loop once the server listens (wire readiness there);
    `on_stop` hooks run in a thread after the server drained."""

    async def serve() -> None:
        running = await start_aio_server(settings, servicers, not_ready)
        running.on_stop.extend(on_stop)
        stop = asyncio.Event()
        received: list[int] = []
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, lambda s=signum: (received.append(s), stop.set()))
        log.info(
            "%s serving %s on :%d (%s, %s, asyncio), metrics on :%d/metrics",
            name,
            ", ".join(running.service_names),
            running.port,
            "TLS" if settings.tls_cert else "plaintext",
            "token auth" if settings.token else "no auth",
            running.metrics_port,
        )
        on_start(running)
        await stop.wait()
        log.info(
            "%s: %s received, draining (grace %.1fs)", name, signal.Signals(received[0]).name, running.grace_seconds
        )
        await running.stop()
        log.info("%s: stopped cleanly", name)

    asyncio.run(serve())
