"""The tensorkart.v1.Controller gRPC servicer: steering in, state and configuration out."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from tensorkart_controller.core import Controller, InvalidSteering
from tensorkart_controller.settings import Mode
from tensorkart_core.proto.v1 import controller_pb2, controller_pb2_grpc, types_pb2

MODES: dict[int, Mode] = {
    controller_pb2.CONTROLLER_MODE_FREE_RUN: "free_run",
    controller_pb2.CONTROLLER_MODE_LOCK_STEP: "lock_step",
}
MODE_ENUMS = {name: number for number, name in MODES.items()}
MAX_LOCK_STEP_TIMEOUT_MS = 60_000  # as CONTROLLER_LOCK_STEP_TIMEOUT_MS allows


class ControllerService(controller_pb2_grpc.ControllerServicer):
    def __init__(self, controller: Controller) -> None:
        self._controller = controller

    def PushSteering(
        self, request_iterator: Iterator[types_pb2.Steering], context: grpc.ServicerContext
    ) -> controller_pb2.PushSummary:
        received = applied = 0
        for steering in request_iterator:
            received += 1
            try:
                applied += self._controller.apply(steering)
            except InvalidSteering as error:  # one bad message must not end the play loop
                self._controller.log_invalid(error)
        return controller_pb2.PushSummary(received=received, applied=applied)

    def SetSteering(self, request: types_pb2.Steering, context: grpc.ServicerContext) -> types_pb2.ControllerState:
        try:
            self._controller.apply(request)
        except InvalidSteering as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        return self._controller.state(request.port)

    def GetState(
        self, request: controller_pb2.GetStateRequest, context: grpc.ServicerContext
    ) -> types_pb2.ControllerState:
        try:
            return self._controller.state(request.port)
        except InvalidSteering as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
            raise  # unreachable: abort raises

    def Configure(
        self, request: controller_pb2.ControllerConfig, context: grpc.ServicerContext
    ) -> controller_pb2.ControllerConfig:
        if request.mode not in (controller_pb2.CONTROLLER_MODE_UNSPECIFIED, *MODES):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unknown controller mode {request.mode}")
        if request.lock_step_timeout_ms > MAX_LOCK_STEP_TIMEOUT_MS:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"lock_step_timeout_ms {request.lock_step_timeout_ms} is above {MAX_LOCK_STEP_TIMEOUT_MS}",
            )
        config = self._controller.configure(
            MODES.get(request.mode),
            request.shadow if request.HasField("shadow") else None,
            request.lock_step_timeout_ms or None,
        )
        return controller_pb2.ControllerConfig(
            mode=MODE_ENUMS[config.mode], shadow=config.shadow, lock_step_timeout_ms=config.lock_step_timeout_ms
        )
