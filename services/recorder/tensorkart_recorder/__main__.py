"""Entry point: `python -m tensorkart_recorder` runs the recorder gRPC server until SIGTERM."""

from __future__ import annotations

from tensorkart_core.grpc_server import Servicer, run_server
from tensorkart_core.logs import setup_logging
from tensorkart_core.proto.v1 import recorder_pb2_grpc
from tensorkart_core.settings import load_settings
from tensorkart_recorder.settings import RecorderSettings


def main() -> None:
    settings = load_settings(RecorderSettings)
    setup_logging("recorder", settings.log_level)
    servicer = Servicer(
        recorder_pb2_grpc.add_RecorderServicer_to_server, recorder_pb2_grpc.RecorderServicer(), "tensorkart.v1.Recorder"
    )
    run_server("recorder", settings, [servicer])


if __name__ == "__main__":
    main()
