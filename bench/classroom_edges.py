"""Many edges in one process, for bench_classroom: each edge is one `Drive` stream on its own
channel sending an edge-pre-processed frame at a fixed rate (one asyncio loop, uvloop when
installed, so one process carries dozens of edges without being the bottleneck).

The edges' CPU shares the machine with the server, so each frame costs them as little as an
honest edge can: the picture is pre-processed and serialized once (the `Frame` fields that do not
change), and each frame on the wire is that plus its own sequence number and capture time
(`Frame(sequence, capture_time_ns)` serialized and prepended: protobuf merges the fields, so the
server parses exactly the message `encode_frame` would build). Every answer is parsed and checked.

    python bench/classroom_edges.py ADDRESS STREAMS SECONDS RATE_HZ MEASURE_FROM_S

Prints one JSON line: frames sent, answered, stale/error answers, streams that ended with an
error (by status code), and the send -> answer latency (ms) of every frame sent after
MEASURE_FROM_S seconds (the streams' set-up is not measured).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

import grpc
import numpy as np

from tensorkart_core.grpc_client import CHANNEL_OPTIONS
from tensorkart_core.images import encode_frame
from tensorkart_core.preprocess import DEFAULT_SPEC
from tensorkart_core.proto.v1 import types_pb2

try:  # cheaper event loop for the bench's client side; the plain asyncio loop otherwise
    import uvloop
except ImportError:  # pragma: no cover - uvloop is in requirements/dev.txt
    uvloop = None

DRIVE = "/tensorkart.v1.Inference/Drive"
DRAIN_S = 3.0  # how long a stream waits for its last answers after its last frame


def picture() -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (DEFAULT_SPEC.height, DEFAULT_SPEC.width, 3), dtype=np.uint8)


def frame_body(prepared: np.ndarray) -> bytes:
    """The serialized fields of an edge-pre-processed frame that every frame shares."""
    return encode_frame(prepared, 0, 0, preprocess_id=DEFAULT_SPEC.id).SerializeToString()


def wire_frame(body: bytes, sequence: int, capture_time_ns: int) -> bytes:
    """One serialized `Frame`: its own sequence number and capture time, then the shared body."""
    return types_pb2.Frame(sequence=sequence, capture_time_ns=capture_time_ns).SerializeToString() + body


class Edge:
    def __init__(self, address: str, index: int, rate: float, seconds: float, measure_from_ns: int) -> None:
        self.address = address
        self.index = index
        self.period = 1.0 / rate
        self.seconds = seconds
        self.measure_from_ns = measure_from_ns
        self.sent: dict[int, int] = {}
        self.latencies_ms: list[float] = []
        self.answered = 0
        self.stale = 0
        self.errors = 0
        self.ended_with = ""

    async def run(self, body: bytes, start_at: float) -> None:
        async with grpc.aio.insecure_channel(self.address, options=CHANNEL_OPTIONS) as channel:
            drive = channel.stream_stream(DRIVE, response_deserializer=types_pb2.Steering.FromString)
            call = drive()  # requests go out as the bytes wire_frame built
            reader = asyncio.create_task(self._read(call))
            try:
                await self._write(call, body, start_at)
                await asyncio.wait_for(asyncio.shield(reader), DRAIN_S)
            except TimeoutError:
                call.cancel()
            except grpc.aio.AioRpcError as error:
                self.ended_with = error.code().name
            finally:
                if not reader.done():
                    call.cancel()
                await asyncio.gather(reader, return_exceptions=True)

    async def _write(self, call, body: bytes, start_at: float) -> None:
        loop = asyncio.get_running_loop()
        # edges are not in phase: spread their first frames over one period
        next_at = start_at + self.period * (self.index % 97) / 97
        sequence = 0
        while next_at < start_at + self.seconds:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            next_at += self.period
            sequence += 1
            now = time.monotonic_ns()
            self.sent[sequence] = now
            if call.done():
                return
            await call.write(wire_frame(body, sequence, now))
        await call.done_writing()

    async def _read(self, call) -> None:
        try:
            async for answer in call:
                received = time.monotonic_ns()
                self.answered += 1
                if answer.error:
                    self.errors += 1
                elif answer.stale:
                    self.stale += 1
                sent = self.sent.get(answer.frame_sequence, 0)
                if sent >= self.measure_from_ns:
                    self.latencies_ms.append((received - sent) / 1e6)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                self.ended_with = error.code().name


async def main(address: str, streams: int, seconds: float, rate: float, measure_from_s: float) -> dict:
    cpu_at_start = time.process_time()  # the interpreter's start-up and imports are not the edges' cost
    body = frame_body(picture())
    loop = asyncio.get_running_loop()
    start_at = loop.time() + 0.5
    measure_from_ns = time.monotonic_ns() + int((0.5 + measure_from_s) * 1e9)
    edges = [Edge(address, i, rate, seconds, measure_from_ns) for i in range(streams)]
    await asyncio.gather(*(edge.run(body, start_at) for edge in edges))
    ended = Counter(edge.ended_with for edge in edges if edge.ended_with)
    return {
        "streams": streams,
        "sent": sum(len(edge.sent) for edge in edges),
        "answered": sum(edge.answered for edge in edges),
        "stale": sum(edge.stale for edge in edges),
        "errors": sum(edge.errors for edge in edges),
        "ended_with": dict(ended),
        "cpu_s": time.process_time() - cpu_at_start,
        "latencies_ms": [round(v, 3) for edge in edges for v in edge.latencies_ms],
    }


if __name__ == "__main__":
    address, streams, seconds, rate, measure_from = sys.argv[1:6]
    edges = main(address, int(streams), float(seconds), float(rate), float(measure_from))
    result = uvloop.run(edges) if uvloop is not None else asyncio.run(edges)
    print(json.dumps(result), flush=True)
