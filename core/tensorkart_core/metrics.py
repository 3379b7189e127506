"""Prometheus metrics shared by every gRPC server, and the /metrics HTTP endpoint."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import grpc
from prometheus_client import Counter, Histogram, start_http_server

RPC_SECONDS = Histogram(
    "tensorkart_grpc_server_handling_seconds",
    "Time to handle one gRPC call (whole stream for streaming calls)",
    ["service", "method"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300),
)
RPC_TOTAL = Counter("tensorkart_grpc_server_handled_total", "gRPC calls handled", ["service", "method", "code"])


def serve_metrics(port: int, host: str = "0.0.0.0") -> int:
    """Start the Prometheus text endpoint on `port` (0 = any free port); returns the port."""
    server, _thread = start_http_server(port, addr=host)
    return int(server.server_address[1])


def _split(method: str) -> tuple[str, str]:
    _, service, name = method.split("/", 2) if method.count("/") >= 2 else ("", "?", method)
    return service, name


def _observer(full_method: str) -> Callable[[grpc.ServicerContext], AbstractContextManager[None]]:
    """`with observe(context):` around one call of `full_method` records its time and status code."""
    service, method = _split(full_method)

    @contextmanager
    def observe(context: grpc.ServicerContext) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            RPC_SECONDS.labels(service, method).observe(time.perf_counter() - start)
            code = context.code() or grpc.StatusCode.OK
            RPC_TOTAL.labels(service, method, getattr(code, "name", str(code))).inc()

    return observe


class MetricsInterceptor(grpc.ServerInterceptor):
    """Counts calls by status code and times them."""

    def intercept_service(self, continuation: Callable, handler_call_details: grpc.HandlerCallDetails):
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        observe = _observer(handler_call_details.method)

        def wrap_unary_response(behaviour):
            def wrapped(request, context):
                with observe(context):
                    return behaviour(request, context)

            return wrapped

        def wrap_stream_response(behaviour):
            def wrapped(request, context):
                with observe(context):
                    yield from behaviour(request, context)

            return wrapped

        return _rewrap(handler, wrap_unary_response, wrap_stream_response)


class AioMetricsInterceptor(grpc.aio.ServerInterceptor):
    """MetricsInterceptor for grpc.aio servers: counts calls by status code and times them."""

    async def intercept_service(self, continuation: Callable, handler_call_details: grpc.HandlerCallDetails):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        observe = _observer(handler_call_details.method)

        def wrap_unary_response(behaviour):
            async def wrapped(request, context):
                with observe(context):
                    return await behaviour(request, context)

            return wrapped

        def wrap_stream_response(behaviour):
            if not inspect.isasyncgenfunction(behaviour):
                return wrap_unary_response(behaviour)  # writes with context.write, returns once done

            async def wrapped(request, context):
                with observe(context):
                    async for response in behaviour(request, context):
                        yield response

            return wrapped

        return _rewrap(handler, wrap_unary_response, wrap_stream_response)


def _rewrap(handler: grpc.RpcMethodHandler, wrap_unary: Callable, wrap_stream: Callable) -> grpc.RpcMethodHandler:
    codec = {"request_deserializer": handler.request_deserializer, "response_serializer": handler.response_serializer}
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(wrap_unary(handler.unary_unary), **codec)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(wrap_unary(handler.stream_unary), **codec)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(wrap_stream(handler.unary_stream), **codec)
    return grpc.stream_stream_rpc_method_handler(wrap_stream(handler.stream_stream), **codec)
