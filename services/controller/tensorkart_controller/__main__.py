"""Entry point: `python -m tensorkart_controller` serves the Controller gRPC API (grpc.aio) and
the mupen64plus-input-bot HTTP protocol (its own thread) in one process until SIGTERM."""

from __future__ import annotations

import logging

from tensorkart_controller.core import Config, Controller
from tensorkart_controller.inputbot import InputBotServer
from tensorkart_controller.mapping import Calibration
from tensorkart_controller.service import ControllerService
from tensorkart_controller.settings import ControllerSettings
from tensorkart_core.grpc_aio import run_aio_server
from tensorkart_core.grpc_server import Servicer
from tensorkart_core.logs import setup_logging
from tensorkart_core.ports import report_ports
from tensorkart_core.proto.v1 import controller_pb2_grpc
from tensorkart_core.settings import load_settings

log = logging.getLogger("tensorkart_controller")


def main() -> None:
    settings = load_settings(ControllerSettings)
    setup_logging("controller", settings.log_level)
    controller = Controller(
        Config(settings.mode, settings.shadow, settings.lock_step_timeout_ms),
        Calibration(settings.gain, settings.deadzone, settings.hold_a),
        settings.safety_timeout_ms,
        settings.agreement_window,
    )
    http = InputBotServer(controller, settings.http_host, settings.http_port, settings.http_backlog).start()
    report_ports(http=http.port)
    log.info(
        "input-bot HTTP on %s:%d (GET /0../3); mode %s, shadow %s (every pad at start), safety timeout %d ms, "
        "gain %.2f, deadzone %.2f, "
        "hold A %s",
        settings.http_host,
        http.port,
        settings.mode,
        "on" if settings.shadow else "off",
        settings.safety_timeout_ms,
        settings.gain,
        settings.deadzone,
        "on" if settings.hold_a else "off",
    )
    servicer = Servicer(
        controller_pb2_grpc.add_ControllerServicer_to_server, ControllerService(controller), "tensorkart.v1.Controller"
    )
    # Stop order on SIGTERM: gRPC drains, then the HTTP loop ends, then waiting polls are answered.
    run_aio_server("controller", settings, [servicer], on_stop=[http.stop, controller.close])


if __name__ == "__main__":
    main()
