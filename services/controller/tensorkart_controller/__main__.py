"""Entry point: `python -m tensorkart_controller` runs the controller gRPC server until SIGTERM."""

from __future__ import annotations

from tensorkart_controller.settings import ControllerSettings
from tensorkart_core.grpc_server import Servicer, run_server
from tensorkart_core.logs import setup_logging
from tensorkart_core.proto.v1 import controller_pb2_grpc
from tensorkart_core.settings import load_settings


def main() -> None:
    settings = load_settings(ControllerSettings)
    setup_logging("controller", settings.log_level)
    servicer = Servicer(
        controller_pb2_grpc.add_ControllerServicer_to_server,
        controller_pb2_grpc.ControllerServicer(),
        "tensorkart.v1.Controller",
    )
    run_server("controller", settings, [servicer])


if __name__ == "__main__":
    main()
