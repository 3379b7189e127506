"""Benchmark: one mupen64plus-input-bot poll against a real controller process.

Each poll is exactly what the plugin's controller.c does on every GetKeys: open a new TCP
connection, send `GET /0 HTTP/1.0\\r\\n\\r\\n`, read until the server closes. While polling,
steering streams into the controller over gRPC at 60 Hz (as during play), so the poll
competes with real steering traffic.

Same-run comparison, polled alternately with ours so both see the same machine noise: the
original approach, gym-mupen64plus's ControllerHTTPServer
(stdlib http.server HTTPServer + BaseHTTPRequestHandler, the controller state dumped to JSON
on every request), run as its own process and polled the same way.
Keys: controller_poll_p50_ms, controller_poll_p99_ms (target p99 <= 1 ms) and
tensorkart_controller_poll_p50_ms, tensorkart_controller_poll_p99_ms.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import threading
import time

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.health import wait_until_serving
from tensorkart_core.proto.v1 import controller_pb2_grpc, types_pb2

POLLS = 4000
WARMUP = 300
STEERING_HZ = 60

# The original approach, as gym-mupen64plus serves the input-bot plugin (free-running: the
# controls are always ready, so do_GET answers at once).
ORIGINAL_SERVER = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class ControllerState:
    def __init__(self):
        self.X_AXIS = -40; self.Y_AXIS = 0; self.A_BUTTON = 1; self.B_BUTTON = 0; self.R_TRIG = 0
        self.L_TRIG = 0; self.Z_TRIG = 0; self.R_CBUTTON = 0; self.L_CBUTTON = 0; self.D_CBUTTON = 0
        self.U_CBUTTON = 0; self.R_DPAD = 0; self.L_DPAD = 0; self.D_DPAD = 0; self.U_DPAD = 0
        self.START_BUTTON = 0
    def to_json(self):
        return json.dumps(self.__dict__)

class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-type", "application/json")
        self.end_headers()
        self.wfile.write(self.server.controls.to_json().encode())

server = HTTPServer(("127.0.0.1", 0), Handler)
server.controls = ControllerState()
print("ready", server.server_address[1], flush=True)
server.serve_forever()
"""


def plugin_poll(port: int) -> bytes:
    """One GetKeys as the plugin does it: new connection, request, read until close."""
    sock = socket.create_connection(("127.0.0.1", port))
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(b"GET /0 HTTP/1.0\r\n\r\n")
        received = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return received
            received += chunk
    finally:
        sock.close()


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[98]


def measure(ours: tuple[int, bytes], original: tuple[int, bytes]) -> tuple[list[float], list[float]]:
    """Poll both servers alternately (each sees the same machine noise); milliseconds per poll."""
    servers = [ours, original]
    for port, expect in servers:
        for _ in range(WARMUP):
            assert expect in plugin_poll(port)
    samples: list[list[float]] = [[], []]
    for n in range(POLLS):
        order = (0, 1) if n % 2 else (1, 0)
        for which in order:
            port, expect = servers[which]
            started = time.perf_counter_ns()
            reply = plugin_poll(port)
            samples[which].append((time.perf_counter_ns() - started) / 1e6)
            if n % 500 == 0:
                assert expect in reply, reply
    return samples[0], samples[1]


def stream_steering(address: str, stop: threading.Event) -> None:
    """PushSteering at STEERING_HZ until `stop`, like the play relay."""
    stub = controller_pb2_grpc.ControllerStub(make_channel(address))

    def messages():
        frame = 0
        while not stop.is_set():
            frame += 1
            yield types_pb2.Steering(
                frame_sequence=frame,
                capture_time_ns=time.monotonic_ns(),
                source=types_pb2.STEERING_SOURCE_MODEL,
                joystick=types_pb2.Joystick(x=-0.5),
            )
            time.sleep(1 / STEERING_HZ)

    stub.PushSteering(messages())


def start_controller() -> tuple[subprocess.Popen, int, int]:
    """The controller service as a child process (tensorkart_core.launcher), on the ports it
    picked and reported: (process, gRPC port, input-bot HTTP port), ready (gRPC SERVING)."""
    from play_stack import start_controller as start

    controller = start(CONTROLLER_SAFETY_TIMEOUT_MS="1000")
    return controller.process, controller.port("grpc"), controller.port("http")


def run() -> dict[str, float]:
    controller, grpc_port, http_port = start_controller()
    original = subprocess.Popen([sys.executable, "-c", ORIGINAL_SERVER], stdout=subprocess.PIPE, text=True)
    stop = threading.Event()
    try:
        address = f"127.0.0.1:{grpc_port}"
        if not wait_until_serving(address, timeout=60):
            raise RuntimeError("controller did not start")
        assert original.stdout is not None
        ready, port_text = original.stdout.readline().split()
        assert ready == "ready"
        original_port = int(port_text)
        streamer = threading.Thread(target=stream_steering, args=(address, stop), daemon=True)
        streamer.start()
        time.sleep(0.2)  # steering is flowing: the pad is driven, not neutral
        ours, theirs = measure((http_port, b'"X_AXIS":-40'), (original_port, b'"X_AXIS": -40'))
    finally:
        stop.set()
        for process in (controller, original):
            process.terminate()
            process.wait(timeout=30)
    p50, p99 = percentiles(ours)
    base_p50, base_p99 = percentiles(theirs)
    return {
        "controller_poll_p50_ms": round(p50, 4),
        "controller_poll_p99_ms": round(p99, 4),
        "tensorkart_controller_poll_p50_ms": round(base_p50, 4),
        "tensorkart_controller_poll_p99_ms": round(base_p99, 4),
    }


if __name__ == "__main__":
    print(run())
