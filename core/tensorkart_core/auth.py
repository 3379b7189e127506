"""Bearer-token authentication for gRPC, both sides.

When TENSORKART_TOKEN is set every call must carry `authorization: Bearer <token>`;
the standard health service stays open so orchestrators' probes (which cannot send
metadata) keep working.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any, NamedTuple

import grpc

AUTH_HEADER = "authorization"
OPEN_METHOD_PREFIXES = ("/grpc.health.v1.Health/",)

_HANDLER_KINDS = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}


def bearer(token: str) -> str:
    return f"Bearer {token}"


def token_matches(header: str | None, token: str) -> bool:
    return header is not None and hmac.compare_digest(header.encode(), bearer(token).encode())


def _abort_unauthenticated(_request: Any, context: grpc.ServicerContext) -> None:
    context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid bearer token (authorization metadata)")


def _allowed(handler_call_details: grpc.HandlerCallDetails, token: str) -> bool:
    """An open method (health), or a call carrying the right bearer token."""
    if handler_call_details.method.startswith(OPEN_METHOD_PREFIXES):
        return True
    return token_matches(dict(handler_call_details.invocation_metadata or ()).get(AUTH_HEADER), token)


def _refusing(handler: grpc.RpcMethodHandler | None, abort: Callable) -> grpc.RpcMethodHandler | None:
    """A handler of the same kind as `handler` whose behaviour is `abort` (None for an unknown method)."""
    if handler is None:
        return None
    make = _HANDLER_KINDS[(handler.request_streaming, handler.response_streaming)]
    return make(
        abort, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
    )


class TokenAuthInterceptor(grpc.ServerInterceptor):
    """Rejects calls without the right bearer token with UNAUTHENTICATED."""

    def __init__(self, token: str) -> None:
        self._token = token

    def intercept_service(self, continuation: Callable, handler_call_details: grpc.HandlerCallDetails):
        if _allowed(handler_call_details, self._token):
            return continuation(handler_call_details)
        return _refusing(continuation(handler_call_details), _abort_unauthenticated)


class _CallDetails(NamedTuple):
    method: str
    timeout: float | None
    metadata: Any
    credentials: Any
    wait_for_ready: Any
    compression: Any


class TokenClientInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds the bearer token to every outgoing call."""

    def __init__(self, token: str) -> None:
        self._header = (AUTH_HEADER, bearer(token))

    def _details(self, details: grpc.ClientCallDetails) -> _CallDetails:
        metadata = [*list(details.metadata or ()), self._header]
        return _CallDetails(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details), request_iterator)


async def _abort_unauthenticated_aio(_request: Any, context: grpc.aio.ServicerContext) -> None:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid bearer token (authorization metadata)")


class AioTokenAuthInterceptor(grpc.aio.ServerInterceptor):
    """TokenAuthInterceptor for grpc.aio servers."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def intercept_service(self, continuation: Callable, handler_call_details: grpc.HandlerCallDetails):
        if _allowed(handler_call_details, self._token):
            return await continuation(handler_call_details)
        return _refusing(await continuation(handler_call_details), _abort_unauthenticated_aio)
