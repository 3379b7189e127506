"""Datasets: list, describe, contact sheet, and the curation page's timeline, frames, soft delete /
restore and predicted-vs-recorded steering. Everything reads through tensorkart_core.datasets."""

from __future__ import annotations

import io
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from PIL import Image

from tensorkart_core import datasets as ds
from tensorkart_trainer import predictions as pred
from tensorkart_trainer.api.deps import SettingsDep
from tensorkart_trainer.api.schemas import (
    NAME_MAX_LENGTH,
    NAME_PATTERN,
    CurationResult,
    DatasetDetail,
    DatasetPredictions,
    DatasetSummary,
    DatasetTimeline,
    FrameRange,
)

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])

NOT_FOUND = {404: {"description": "no such dataset"}, 400: {"description": "invalid dataset name"}}
CURATION = {**NOT_FOUND, 422: {"description": "the range is outside the dataset, or the dataset cannot be curated"}}
DatasetName = Annotated[
    str,
    Path(
        pattern=NAME_PATTERN,
        max_length=NAME_MAX_LENGTH,
        description="letters, digits, '_', '-', '.'; not starting with '.' or '-'; no '..'",
    ),
]
ModelVersion = Annotated[
    str, Query(pattern=NAME_PATTERN, max_length=NAME_MAX_LENGTH, description="a model version, e.g. m20261124-081530")
]


def _checked(name: str) -> str:
    try:
        return ds.validate_name(name)
    except ds.DatasetNameError as error:
        raise HTTPException(status_code=400, detail=str(error)) from None


async def _call(function, *args):
    """Run library work off the event loop, mapping its errors to HTTP answers."""
    try:
        return await run_in_threadpool(function, *args)
    except ds.DatasetNotFound as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
    except ds.CurationError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None


@router.get("", summary="List datasets with frame counts, duration, steering histogram, validation state")
async def list_all(settings: SettingsDep) -> list[DatasetSummary]:
    def work() -> list[dict]:
        out = []
        for name in ds.list_datasets(settings.data_root):
            try:
                out.append(ds.summary(settings.data_root, name))
            except (ds.DatasetNotFound, ds.DatasetNameError, OSError):
                continue
        return out

    return await run_in_threadpool(work)


@router.get("/{name}/contact-sheet.png", responses=NOT_FOUND, response_class=Response, summary="Thumbnails")
async def contact_sheet(name: DatasetName, settings: SettingsDep) -> Response:
    _checked(name)
    png = await _call(ds.contact_sheet, settings.data_root, name)
    return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=60"})


@router.get("/{name}/timeline", responses=CURATION, summary="Every frame (deleted ones flagged) as columns")
async def timeline(name: DatasetName, settings: SettingsDep) -> DatasetTimeline:
    _checked(name)
    return await _call(ds.timeline, settings.data_root, name)


def _frame_bytes(data_root, name: str, index: int, image_format: str) -> tuple[bytes, str]:
    try:
        path = ds.frame_image(data_root, name, index)
    except IndexError as error:
        raise ds.DatasetNotFound(str(error)) from None
    if not path.is_file():
        raise ds.DatasetNotFound(f"frame {index} of {name}: image {path.name} is missing")
    if image_format == "png" and path.suffix.lower() == ".png":
        return path.read_bytes(), "image/png"
    with Image.open(path) as image:
        buffer = io.BytesIO()
        if image_format == "png":
            image.convert("RGB").save(buffer, format="PNG")
            return buffer.getvalue(), "image/png"
        image.convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue(), "image/jpeg"


@router.get(
    "/{name}/frames/{index}",
    responses={**CURATION, 200: {"content": {"image/png": {}, "image/jpeg": {}}, "description": "the frame"}},
    response_class=Response,
    summary="One frame's image (PNG as stored, or JPEG) for scrubbing the timeline",
)
async def frame(
    name: DatasetName,
    index: Annotated[int, Path(ge=0, le=10_000_000, description="timeline frame index")],
    settings: SettingsDep,
    image_format: Annotated[Literal["png", "jpeg"], Query(alias="format")] = "png",
) -> Response:
    _checked(name)
    data, media = await _call(_frame_bytes, settings.data_root, name, index, image_format)
    return Response(data, media_type=media, headers={"Cache-Control": "max-age=5"})


@router.post("/{name}/deletions", responses=CURATION, summary="Soft-delete frames start..end (inclusive)")
async def delete_frames(name: DatasetName, body: FrameRange, settings: SettingsDep) -> CurationResult:
    _checked(name)
    result = await _call(ds.delete_range, settings.data_root, name, body.start, body.end)
    return result.to_dict()


@router.post("/{name}/restorations", responses=CURATION, summary="Restore soft-deleted frames start..end")
async def restore_frames(name: DatasetName, body: FrameRange, settings: SettingsDep) -> CurationResult:
    _checked(name)
    result = await _call(ds.restore_range, settings.data_root, name, body.start, body.end)
    return result.to_dict()


@router.get(
    "/{name}/predictions",
    responses={**CURATION, 404: {"description": "no such dataset or model"}},
    summary="Predicted vs recorded steering of a model over every frame",
)
async def predictions(name: DatasetName, model: ModelVersion, settings: SettingsDep) -> DatasetPredictions:
    _checked(name)
    try:
        return await _call(pred.predictions, settings.data_root, name, model)
    except pred.ModelNotUsable as error:
        raise HTTPException(status_code=404, detail=str(error)) from None


@router.api_route("/{name}/deletions", methods=["GET", "HEAD"], include_in_schema=False)
@router.api_route("/{name}/restorations", methods=["GET", "HEAD"], include_in_schema=False)
async def post_only(name: str) -> None:
    """405 (Allow: POST) rather than the catch-all below reading `NAME/deletions` as a dataset name."""
    raise HTTPException(status_code=405, detail="Method Not Allowed")


@router.get("/{name:path}", responses=NOT_FOUND, summary="One dataset: frames, duration, histogram, validation")
async def get_one(name: DatasetName, settings: SettingsDep) -> DatasetDetail:
    _checked(name)
    return await _call(ds.describe, settings.data_root, name)
