"""The model the inference server serves, as the edge relay sees it: version and pre-processing
spec from GetModelInfo, read before each Drive stream opens, re-read every `refresh_s` while it
lives and at once when an answer says the frame was pre-processed for another spec
(STEERING_ERROR_SPEC_MISMATCH)."""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass

import grpc

from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.proto.v1 import inference_pb2, inference_pb2_grpc
from tensorkart_core.resilient_stream import Attempt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedModelView:
    version: str = ""
    spec: PreprocessSpec | None = None


class ModelWatch:
    """The served model's version and spec; `current` is replaced whole (read it once)."""

    def __init__(self, refresh_s: float) -> None:
        self.refresh_s = refresh_s
        self.current = ServedModelView()

    def read(self, stub: inference_pb2_grpc.InferenceStub) -> None:
        """Ask GetModelInfo. Raises grpc.RpcError when it fails, FAILED_PRECONDITION included (the
        server has no model yet: the relay does not open a Drive stream to it, it retries)."""
        info = stub.GetModelInfo(inference_pb2.GetModelInfoRequest(), timeout=5, wait_for_ready=True)
        if info.version == self.current.version:
            return
        spec = PreprocessSpec.from_json(info.preprocess_json) if info.preprocess_json else None
        self.current = ServedModelView(info.version, spec)
        log.info("inference serves model %s (%s)", info.version, info.backend)

    def follow(self, stub: inference_pb2_grpc.InferenceStub, attempt: Attempt, stop: threading.Event) -> None:
        """Re-read every `refresh_s` in a thread while `attempt`'s stream lives: after a swap to
        a model with another spec, answers may still come from the old model for a while."""

        def loop() -> None:
            while not attempt.dead and not stop.wait(self.refresh_s):
                if attempt.dead:
                    return
                with contextlib.suppress(grpc.RpcError, ValueError):  # the Drive stream notices a broken link
                    self.read(stub)

        threading.Thread(target=loop, name="model-follow", daemon=True).start()
