"""The frontend's link to the controller service (tensorkart.v1.Controller over gRPC).

The input plugin reads the pad from the controller when the game polls it; the frontend sets that
state (SetSteering) before letting the emulator run on, or, when a model drives through the
controller, waits until the controller holds the answer to a given frame.
"""

from __future__ import annotations

import time

import grpc

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.proto.v1 import controller_pb2, controller_pb2_grpc, types_pb2


class ControllerLink:
    def __init__(self, address: str, port: int = 0, timeout: float = 5.0) -> None:
        self.address = address
        self.port = port
        self.timeout = timeout
        self._channel = make_channel(address)
        self._stub = controller_pb2_grpc.ControllerStub(self._channel)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            self._channel.close()
            raise ConnectionError(f"no controller answers at {address} (waited {timeout:.0f}s)") from None

    def set(self, joystick: types_pb2.Joystick, frame: int) -> types_pb2.ControllerState:
        """Make `joystick` the pad state the plugin serves from now on, as the answer to `frame`."""
        steering = types_pb2.Steering(
            frame_sequence=frame,
            capture_time_ns=time.monotonic_ns(),
            source=types_pb2.STEERING_SOURCE_HUMAN,
            joystick=joystick,
            port=self.port,
        )
        return self._stub.SetSteering(steering, timeout=self.timeout)

    def state(self) -> types_pb2.ControllerState:
        return self._stub.GetState(controller_pb2.GetStateRequest(port=self.port), timeout=self.timeout)

    def wait_answer(self, frame: int, timeout: float) -> types_pb2.ControllerState | None:
        """The controller's state once it answers `frame` or a later one; None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if state.frame_sequence >= frame:
                return state
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.0005)

    def close(self) -> None:
        self._channel.close()
