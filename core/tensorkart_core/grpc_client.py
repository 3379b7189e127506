"""gRPC client channels with the same limits, keepalive, TLS and token as our servers."""

from __future__ import annotations

import os
from pathlib import Path

import grpc

from tensorkart_core.auth import TokenClientInterceptor

DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024

# The CA for channels to the inference server: its own variable first, then the stack-wide one.
INFERENCE_CA_VARIABLES = ("INFERENCE_TLS_CA", "TENSORKART_TLS_CA")

# gRPC targets that may name many replicas: "dns:///name:port", "ipv4:10.0.0.1:50052,10.0.0.2:50052"
ROUND_ROBIN_SCHEMES = ("dns:", "ipv4:", "ipv6:")

CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", DEFAULT_MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", DEFAULT_MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.enable_retries", 1),
]


def make_channel(
    address: str,
    token: str | None = None,
    tls_ca: Path | str | None = None,
    tls_server_name: str | None = None,
    ca_variables: tuple[str, ...] = ("TENSORKART_TLS_CA",),
) -> grpc.Channel:
    """A channel to `address` ("host:port", or a gRPC target such as "dns:///name:port" or
    "ipv4:A:PORT,B:PORT", which gets client-side round_robin over every address it names).

    `token` defaults to TENSORKART_TOKEN; `tls_ca` (a PEM file) switches to TLS verified
    against that CA. Without `tls_ca`, the first of `ca_variables` that is set names it, so
    an edge can reach a remote inference host over TLS (INFERENCE_TLS_CA) while its local
    controller stays plaintext.
    """
    token = token if token is not None else os.environ.get("TENSORKART_TOKEN") or None
    if tls_ca is None:
        tls_ca = next((os.environ[name] for name in ca_variables if os.environ.get(name)), None)
    options = list(CHANNEL_OPTIONS)
    if address.startswith(ROUND_ROBIN_SCHEMES):
        # a name that resolves to many replicas (a headless Kubernetes Service), or a list of
        # them: hold a connection to each and spread calls over them; gRPC re-resolves a name
        # when a connection goes away
        options.append(("grpc.lb_policy_name", "round_robin"))
    if tls_ca:
        if tls_server_name:
            options.append(("grpc.ssl_target_name_override", tls_server_name))
        credentials = grpc.ssl_channel_credentials(root_certificates=Path(tls_ca).read_bytes())
        channel = grpc.secure_channel(address, credentials, options=options)
    else:
        channel = grpc.insecure_channel(address, options=options)
    if token:
        channel = grpc.intercept_channel(channel, TokenClientInterceptor(token))
    return channel
