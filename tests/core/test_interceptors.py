"""The metrics and bearer-token interceptors on real threaded and asyncio gRPC servers over loopback:
calls counted by status code and timed (unary and streaming answers), calls without the token
refused with UNAUTHENTICATED, health left open."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from prometheus_client import REGISTRY

from tensorkart_core.auth import AioTokenAuthInterceptor, TokenAuthInterceptor, bearer
from tensorkart_core.metrics import AioMetricsInterceptor, MetricsInterceptor

TOKEN = "s3cret"


def _count(service: str, method: str, code: str) -> float:
    labels = {"service": service, "method": method, "code": code}
    return REGISTRY.get_sample_value("tensorkart_grpc_server_handled_total", labels) or 0.0


def _timed(service: str, method: str) -> float:
    labels = {"service": service, "method": method}
    return REGISTRY.get_sample_value("tensorkart_grpc_server_handling_seconds_count", labels) or 0.0


def _sync_handlers() -> grpc.GenericRpcHandler:
    def echo(request: bytes, context: grpc.ServicerContext) -> bytes:
        if request == b"bad":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad")
        return request

    def repeat(request: bytes, _context: grpc.ServicerContext):
        yield from (request for _ in range(3))

    return grpc.method_handlers_generic_handler(
        "test.SyncEcho",
        {"Echo": grpc.unary_unary_rpc_method_handler(echo), "Repeat": grpc.unary_stream_rpc_method_handler(repeat)},
    )


def _aio_handlers() -> grpc.GenericRpcHandler:
    async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        if request == b"bad":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad")
        return request

    async def repeat(request: bytes, _context: grpc.aio.ServicerContext):
        for _ in range(3):
            yield request

    return grpc.method_handlers_generic_handler(
        "test.AioEcho",
        {"Echo": grpc.unary_unary_rpc_method_handler(echo), "Repeat": grpc.unary_stream_rpc_method_handler(repeat)},
    )


def _exercise(address: str, service: str) -> None:
    with grpc.insecure_channel(address) as channel:
        echo = channel.unary_unary(f"/{service}/Echo")
        repeat = channel.unary_stream(f"/{service}/Repeat")
        auth = (("authorization", bearer(TOKEN)),)
        before = (_count(service, "Echo", "OK"), _count(service, "Echo", "INVALID_ARGUMENT"))
        streamed = _count(service, "Repeat", "OK")
        assert echo(b"hi", metadata=auth, timeout=10) == b"hi"
        with pytest.raises(grpc.RpcError) as error:
            echo(b"bad", metadata=auth, timeout=10)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert list(repeat(b"x", metadata=auth, timeout=10)) == [b"x"] * 3
        for metadata in ((), (("authorization", bearer("wrong")),)):
            with pytest.raises(grpc.RpcError) as error:
                echo(b"hi", metadata=metadata, timeout=10)
            assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(grpc.RpcError) as error:
                list(repeat(b"x", metadata=metadata, timeout=10))
            assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.RpcError) as error:  # an unknown method stays UNIMPLEMENTED
            channel.unary_unary(f"/{service}/Nope")(b"", timeout=10)
        assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert _count(service, "Echo", "OK") == before[0] + 1
    assert _count(service, "Echo", "INVALID_ARGUMENT") == before[1] + 1
    assert _count(service, "Repeat", "OK") == streamed + 1
    assert _count(service, "Echo", "UNAUTHENTICATED") >= 2  # refused calls are counted too
    assert _timed(service, "Repeat") >= 1


def test_threaded_server_counts_times_and_checks_the_token() -> None:
    server = grpc.server(
        ThreadPoolExecutor(4),
        handlers=[_sync_handlers()],
        interceptors=[MetricsInterceptor(), TokenAuthInterceptor(TOKEN)],
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        _exercise(f"127.0.0.1:{port}", "test.SyncEcho")
    finally:
        server.stop(None)


def test_asyncio_server_counts_times_and_checks_the_token() -> None:
    ready = threading.Event()
    stop: dict[str, object] = {}
    address: dict[str, str] = {}

    async def serve() -> None:
        server = grpc.aio.server(interceptors=[AioMetricsInterceptor(), AioTokenAuthInterceptor(TOKEN)])
        server.add_generic_rpc_handlers((_aio_handlers(),))
        address["value"] = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
        await server.start()
        done = asyncio.Event()
        stop["event"], stop["loop"] = done, asyncio.get_running_loop()
        ready.set()
        await done.wait()
        await server.stop(None)

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(30)
    try:
        _exercise(address["value"], "test.AioEcho")
    finally:
        stop["loop"].call_soon_threadsafe(stop["event"].set)
        thread.join(30)
