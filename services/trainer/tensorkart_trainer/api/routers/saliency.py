"""GET /v1/models/{version}/saliency: a VisualBackProp overlay (PNG) of one frame for one model.

The frame is a live session's latest (`?session=`) or a dataset's frame (`?dataset=&index=`, the
data.csv row, 0-based). TensorFlow runs in one spawned child process (started on the first
request, kept for the next ones with the models it loaded): the API process never imports it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Annotated

import redis
from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response

from tensorkart_core.dataset import DatasetNameError, dataset_dir, read_rows, validate_name
from tensorkart_core.image_paths import resolve_image
from tensorkart_core.registry import RegistryError, read_metadata, validate_version
from tensorkart_trainer.api.deps import SettingsDep
from tensorkart_trainer.api.routers.live import session_key
from tensorkart_trainer.api.schemas import NAME_MAX_LENGTH, NAME_PATTERN

router = APIRouter(prefix="/v1/models", tags=["models"])
_pool: ProcessPoolExecutor | None = None
TIMEOUT_S = 120.0  # the first request imports TensorFlow and loads the model


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_end_with_parent
        )
    return _pool


def shutdown_pool() -> None:
    """Stop the TensorFlow child (the API's shutdown calls it)."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def _end_with_parent() -> None:
    """In the child: exit once the API process is gone, even when it was killed and could not stop us."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _frame_bytes(settings: SettingsDep, session: str | None, dataset: str | None, index: int | None) -> bytes:
    if session is not None:
        client = redis.Redis.from_url(settings.redis_url)
        try:
            jpeg = client.hget(session_key(session), "jpeg")
        finally:
            client.close()
        if not jpeg:
            raise HTTPException(404, f"no live frames from session {session!r} (see GET /v1/live)")
        return jpeg
    if dataset is None or index is None:
        raise HTTPException(422, "give ?session=NAME (a live session) or ?dataset=NAME&index=N (a dataset frame)")
    try:
        validate_name(dataset)
    except DatasetNameError as error:
        raise HTTPException(400, str(error)) from None
    csv_path = dataset_dir(settings.data_root, dataset) / "data.csv"
    if not csv_path.is_file():
        raise HTTPException(404, f"no dataset named {dataset!r}")
    rows, _errors = read_rows(csv_path, strict=False)
    if not 0 <= index < len(rows):
        raise HTTPException(404, f"dataset {dataset!r} has {len(rows)} frames; index {index} is out of range")
    path = resolve_image(settings.data_root, csv_path, rows[index].image)
    if not path.is_file():
        raise HTTPException(404, f"frame {index} of {dataset!r} is missing: {path.name}")
    return path.read_bytes()


@router.get(
    "/{version}/saliency",
    responses={
        200: {"content": {"image/png": {}}, "description": "the frame's model-visible crop, saliency in red"},
        404: {"description": "no such model, session or frame"},
        400: {"description": "invalid name"},
    },
    response_class=Response,
)
async def saliency(
    settings: SettingsDep,
    version: Annotated[str, Path(pattern=NAME_PATTERN, max_length=NAME_MAX_LENGTH)],
    session: Annotated[str | None, Query(pattern=NAME_PATTERN, max_length=NAME_MAX_LENGTH)] = None,
    dataset: Annotated[str | None, Query(pattern=NAME_PATTERN, max_length=NAME_MAX_LENGTH)] = None,
    index: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """VisualBackProp (Bojarski et al. 2017) of a live or dataset frame for model `version`."""
    try:
        validate_version(version)
        read_metadata(settings.data_root, version)
    except (RegistryError, FileNotFoundError, OSError, ValueError):
        raise HTTPException(404, f"no model version {version!r}") from None
    image = await asyncio.to_thread(_frame_bytes, settings, session, dataset, index)
    from tensorkart_trainer import saliency as vbp  # no TensorFlow at import: it is imported in the child

    future = _executor().submit(vbp.overlay_png, str(settings.data_root), version, image)
    try:
        png = await asyncio.wait_for(asyncio.wrap_future(future), TIMEOUT_S)
    except (ValueError, OSError) as error:
        raise HTTPException(422, f"saliency failed for model {version}: {error}") from None
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})
