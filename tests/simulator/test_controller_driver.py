"""The controller driver against a real HTTP server speaking the input-bot protocol.

The server is a plain http.server (HTTP/1.0, like gym-mupen64plus's), so the tests check what
the simulator sends on the wire and how it reads every kind of answer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tensorkart_simulator.drivers.controller import InputBotClient, parse_endpoint
from tensorkart_simulator.options import SimOptions
from tensorkart_simulator.pad import NEUTRAL, Pad
from tensorkart_simulator.runner import Run
from tests.helpers import NOBODY


class InputBot:
    """A real HTTP server on 127.0.0.1 answering every GET with `self.body`."""

    def __init__(self) -> None:
        self.body: bytes = b"{}"
        self.raw_requests: list[bytes] = []
        self.headers_seen: list[int] = []
        self.connections = 0
        bot = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def setup(self) -> None:
                super().setup()
                bot.connections += 1

            def do_GET(self) -> None:
                bot.raw_requests.append(self.raw_requestline)
                bot.headers_seen.append(len(self.headers))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(bot.body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bot() -> Iterator[InputBot]:
    server = InputBot()
    yield server
    server.close()


def test_polls_exactly_like_the_plugin(bot: InputBot) -> None:
    bot.body = json.dumps({"X_AXIS": -42, "Y_AXIS": 7, "A_BUTTON": 1, "B_BUTTON": 0, "R_TRIG": 1}).encode()
    client = InputBotClient(bot.url)
    pads = [client.poll() for _ in range(3)]
    assert pads == [Pad(x_axis=-42, y_axis=7, a=True, b=False, r=True)] * 3
    # One new TCP connection per poll, the request line exactly as the plugin sends it, no headers.
    assert bot.connections == 3
    assert bot.raw_requests == [b"GET /0 HTTP/1.0\r\n"] * 3
    assert bot.headers_seen == [0, 0, 0]
    assert client.failures == 0


def test_missing_keys_count_as_zero(bot: InputBot) -> None:
    bot.body = b'{"A_BUTTON": 1}'
    assert InputBotClient(bot.url).poll() == Pad(a=True)
    bot.body = b"{}"
    assert InputBotClient(bot.url).poll() == NEUTRAL


def test_stick_is_clamped_to_the_n64_range(bot: InputBot) -> None:
    bot.body = b'{"X_AXIS": 127, "Y_AXIS": -128, "A_BUTTON": 1}'
    assert InputBotClient(bot.url).poll() == Pad(x_axis=80, y_axis=-80, a=True)


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b"[1, 2, 3]",
        b'"A_BUTTON"',
        b'{"X_AXIS": "left", "A_BUTTON": 1}',
        b'{"X_AXIS": 12.5, "A_BUTTON": 1}',
        b'{"X_AXIS": null, "A_BUTTON": 1}',
        b'{"A_BUTTON": [1]}',
        b"",
        b"\xff\xfe",
    ],
)
def test_wrong_fields_give_neutral_input(bot: InputBot, body: bytes) -> None:
    bot.body = body
    client = InputBotClient(bot.url)
    assert client.poll() == NEUTRAL
    assert client.failures == 1


def test_unreachable_server_gives_neutral_input() -> None:
    client = InputBotClient(f"http://{NOBODY}", timeout=0.5)
    assert client.poll() == NEUTRAL
    assert client.poll() == NEUTRAL
    assert client.failures == 2


def test_endpoint_parsing() -> None:
    assert parse_endpoint("http://127.0.0.1:8082") == ("127.0.0.1", 8082, "/0")
    assert parse_endpoint("127.0.0.1:9000/1") == ("127.0.0.1", 9000, "/1")
    with pytest.raises(ValueError, match="input-bot URL"):
        parse_endpoint("ftp://x")


def test_simulator_polls_once_per_game_frame_and_obeys(bot: InputBot) -> None:
    bot.body = json.dumps({"A_BUTTON": 1, "X_AXIS": 40}).encode()  # accelerate, steer half right
    options = SimOptions(track="luigi", driver="controller", input_bot=bot.url, headless=True, laps=0, max_seconds=1.0)
    run = Run(options)
    start_heading = run.game.kart.heading
    report = run.execute()
    assert report["sim_seconds"] == pytest.approx(1.0)
    assert len(bot.raw_requests) == 30  # one GET /0 per game frame, 30 frames
    assert bot.connections == 30
    assert run.game.kart.speed > 5.0
    assert run.game.kart.heading < start_heading - 0.2  # stick right turns clockwise


def test_simulator_survives_a_dead_input_bot() -> None:
    options = SimOptions(driver="controller", input_bot=f"http://{NOBODY}", headless=True, laps=0, max_seconds=0.5)
    run = Run(options)
    report = run.execute()
    assert report["sim_seconds"] == pytest.approx(0.5)
    assert run.game.kart.speed == 0.0  # neutral input: nobody presses A
