"""The mupen64plus-input-bot HTTP server: one thread, one epoll loop, raw sockets.

The emulator waits for every poll on its critical path, so this is deliberately not a
web framework: accept, read the ~20-byte request, pick the pre-built reply, send, close.
A client that connects but is slow to send its request is parked in the selector (it
never blocks the loop) and dropped after REQUEST_TIMEOUT_S.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time

from tensorkart_controller import metrics
from tensorkart_controller.core import Controller
from tensorkart_controller.httpwire import (
    BAD_REQUEST,
    MAX_REQUEST_BYTES,
    NOT_ALLOWED,
    NOT_FOUND,
    TOO_LARGE,
    request_complete,
    route,
    send_and_close,
)

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 2.0
STATUS_OF = {BAD_REQUEST: "400", NOT_FOUND: "404", NOT_ALLOWED: "405", TOO_LARGE: "431"}


class InputBotServer:
    """Serves GET /0../3 from `controller` on host:port until `stop()`."""

    def __init__(self, controller: Controller, host: str, port: int, backlog: int = 1024) -> None:
        self._controller = controller
        try:
            family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[
                0
            ]
        except socket.gaierror as error:
            raise SystemExit(f"input-bot HTTP host {host!r} does not resolve: {error}") from None
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._listener.bind(address)
        except OSError as error:
            self._listener.close()
            raise SystemExit(f"cannot bind input-bot HTTP port {host}:{port} ({error.strerror}; in use?)") from None
        if hasattr(socket, "TCP_DEFER_ACCEPT"):
            # Linux: accept() only once the request has arrived, so one recv() reads it
            # (otherwise about a third of polls would take an extra trip round the loop).
            self._listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 1)
        self._listener.listen(backlog)
        self._listener.setblocking(False)
        self.port = int(self._listener.getsockname()[1])
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._partial: dict[socket.socket, tuple[bytes, float]] = {}
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="input-bot", daemon=True)

    def start(self) -> InputBotServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, drop half-read requests, wait for the loop to end."""
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        try:
            while not self._stopping:
                timeout = REQUEST_TIMEOUT_S if self._partial else None
                for key, _events in self._selector.select(timeout):
                    if key.data is None:
                        self._accept_all()
                    elif key.data == "wake":
                        self._wake_r.recv(64)
                    else:
                        conn = key.fileobj
                        assert isinstance(conn, socket.socket)
                        self._read(conn, self._partial.pop(conn)[0], registered=True)
                if self._partial:
                    self._drop_slow_clients()
        finally:
            for conn in list(self._partial):
                conn.close()
            self._partial.clear()
            self._selector.close()
            self._listener.close()
            self._wake_r.close()
            self._wake_w.close()

    def _accept_all(self) -> None:
        while True:
            try:
                conn, _address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:  # e.g. out of file descriptors: keep serving the others
                log.warning("input-bot accept failed: %s", error)
                return
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._read(conn, b"", registered=False)

    def _read(self, conn: socket.socket, data: bytes, registered: bool) -> None:
        """Read what has arrived; answer once the request is complete, else park the connection."""
        try:
            chunk = conn.recv(MAX_REQUEST_BYTES)
        except (BlockingIOError, InterruptedError):
            chunk = None
        except OSError:
            chunk = b""
        if chunk == b"":  # closed before a complete request
            if registered:
                self._selector.unregister(conn)
            conn.close()
            return
        if chunk:
            data += chunk
        if chunk is None or not (request_complete(data) or len(data) >= MAX_REQUEST_BYTES):
            if not registered:
                self._selector.register(conn, selectors.EVENT_READ, "conn")
            self._partial[conn] = (data, time.monotonic() + REQUEST_TIMEOUT_S)
            return
        if registered:
            self._selector.unregister(conn)
        self._answer(conn, data)

    def _answer(self, conn: socket.socket, data: bytes) -> None:
        target = route(data) if request_complete(data) else TOO_LARGE
        if isinstance(target, bytes):
            metrics.BAD_REQUESTS.labels(STATUS_OF.get(target, "400")).inc()
            send_and_close(conn, target)
            return
        reply = self._controller.poll(target, conn)
        if reply is not None:
            send_and_close(conn, reply)

    def _drop_slow_clients(self) -> None:
        now = time.monotonic()
        for conn, (_data, deadline) in list(self._partial.items()):
            if deadline <= now:
                del self._partial[conn]
                self._selector.unregister(conn)
                conn.close()
