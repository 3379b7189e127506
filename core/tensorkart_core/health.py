"""Client-side health checks: ask a gRPC server's grpc.health.v1 service, wait until SERVING."""

from __future__ import annotations

import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tensorkart_core.grpc_client import make_channel


def check(address: str, service: str = "", timeout: float = 1.0) -> str:
    """The health status name of `service` at `address` ("SERVING", "NOT_SERVING", ...),
    or "UNREACHABLE" when nothing answers."""
    channel = make_channel(address)
    try:
        stub = health_pb2_grpc.HealthStub(channel)
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return "SERVICE_UNKNOWN"
        return "UNREACHABLE"
    finally:
        channel.close()


def wait_until_serving(address: str, timeout: float = 30.0, service: str = "") -> bool:
    """Poll until the server at `address` reports SERVING; False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check(address, service, timeout=1.0) == "SERVING":
            return True
        time.sleep(0.1)
    return False
