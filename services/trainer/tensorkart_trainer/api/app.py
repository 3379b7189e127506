"""The trainer's FastAPI app factory: routers under /v1, token auth, /metrics, /healthz."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tensorkart_trainer.api.deps import require_token


def create_app() -> FastAPI:
    app = FastAPI(
        title="TensorKart trainer",
        version="0.1.0",
        description="Datasets, PilotNet training jobs on a Redis queue, and the model registry.",
    )

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/ping", tags=["ops"], dependencies=[Depends(require_token)])
    def ping() -> dict[str, str]:
        return {"status": "ok"}

    return app
