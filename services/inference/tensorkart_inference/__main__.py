"""Entry point: `python -m tensorkart_inference` runs the inference gRPC server until SIGTERM.

Serves INFERENCE_MODEL when set (pinned), else the registry's active version, hot-swapping
on promote/rollback events.
"""

from __future__ import annotations

import logging

from tensorkart_core.grpc_server import Servicer, run_server
from tensorkart_core.logs import setup_logging
from tensorkart_core.proto.v1 import inference_pb2_grpc
from tensorkart_core.settings import load_settings
from tensorkart_inference.hotswap import ModelFollower, ModelHolder
from tensorkart_inference.models import ModelLoadError
from tensorkart_inference.push import PushTargets
from tensorkart_inference.servicer import InferenceServicer
from tensorkart_inference.settings import InferenceSettings

log = logging.getLogger("inference")


def main() -> None:
    settings = load_settings(InferenceSettings)
    setup_logging("inference", settings.log_level)
    holder = ModelHolder()
    follower = ModelFollower(settings, holder)
    try:
        follower.start()
    except ModelLoadError as error:
        log.error("pinned model cannot serve: %s", error)
        raise SystemExit(2) from None
    if holder.current is None:
        log.warning("no active model yet: calls get FAILED_PRECONDITION until one is promoted")
    push_targets = PushTargets(settings.push)
    servicer = Servicer(
        inference_pb2_grpc.add_InferenceServicer_to_server,
        InferenceServicer(holder, settings.stale_ms, push_targets),
        "tensorkart.v1.Inference",
    )
    run_server("inference", settings, [servicer], on_stop=[follower.stop, push_targets.close])


if __name__ == "__main__":
    main()
