"""Entry point: `python -m tensorkart_inference` runs the inference gRPC server until SIGTERM."""

from __future__ import annotations

from tensorkart_core.grpc_server import Servicer, run_server
from tensorkart_core.logs import setup_logging
from tensorkart_core.proto.v1 import inference_pb2_grpc
from tensorkart_core.settings import load_settings
from tensorkart_inference.settings import InferenceSettings


def main() -> None:
    settings = load_settings(InferenceSettings)
    setup_logging("inference", settings.log_level)
    servicer = Servicer(
        inference_pb2_grpc.add_InferenceServicer_to_server,
        inference_pb2_grpc.InferenceServicer(),
        "tensorkart.v1.Inference",
    )
    run_server("inference", settings, [servicer])


if __name__ == "__main__":
    main()
