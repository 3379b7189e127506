"""Practice-track source: the simulator's frame feed (tensorkart.v1.Simulator/StreamFrames).

Every rendered frame arrives in order with the joystick the simulator's driver pressed
for it; the simulator paces itself, so this source does not. The feed is consumed on a
background thread so a slow consumer never stalls the gRPC stream (frames wait in a
queue; the simulator counts its own drops if we still fall behind).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import grpc
import numpy as np

from tensorkart_capture.sources.base import CapturedFrame, FrameSource, Pacer
from tensorkart_core.grpc_client import make_channel
from tensorkart_core.images import decode_frame
from tensorkart_core.proto.v1 import simulator_pb2, simulator_pb2_grpc

_END = object()


class SimSource(FrameSource):
    """Frames of a running simulator's feed at `address` (host:port) until it finishes."""

    kind = "sim"

    def __init__(self, address: str, rate_hz: float = 0.0, connect_timeout: float = 30.0, buffer: int = 600) -> None:
        self.address = address
        self.rate_hz = rate_hz
        self._channel = make_channel(address)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=connect_timeout)
        except grpc.FutureTimeoutError:
            self._channel.close()
            raise ConnectionError(f"no simulator feed answers at {address} (waited {connect_timeout:.0f}s)") from None
        self._call = simulator_pb2_grpc.SimulatorStub(self._channel).StreamFrames(simulator_pb2.StreamFramesRequest())
        self._queue: queue.Queue = queue.Queue(maxsize=buffer)
        self.last: simulator_pb2.SimFrame | None = None
        self.error: str | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._pull, name="sim-feed", daemon=True)
        self._thread.start()

    def describe(self) -> dict[str, str]:
        return {"source": self.kind, "sim_address": self.address}

    def _pull(self) -> None:
        try:
            for message in self._call:
                self._queue.put(message)
                if message.finished:
                    break
        except grpc.RpcError as error:
            if not self._closed:
                self.error = f"simulator feed at {self.address} broke: {error.code().name} {error.details()}"
        finally:
            self._queue.put(_END)

    def frames(self) -> Iterator[CapturedFrame]:
        sequence = 0
        pacer = Pacer(self.rate_hz)
        while True:
            message = self._queue.get()
            if message is _END:
                if self.error:
                    raise ConnectionError(self.error)
                return
            self.last = message
            if message.HasField("frame") and message.frame.width:
                rgb: np.ndarray = decode_frame(message.frame)
                pacer.wait()
                sequence += 1
                yield CapturedFrame(
                    sequence,
                    message.frame.capture_time_ns,
                    rgb,
                    game_frame=message.frame.game_frame or message.frame.sequence,
                    joystick=message.joystick,
                )
            if message.finished:
                return

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._call.cancel()
            self._channel.close()
