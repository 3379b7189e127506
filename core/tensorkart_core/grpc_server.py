"""The threaded gRPC server bootstrap, for the frame feeds (simulator, emulator) that run it
beside their own loop; stream-heavy services use `grpc_aio.run_aio_server` instead.

`start_server` gives a service: health checking (grpc.health.v1), server
reflection, bearer-token auth when TENSORKART_TOKEN is set, a bounded message size
(larger messages get RESOURCE_EXHAUSTED), keepalive, TLS when a cert/key are set,
Prometheus metrics over HTTP, and a graceful `stop()` (health goes NOT_SERVING first,
then in-flight calls get `grace_seconds` to finish).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from tensorkart_core.auth import TokenAuthInterceptor
from tensorkart_core.metrics import MetricsInterceptor, serve_metrics
from tensorkart_core.ports import report_ports
from tensorkart_core.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass
class Servicer:
    """One gRPC service implementation to register: `add(servicer, server)` is the
    generated `add_XServicer_to_server`, `name` the full service name."""

    add: Callable[[object, grpc.Server], None]
    implementation: object
    name: str


@dataclass
class RunningServer:
    """A started server and what a test or supervisor needs to talk to it."""

    server: grpc.Server
    health: health.HealthServicer
    port: int
    metrics_port: int
    service_names: list[str]
    grace_seconds: float
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    _stopped: threading.Event = field(default_factory=threading.Event)

    def stop(self, grace: float | None = None) -> None:
        """Health NOT_SERVING, refuse new calls, let in-flight calls finish, run on_stop hooks."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.health.enter_graceful_shutdown()
        self.server.stop(self.grace_seconds if grace is None else grace).wait()
        for hook in self.on_stop:
            try:
                hook()
            except Exception:  # a failing hook must not keep the process alive
                log.exception("shutdown hook failed")


CONNECTION_AGE_GRACE_MS = 30_000  # a recycled connection's streams get this long to move


def server_options(settings: ServiceSettings) -> list[tuple[str, int]]:
    recycle = (
        [
            ("grpc.max_connection_age_ms", int(settings.max_connection_age_s * 1000)),
            ("grpc.max_connection_age_grace_ms", CONNECTION_AGE_GRACE_MS),
        ]
        if settings.max_connection_age_s
        else []
    )
    return [
        *recycle,
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.so_reuseport", 0),
    ]


def add_services_and_bind(
    server: grpc.Server | grpc.aio.Server, settings: ServiceSettings, servicers: Sequence[Servicer]
) -> tuple[list[str], int]:
    """Add the servicers and server reflection, bind the port (TLS when configured); the names and the port."""
    names = [s.name for s in servicers]
    for servicer in servicers:
        servicer.add(servicer.implementation, server)
    reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)

    address = f"{settings.host}:{settings.port}"
    if settings.tls_cert and settings.tls_key:
        credentials = grpc.ssl_server_credentials([(settings.tls_key.read_bytes(), settings.tls_cert.read_bytes())])
        port = server.add_secure_port(address, credentials)
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        raise SystemExit(f"cannot bind gRPC port {address} (in use?)")
    return names, port


def start_server(
    settings: ServiceSettings,
    servicers: Sequence[Servicer],
    max_workers: int = 32,
    extra_interceptors: Sequence[grpc.ServerInterceptor] = (),
) -> RunningServer:
    """Build, bind and start a server; does not block."""
    interceptors: list[grpc.ServerInterceptor] = [MetricsInterceptor()]
    if settings.token:
        interceptors.append(TokenAuthInterceptor(settings.token))
    interceptors.extend(extra_interceptors)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
        interceptors=interceptors,
        options=server_options(settings),
        maximum_concurrent_rpcs=None,
    )
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names, port = add_services_and_bind(server, settings, servicers)
    server.start()
    metrics_port = serve_metrics(settings.metrics_port, settings.host)
    for name in ["", *names]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    report_ports(grpc=port, metrics=metrics_port)
    return RunningServer(server, health_servicer, port, metrics_port, names, settings.grace_seconds)
