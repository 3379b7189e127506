"""Training jobs: POST /v1/jobs (202), GET /v1/jobs[/{id}], DELETE /v1/jobs/{id}, GET /v1/jobs/{id}/events (SSE)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from tensorkart_core import datasets as ds
from tensorkart_core.datasets import DatasetNameError
from tensorkart_core.registry import RegistryError, read_metadata, validate_version
from tensorkart_trainer.api.deps import SettingsDep, StoreDep
from tensorkart_trainer.api.schemas import JobSubmitted, JobView
from tensorkart_trainer.jobs import TERMINAL, JobConflict, JobNotFound
from tensorkart_trainer.params import JobParams

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
JOB_RESPONSES = {404: {"description": "no such job"}}


def _unprocessable(field: str, message: str) -> HTTPException:
    return HTTPException(
        status_code=422,
        detail=[{"loc": ["body", field], "msg": message, "type": "value_error"}],
    )


@router.post(
    "",
    status_code=202,
    responses={400: {"description": "dataset name with path tricks"}, 422: {"description": "invalid parameters"}},
    summary="Queue a training job",
    response_model=JobSubmitted,
)
async def submit(params: JobParams, settings: SettingsDep, store: StoreDep) -> JSONResponse:
    try:
        names = await run_in_threadpool(ds.resolve_names, settings.data_root, params.datasets)
    except DatasetNameError as error:
        raise HTTPException(status_code=400, detail=f"datasets: {error}") from None
    except ds.DatasetNotFound as error:
        raise _unprocessable("datasets", str(error)) from None
    if params.base_model is not None:
        try:
            validate_version(params.base_model)
            read_metadata(settings.data_root, params.base_model)
        except (RegistryError, ValueError) as error:
            raise _unprocessable("base_model", str(error)) from None
    job_id = await run_in_threadpool(store.submit, params, names)
    return JSONResponse(
        {"id": job_id, "state": "queued", "datasets": names, "url": f"/v1/jobs/{job_id}"},
        status_code=202,
        headers={"Location": f"/v1/jobs/{job_id}"},
    )


@router.get("", summary="List training jobs, newest first")
async def list_jobs(store: StoreDep, limit: int = Query(100, ge=1, le=1000)) -> list[JobView]:
    return await run_in_threadpool(store.list, limit)


async def _describe(store: StoreDep, job_id: str) -> dict[str, Any]:
    try:
        return await run_in_threadpool(store.describe, job_id)
    except JobNotFound as error:
        raise HTTPException(status_code=404, detail=str(error)) from None


@router.get("/{job_id}", responses=JOB_RESPONSES, summary="State, progress, metric history, ETA, log tail")
async def get_job(job_id: str, store: StoreDep) -> JobView:
    return await _describe(store, job_id)


@router.delete(
    "/{job_id}",
    status_code=202,
    responses={**JOB_RESPONSES, 409: {"description": "job already ended"}},
    summary="Cancel a job (queued: at once; running: at the next training step)",
)
async def cancel_job(job_id: str, store: StoreDep) -> JobView:
    try:
        return await run_in_threadpool(store.cancel, job_id)
    except JobNotFound as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
    except JobConflict as error:
        raise HTTPException(status_code=409, detail=str(error)) from None


@router.get(
    "/{job_id}/events",
    responses={**JOB_RESPONSES, 200: {"content": {"text/event-stream": {}}}},
    response_class=StreamingResponse,
    summary="Server-sent events: the job view whenever it changes, until the job ends",
)
async def job_events(job_id: str, request: Request, store: StoreDep) -> StreamingResponse:
    first = await _describe(store, job_id)

    async def stream() -> AsyncIterator[str]:
        view, last = first, None
        while True:
            text = json.dumps(view, sort_keys=True)
            if text != last:
                yield f"event: {'end' if view['state'] in TERMINAL else 'progress'}\ndata: {text}\n\n"
                last = text
            if view["state"] in TERMINAL or await request.is_disconnected():
                return
            await asyncio.sleep(0.5)
            try:
                view = await run_in_threadpool(store.describe, job_id)
            except JobNotFound:
                return

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
