"""The controller driver: polls an input-bot endpoint exactly like the mupen64plus-input-bot plugin.

Per game frame: a new TCP connection, `GET /0 HTTP/1.0\\r\\n\\r\\n`, read until the server closes
(at most 4095 bytes), take the body after the first blank line, parse a JSON object of integers
(START_BUTTON, Z_TRIG, B_BUTTON, A_BUTTON, R_TRIG, L_TRIG, the C and D buttons, X_AXIS, Y_AXIS;
missing keys = 0). A body that is not such an object, a value that is not an integer, a timeout
or an unreachable server all give the neutral pad: the game never crashes on its input.
"""

from __future__ import annotations

import json
import logging
import socket
from urllib.parse import urlsplit

from tensorkart_core.inputbot import ALL_KEYS
from tensorkart_simulator.game import Game
from tensorkart_simulator.pad import NEUTRAL, Pad, clamp_axis

log = logging.getLogger(__name__)
MAX_RESPONSE = 4095
DEFAULT_TIMEOUT_S = 2.0


def parse_endpoint(url: str) -> tuple[str, int, str]:
    """'http://host:port[/N]' -> (host, port, '/N'); the path names the controller (default /0)."""
    parts = urlsplit(url if "//" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"input-bot URL must look like http://host:port, got {url!r}")
    path = parts.path if parts.path not in ("", "/") else "/0"
    return parts.hostname, parts.port or 8082, path


def parse_state(body: bytes) -> Pad | None:
    """The pad a response body describes, or None when the body is not a valid state."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    values: dict[str, int] = {}
    for key in ALL_KEYS:
        value = data.get(key, 0)
        if not isinstance(value, int):  # JSON true/false are ints to Python and count as 1/0
            return None
        values[key] = int(value)
    return Pad(
        x_axis=clamp_axis(values["X_AXIS"]),
        y_axis=clamp_axis(values["Y_AXIS"]),
        a=values["A_BUTTON"] != 0,
        b=values["B_BUTTON"] != 0,
        r=values["R_TRIG"] != 0,
        z=values["Z_TRIG"] != 0,
        start=values["START_BUTTON"] != 0,
    )


class InputBotClient:
    """One plugin-style poll per call."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.host, self.port, self.path = parse_endpoint(url)
        self.timeout = timeout
        self.polls = 0
        self.failures = 0

    def fetch(self) -> bytes:
        """The raw response of one poll (raises OSError on network trouble)."""
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
            sock.sendall(f"GET {self.path} HTTP/1.0\r\n\r\n".encode("ascii"))
            chunks, size = [], 0
            while size < MAX_RESPONSE:
                chunk = sock.recv(MAX_RESPONSE - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        return b"".join(chunks)

    def poll(self) -> Pad:
        self.polls += 1
        try:
            response = self.fetch()
        except OSError as error:
            return self._fail(f"input-bot {self.host}:{self.port} unreachable: {error}")
        _head, sep, body = response.partition(b"\r\n\r\n")
        if not sep:
            return self._fail("input-bot response has no blank line before a body")
        pad = parse_state(body)
        if pad is None:
            return self._fail(f"input-bot body is not a JSON object of integers: {body[:80]!r}")
        return pad

    def _fail(self, reason: str) -> Pad:
        self.failures += 1
        if self.failures in (1, 10, 100) or self.failures % 1000 == 0:
            log.warning("%s -> neutral input (%d of %d polls failed)", reason, self.failures, self.polls)
        return NEUTRAL


class ControllerDriver:
    polls_after_publish = True

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.client = InputBotClient(url, timeout)

    def act(self, game: Game) -> Pad:
        return self.client.poll()

    def close(self) -> None:
        if self.client.failures:
            log.info("input-bot: %d of %d polls failed (neutral input used)", self.client.failures, self.client.polls)
