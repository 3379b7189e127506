"""Test support for the input plugin: the poller child process, and loopback servers that
answer the plugin's polls with whatever a test wants (well-formed or deliberately broken)."""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from tests.helpers import REPO

PLUGIN_DIR = REPO / "emulator" / "input-plugin"
PLUGIN = PLUGIN_DIR / "build" / "mupen64plus-input-tensorkart.so"
POLLER = Path(__file__).resolve().parent / "poller.py"
OK_HEAD = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"


def build_plugin() -> Path:
    """`make -C emulator/input-plugin` (a no-op when it is up to date); the plugin's path."""
    completed = subprocess.run(
        ["make", "-s", "-C", str(PLUGIN_DIR)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if completed.returncode != 0:
        raise AssertionError(f"building the input plugin failed:\n{completed.stdout}")
    return PLUGIN


class PollerDied(AssertionError):
    """The poller child exited (a crash shows as a negative return code: the signal)."""


class Poller:
    """The poller child: the plugin driven through the real core, one command at a time."""

    def __init__(self, settings: list[str], as_strings: bool = False, plugin: Path = PLUGIN) -> None:
        args = [sys.executable, str(POLLER), "--plugin", str(plugin)]
        for setting in settings:
            args += ["--set", setting]
        if as_strings:
            args.append("--as-strings")
        self.process = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.logs: list[dict] = []
        self._events: queue.Queue[dict | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self.wait("ready", timeout=30)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = json.loads(line)
            if event["event"] == "log":
                self.logs.append(event)
            else:
                self._events.put(event)
        self._events.put(None)

    def _died(self) -> PollerDied:
        self.process.wait(10)
        stderr = self.process.stderr.read() if self.process.stderr else ""
        return PollerDied(f"poller exited with {self.process.returncode}:\n{stderr[-3000:]}")

    def wait(self, kind: str, timeout: float = 30.0) -> dict:
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            self.process.kill()
            raise AssertionError(f"poller gave no {kind!r} within {timeout}s (hung)") from None
        if event is None:
            raise self._died()
        assert event["event"] == kind, event
        return event

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            raise self._died() from None

    def poll(self, controller: int = 0, timeout: float = 30.0) -> dict:
        self.send(f"poll {controller}")
        return self.wait("poll", timeout)

    def polls(self, controller: int, count: int, timeout: float = 60.0) -> dict:
        self.send(f"polls {controller} {count}")
        return self.wait("polls", timeout)

    def plugin_logs(self, level: int | None = None) -> list[str]:
        return [e["message"] for e in self.logs if e["source"] == "plugin" and (level is None or e["level"] == level)]

    def core_logs(self) -> list[str]:
        return [e["message"] for e in self.logs if e["source"] == "core"]

    def quit(self) -> dict:
        self.send("quit")
        bye = self.wait("bye")
        assert self.process.wait(30) == 0
        return bye

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def settings_for(port: int, host: str = "127.0.0.1", controller: int = 0, **extra: object) -> list[str]:
    section = f"Input-Bot-Control{controller}"
    values = {"plugged": 1, "host": host, "port": port, **extra}
    return [f"{section}[{key}]={value}" for key, value in values.items()]


class LoopbackServer:
    """A TCP server on 127.0.0.1 that hands every accepted connection to `handle(conn, request)`
    in its own thread. Connections a handler leaves open stay open until `close()`."""

    def __init__(self, handle: Callable[[socket.socket, bytes], None], accept: bool = True) -> None:
        self._handle = handle
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self.connections = 0
        self.requests: list[bytes] = []
        self._open: list[socket.socket] = []
        self._closing = False
        if accept:
            threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closing:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        request = b""
        try:
            conn.settimeout(5)
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(1024)
                if not chunk:
                    break
                request += chunk
            self.requests.append(request)
            self._handle(conn, request)
        except OSError:
            pass

    def close(self) -> None:
        self._closing = True
        self._listener.close()
        for conn in self._open:
            conn.close()


def reply_with(data: bytes) -> Callable[[socket.socket, bytes], None]:
    """Send `data`, then close (as an input-bot server does)."""

    def handle(conn: socket.socket, _request: bytes) -> None:
        conn.sendall(data)
        conn.close()

    return handle


def send_and_hold(data: bytes) -> Callable[[socket.socket, bytes], None]:
    """Send `data` (maybe nothing) and keep the connection open."""

    def handle(conn: socket.socket, _request: bytes) -> None:
        if data:
            conn.sendall(data)

    return handle
