"""Entry point: `python -m tensorkart_inference` runs the inference gRPC server (grpc.aio) until SIGTERM.

Serves INFERENCE_MODEL when set (pinned: loaded before the server listens; a model that cannot
serve exits with status 2), else the registry's active version, hot-swapping on promote/rollback
events; then the server listens at once and the model loads in the background. Health: "" is
liveness (SERVING while the process answers), "tensorkart.v1.Inference" is readiness
(NOT_SERVING until a model is loaded and warmed up, then SERVING, through hot swaps too).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from tensorkart_core.grpc_aio import AioServer, run_aio_server
from tensorkart_core.grpc_server import Servicer
from tensorkart_core.logs import setup_logging
from tensorkart_core.proto.v1 import inference_pb2_grpc
from tensorkart_core.settings import load_settings
from tensorkart_inference.hotswap import ModelFollower, ModelHolder
from tensorkart_inference.models import ModelLoadError, ServedModel
from tensorkart_inference.servicer import InferenceServicer
from tensorkart_inference.settings import InferenceSettings

log = logging.getLogger("inference")

SERVICE_NAME = "tensorkart.v1.Inference"


def model_threads(settings: InferenceSettings) -> int:
    """Executor threads running frames: one per LiteRT interpreter (each frame holds one for
    its whole run), or enough callers to fill a TensorFlow batch."""
    return settings.batch_max if settings.backend == "tensorflow" else settings.interpreters


def main() -> None:
    settings = load_settings(InferenceSettings)
    setup_logging("inference", settings.log_level)
    holder = ModelHolder()
    follower = ModelFollower(settings, holder)
    if settings.model:
        try:
            follower.start()
        except ModelLoadError as error:
            log.error("pinned model cannot serve: %s", error)
            raise SystemExit(2) from None
    executor = ThreadPoolExecutor(model_threads(settings), thread_name_prefix="model")
    inference = InferenceServicer(
        holder,
        settings.stale_ms,
        executor,
        settings.max_streams,
        settings.inline_below_ms,
        batch_jobs=settings.interpreters,
        max_batch=settings.batch_max,
    )
    servicer = Servicer(inference_pb2_grpc.add_InferenceServicer_to_server, inference, SERVICE_NAME)

    def log_where_frames_run(model: ServedModel) -> None:
        where = "on the event loop when idle" if inference.runs_inline(model) else "in the model threads"
        log.info("model %s: warm invoke %.2f ms, frames run %s", model.version, model.warm_invoke_s * 1e3, where)

    holder.on_install.append(log_where_frames_run)
    if holder.current is not None:  # pinned: loaded before the servicer existed
        log_where_frames_run(holder.current)

    def on_start(server: AioServer) -> None:
        holder.on_install.append(lambda _model: server.set_ready(SERVICE_NAME, True))
        if holder.current is not None:
            server.set_ready(SERVICE_NAME, True)
        if not settings.model:
            asyncio.get_running_loop().run_in_executor(None, follow_registry)

    def follow_registry() -> None:
        follower.start()
        if holder.current is None:
            log.warning("no active model yet: not ready (NOT_SERVING) until one is promoted")

    run_aio_server(
        "inference",
        settings,
        [servicer],
        on_start=on_start,
        on_stop=[follower.stop, lambda: executor.shutdown(wait=False)],
        not_ready=[SERVICE_NAME],
    )


if __name__ == "__main__":
    main()
