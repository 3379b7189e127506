"""The trainer's FastAPI app factory: routers under /v1, token auth, /metrics, /healthz, the dashboard.

A background thread sweeps for running jobs whose heartbeat stopped (their worker died)
and fails them with the reason.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from tensorkart_trainer.api.deps import get_settings, make_state, require_token
from tensorkart_trainer.api.routers import dashboard, datasets, jobs, live, models, saliency
from tensorkart_trainer.api.schemas import Status

log = logging.getLogger("tensorkart.trainer.api")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def _sweeper(app: FastAPI, stop: threading.Event, interval: float) -> None:
    while not stop.wait(interval):
        try:
            for job_id in app.state.store.sweep():
                log.warning("job %s failed: its worker stopped sending heartbeats", job_id)
        except redis.RedisError as error:
            log.warning("job sweep failed: %s", error)


def _documented_methods(app: FastAPI, request: Request) -> list[str]:
    """The methods /openapi.json lists for the request's path; a literal path beats a template."""
    matches = []
    for template, item in app.openapi()["paths"].items():
        regex = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(regex, request.url.path):
            matches.append((template.count("{"), [m.upper() for m in item if m.upper() in HTTP_METHODS]))
    return min(matches)[1] if matches else []


def _field(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def create_app() -> FastAPI:
    settings = get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = threading.Thread(
            target=_sweeper, args=(app, stop, settings.sweep_interval_s), name="job-sweeper", daemon=True
        )
        thread.start()
        yield
        stop.set()
        thread.join(timeout=2)
        saliency.shutdown_pool()

    app = FastAPI(
        title="TensorKart trainer",
        version="0.1.0",
        description="Datasets, PilotNet training jobs on a Redis queue, and the model registry.",
        lifespan=lifespan,
    )
    app.state.store, app.state.registry = make_state(settings)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in error.errors()
        ]
        message = "; ".join(f"{_field(d['loc'])}: {d['msg']}" for d in details)
        # A path parameter that breaks its pattern (dataset name, model version) is a bad name: 400, as before.
        bad_name = bool(details) and all(d["loc"][:1] == ["path"] for d in details)
        return JSONResponse({"detail": details, "message": message}, status_code=400 if bad_name else 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code != 405:
            return await http_exception_handler(request, error)
        # Starlette names only the first matching route's methods (FastAPI has one route per method):
        # answer what the schema says about this path instead.
        return JSONResponse(
            {"detail": error.detail}, status_code=405, headers={"Allow": ", ".join(_documented_methods(app, request))}
        )

    @app.exception_handler(redis.RedisError)
    async def redis_down(_request: Request, error: redis.RedisError) -> JSONResponse:
        return JSONResponse({"detail": f"Redis unavailable: {error}"}, status_code=503)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> Status:
        return Status(status="ok")

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/ping", tags=["ops"], dependencies=[Depends(require_token)])
    def ping() -> Status:
        return Status(status="ok")

    auth = [Depends(require_token)]
    unauthorized = {401: {"description": "missing or invalid bearer token"}}
    for router in (datasets.router, jobs.router, models.router, saliency.router):
        app.include_router(router, dependencies=auth, responses=unauthorized)
    app.include_router(live.router, dependencies=[Depends(live.require_token_or_query)], responses=unauthorized)
    app.include_router(dashboard.router)
    dashboard.mount_static(app)
    return app
