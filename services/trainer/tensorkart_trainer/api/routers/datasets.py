"""GET /v1/datasets, /v1/datasets/{name}, /v1/datasets/{name}/contact-sheet.png."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tensorkart_core.dataset import DatasetNameError, list_datasets, validate_name
from tensorkart_trainer import datasets as ds
from tensorkart_trainer.api.deps import SettingsDep
from tensorkart_trainer.api.schemas import NAME_MAX_LENGTH, NAME_PATTERN, DatasetDetail, DatasetSummary

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])

NOT_FOUND = {404: {"description": "no such dataset"}, 400: {"description": "invalid dataset name"}}
DatasetName = Annotated[
    str,
    Path(
        pattern=NAME_PATTERN,
        max_length=NAME_MAX_LENGTH,
        description="letters, digits, '_', '-', '.'; not starting with '.' or '-'; no '..'",
    ),
]


def _checked(name: str) -> str:
    try:
        return validate_name(name)
    except DatasetNameError as error:
        raise HTTPException(status_code=400, detail=str(error)) from None


@router.get("", summary="List datasets with frame counts, duration, steering histogram, validation state")
async def list_all(settings: SettingsDep) -> list[DatasetSummary]:
    def work() -> list[dict]:
        out = []
        for name in list_datasets(settings.data_root):
            try:
                out.append(ds.summary(settings.data_root, name))
            except (ds.DatasetNotFound, DatasetNameError, OSError):
                continue
        return out

    return await run_in_threadpool(work)


@router.get("/{name}/contact-sheet.png", responses=NOT_FOUND, response_class=Response, summary="Thumbnails")
async def contact_sheet(name: DatasetName, settings: SettingsDep) -> Response:
    _checked(name)
    try:
        png = await run_in_threadpool(ds.contact_sheet, settings.data_root, name)
    except ds.DatasetNotFound as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
    return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=60"})


@router.get("/{name:path}", responses=NOT_FOUND, summary="One dataset: frames, duration, histogram, validation")
async def get_one(name: DatasetName, settings: SettingsDep) -> DatasetDetail:
    _checked(name)
    try:
        return await run_in_threadpool(ds.describe, settings.data_root, name)
    except ds.DatasetNotFound as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
