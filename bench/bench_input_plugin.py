"""Benchmark: per-poll cost of TensorKart's mupen64plus input plugin (emulator/input-plugin),
driven through Debian's real mupen64plus core library (tests/input_plugin/poller.py: the calls
the emulator makes, GetKeys per poll) against a real controller process.

Same-run comparison, polled in alternating blocks so both see the same machine noise: the stock
input-bot protocol cost, a client doing what kevinhughes27/mupen64plus-input-bot does on every
GetKeys (new TCP connection, `GET /0 HTTP/1.0`, read until the server closes), in a child
process of its own. And the cost of a poll when the server accepts but never answers: ours is
bounded by the plugin's timeout (10 ms by default); the stock protocol waits forever (measured
as a hang: no reply within STOCK_SILENT_WAIT_S).

Keys: input_plugin_poll_p50_ms, input_plugin_poll_p99_ms, inputbot_stock_poll_p50_ms,
inputbot_stock_poll_p99_ms, input_plugin_silent_server_poll_p50_ms,
input_plugin_silent_server_poll_p99_ms, input_plugin_timeout_ms, inputbot_stock_silent_server_hangs.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_controller import start_controller, stream_steering

from tensorkart_core.health import wait_until_serving

REPO = Path(__file__).resolve().parent.parent
PLUGIN_DIR = REPO / "emulator" / "input-plugin"
PLUGIN = PLUGIN_DIR / "build" / "mupen64plus-input-tensorkart.so"
POLLER = REPO / "tests" / "input_plugin" / "poller.py"
ROUNDS = 20
BLOCK = 150
SILENT_POLLS = 200
DEFAULT_TIMEOUT_MS = 10
STOCK_SILENT_WAIT_S = 2.0

# What the stock plugin does per GetKeys, one block of polls per stdin line; prints each
# poll's nanoseconds. A `silent` line does one poll bounded only by a watchdog.
STOCK_CLIENT = r"""
import json, socket, sys, time
port = int(sys.argv[1])
def poll():
    sock = socket.create_connection(("127.0.0.1", port))
    try:
        sock.sendall(b"GET /0 HTTP/1.0\r\n\r\n")
        received = b""
        while True:
            chunk = sock.recv(4095)
            if not chunk:
                return received
            received += chunk
    finally:
        sock.close()
for line in sys.stdin:
    times = []
    for _ in range(int(line)):
        started = time.perf_counter_ns()
        reply = poll()
        times.append(time.perf_counter_ns() - started)
    assert b'"X_AXIS":-40' in reply, reply
    print(json.dumps(times), flush=True)
"""


def percentiles_ms(samples_ns: list[int]) -> tuple[float, float]:
    ms = [n / 1e6 for n in samples_ns]
    return statistics.median(ms), statistics.quantiles(ms, n=100, method="inclusive")[98]


class PluginPoller:
    """The poller child: our plugin through the real core."""

    def __init__(self, settings: list[str]) -> None:
        args = [sys.executable, str(POLLER), "--plugin", str(PLUGIN)]
        for setting in settings:
            args += ["--set", setting]
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._next("ready")

    def _next(self, kind: str) -> dict:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = json.loads(line)
            if event["event"] == kind:
                return event
        raise RuntimeError(f"poller exited with {self.process.wait()} before {kind!r}")

    def polls(self, count: int) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(f"polls 0 {count}\n")
        self.process.stdin.flush()
        return self._next("polls")

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        self._next("bye")
        self.process.wait(30)


def settings(port: int) -> list[str]:
    return [
        "Input-Bot-Control0[plugged]=1",
        "Input-Bot-Control0[host]=127.0.0.1",
        f"Input-Bot-Control0[port]={port}",
    ]


def silent_server() -> tuple[socket.socket, list[socket.socket]]:
    """Accepts connections and never answers (keeps them open)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return listener, held


def stock_hangs_on(port: int) -> bool:
    """True when one stock-protocol poll gets no reply within STOCK_SILENT_WAIT_S."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(STOCK_SILENT_WAIT_S)
    try:
        sock.sendall(b"GET /0 HTTP/1.0\r\n\r\n")
        sock.recv(4095)
        return False
    except TimeoutError:
        return True
    finally:
        sock.close()


def measure_controller(http_port: int) -> tuple[list[int], list[int]]:
    ours = PluginPoller(settings(http_port))
    stock = subprocess.Popen(
        [sys.executable, "-c", STOCK_CLIENT, str(http_port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert stock.stdin is not None and stock.stdout is not None
    plugin_ns: list[int] = []
    stock_ns: list[int] = []
    try:
        ours.polls(BLOCK)  # warm-up
        stock.stdin.write(f"{BLOCK}\n")
        stock.stdin.flush()
        stock.stdout.readline()
        for _ in range(ROUNDS):
            result = ours.polls(BLOCK)
            if result["last"]["x"] != -40:
                raise RuntimeError(f"the plugin did not get the controller's pad: {result['last']}")
            plugin_ns += result["ns"]
            stock.stdin.write(f"{BLOCK}\n")
            stock.stdin.flush()
            stock_ns += json.loads(stock.stdout.readline())
    finally:
        ours.close()
        stock.stdin.close()
        stock.wait(30)
    return plugin_ns, stock_ns


def measure_silent() -> tuple[list[int], bool]:
    listener, held = silent_server()
    port = listener.getsockname()[1]
    try:
        ours = PluginPoller(settings(port))
        result = ours.polls(SILENT_POLLS)
        ours.close()
        if result["last"]["value"] != 0:
            raise RuntimeError("a silent server must give a neutral pad")
        return result["ns"], stock_hangs_on(port)
    finally:
        listener.close()
        for conn in held:
            conn.close()


def run() -> dict[str, float]:
    subprocess.run(["make", "-s", "-C", str(PLUGIN_DIR)], check=True)
    controller, grpc_port, http_port = start_controller()
    stop = threading.Event()
    try:
        address = f"127.0.0.1:{grpc_port}"
        if not wait_until_serving(address, timeout=60):
            raise RuntimeError("controller did not start")
        threading.Thread(target=stream_steering, args=(address, stop), daemon=True).start()
        time.sleep(0.3)
        plugin_ns, stock_ns = measure_controller(http_port)
    finally:
        stop.set()
        controller.terminate()
        controller.wait(timeout=30)
    silent_ns, stock_hangs = measure_silent()
    p50, p99 = percentiles_ms(plugin_ns)
    stock_p50, stock_p99 = percentiles_ms(stock_ns)
    silent_p50, silent_p99 = percentiles_ms(silent_ns)
    return {
        "input_plugin_poll_p50_ms": round(p50, 4),
        "input_plugin_poll_p99_ms": round(p99, 4),
        "inputbot_stock_poll_p50_ms": round(stock_p50, 4),
        "inputbot_stock_poll_p99_ms": round(stock_p99, 4),
        "input_plugin_silent_server_poll_p50_ms": round(silent_p50, 3),
        "input_plugin_silent_server_poll_p99_ms": round(silent_p99, 3),
        "input_plugin_timeout_ms": DEFAULT_TIMEOUT_MS,
        "inputbot_stock_silent_server_hangs": int(stock_hangs),
    }


if __name__ == "__main__":
    print(run())
