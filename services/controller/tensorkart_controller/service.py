"""The tensorkart.v1.Controller gRPC servicer (grpc.aio): steering in, state and configuration out.

Every handler is a coroutine on the server's event loop: an open PushSteering stream costs no
thread. Applying steering takes the controller's lock for microseconds (and answers the polls
waiting for it), so it runs on the loop itself; the input-bot HTTP server has its own thread.
Shadow mode is per pad: Configure's `shadow` applies to ControllerConfig.port only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

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

    async def PushSteering(
        self, request_iterator: AsyncIterator[types_pb2.Steering], context: grpc.aio.ServicerContext
    ) -> controller_pb2.PushSummary:
        received = applied = 0
        async for steering in request_iterator:
            received += 1
            try:
                applied += self._controller.apply(steering)
            except InvalidSteering as error:  # one bad message must not end the play loop
                self._controller.log_invalid(error)
        return controller_pb2.PushSummary(received=received, applied=applied)

    async def SetSteering(
        self, request: types_pb2.Steering, context: grpc.aio.ServicerContext
    ) -> types_pb2.ControllerState:
        try:
            self._controller.apply(request)
        except InvalidSteering as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        return self._controller.state(request.port)

    async def GetState(
        self, request: controller_pb2.GetStateRequest, context: grpc.aio.ServicerContext
    ) -> types_pb2.ControllerState:
        try:
            return self._controller.state(request.port)
        except InvalidSteering as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
            raise  # unreachable: abort raises

    async def Configure(
        self, request: controller_pb2.ControllerConfig, context: grpc.aio.ServicerContext
    ) -> controller_pb2.ControllerConfig:
        if request.mode not in (controller_pb2.CONTROLLER_MODE_UNSPECIFIED, *MODES):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unknown controller mode {request.mode}")
        if request.lock_step_timeout_ms > MAX_LOCK_STEP_TIMEOUT_MS:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"lock_step_timeout_ms {request.lock_step_timeout_ms} is above {MAX_LOCK_STEP_TIMEOUT_MS}",
            )
        try:
            config = self._controller.configure(
                MODES.get(request.mode),
                request.shadow if request.HasField("shadow") else None,
                request.lock_step_timeout_ms or None,
                request.port,
            )
        except InvalidSteering as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        return controller_pb2.ControllerConfig(
            mode=MODE_ENUMS[config.mode],
            shadow=config.shadow,
            lock_step_timeout_ms=config.lock_step_timeout_ms,
            port=request.port,
        )
