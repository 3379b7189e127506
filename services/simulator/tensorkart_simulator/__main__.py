"""Entry point: `python -m tensorkart_simulator` runs the simulator gRPC server until SIGTERM."""

from __future__ import annotations

from tensorkart_core.grpc_server import Servicer, run_server
from tensorkart_core.logs import setup_logging
from tensorkart_core.proto.v1 import simulator_pb2_grpc
from tensorkart_core.settings import load_settings
from tensorkart_simulator.settings import SimulatorSettings


def main() -> None:
    settings = load_settings(SimulatorSettings)
    setup_logging("simulator", settings.log_level)
    servicer = Servicer(
        simulator_pb2_grpc.add_SimulatorServicer_to_server,
        simulator_pb2_grpc.SimulatorServicer(),
        "tensorkart.v1.Simulator",
    )
    run_server("simulator", settings, [servicer])


if __name__ == "__main__":
    main()
