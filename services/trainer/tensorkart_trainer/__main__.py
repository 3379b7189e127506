"""Entry point: `python -m tensorkart_trainer` serves the REST API with uvicorn until SIGTERM.

The listening socket is bound here, before uvicorn starts, so TRAINER_PORT=0 gets a free port
and the port bound is reported (tensorkart_core.ports: key `http`)."""

from __future__ import annotations

import socket

import uvicorn

from tensorkart_core.logs import setup_logging
from tensorkart_core.ports import report_ports
from tensorkart_core.settings import load_settings
from tensorkart_trainer.settings import TrainerSettings


def bind(host: str, port: int) -> socket.socket:
    """The REST API's listening socket on host:port (0 = any free port)."""
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise SystemExit(f"cannot bind trainer HTTP port {host}:{port} ({error.strerror}; in use?)") from None
    sock.listen(2048)
    return sock


def main() -> None:
    settings = load_settings(TrainerSettings)
    setup_logging("trainer", settings.log_level)
    sock = bind(settings.host, settings.port)
    config = uvicorn.Config(
        "tensorkart_trainer.api.app:create_app",
        factory=True,
        host=settings.host,
        port=int(sock.getsockname()[1]),
        log_config=None,
        timeout_graceful_shutdown=5,
    )
    report_ports(http=int(sock.getsockname()[1]))
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
