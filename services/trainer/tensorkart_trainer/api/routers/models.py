"""Model registry: GET /v1/models[/{version}], POST /v1/models/{version}/promote, POST /v1/models/rollback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from fastapi.concurrency import run_in_threadpool

from tensorkart_core.registry import RegistryError, list_versions, read_metadata, validate_version
from tensorkart_trainer.api.deps import RegistryDep, SettingsDep
from tensorkart_trainer.api.schemas import NAME_MAX_LENGTH, NAME_PATTERN, ModelDetail, ModelList, RegistryEvent

router = APIRouter(prefix="/v1/models", tags=["models"])
RESPONSES = {404: {"description": "no such model version"}, 400: {"description": "invalid version name"}}
Version = Annotated[
    str,
    Path(
        pattern=NAME_PATTERN,
        max_length=NAME_MAX_LENGTH,
        description="a model version, e.g. m20261124-081530-3fa2: letters, digits, '_', '-', '.'; no '..'",
    ),
]
SUMMARY_KEYS = ("version", "created", "outputs", "preprocess_id", "metrics", "evaluation", "base_model", "source")


def _checked(version: str) -> str:
    try:
        return validate_version(version)
    except RegistryError as error:
        raise HTTPException(status_code=400, detail=str(error)) from None


def _autonomy(metadata: dict[str, Any]) -> dict[str, float]:
    tracks = ((metadata.get("evaluation") or {}).get("tracks")) or {}
    return {t: r["autonomy"] for t, r in tracks.items() if isinstance(r, dict) and "autonomy" in r}


@router.get("", summary="All model versions (newest first) and the active one")
async def list_models(settings: SettingsDep, registry: RegistryDep) -> ModelList:
    def work() -> dict[str, Any]:
        models = []
        for version in reversed(list_versions(settings.data_root)):
            try:
                metadata = read_metadata(settings.data_root, version)
            except (RegistryError, ValueError, OSError):
                continue
            summary = {k: metadata.get(k) for k in SUMMARY_KEYS}
            summary["datasets"] = [d.get("name") for d in metadata.get("datasets") or [] if isinstance(d, dict)]
            summary["autonomy"] = _autonomy(metadata)
            models.append(summary)
        return {"active": registry.active(), "history": registry.history(), "models": models}

    return await run_in_threadpool(work)


@router.post(
    "/rollback", responses={409: {"description": "nothing to roll back to"}}, summary="Re-activate the previous"
)
async def rollback(registry: RegistryDep) -> RegistryEvent:
    try:
        return await run_in_threadpool(registry.rollback)
    except RegistryError as error:
        raise HTTPException(status_code=409, detail=str(error)) from None


@router.get("/{version}", responses=RESPONSES, summary="One model version's model.json, and whether it is active")
async def get_model(version: Version, settings: SettingsDep, registry: RegistryDep) -> ModelDetail:
    _checked(version)
    try:
        metadata = await run_in_threadpool(read_metadata, settings.data_root, version)
    except RegistryError as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
    return {**metadata, "active": registry.active() == version, "autonomy": _autonomy(metadata)}


@router.post("/{version}/promote", responses=RESPONSES, summary="Make this version active (inference hot-swaps)")
async def promote(version: Version, registry: RegistryDep) -> RegistryEvent:
    _checked(version)
    try:
        return await run_in_threadpool(registry.promote, version)
    except RegistryError as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
