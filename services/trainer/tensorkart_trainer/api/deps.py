"""FastAPI dependencies: settings, bearer-token auth, the job store and the model registry."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

import redis
from fastapi import Depends, HTTPException, Request, status

from tensorkart_core.auth import token_matches
from tensorkart_core.registry import ModelRegistry
from tensorkart_core.settings import load_settings
from tensorkart_trainer.jobs import JobStore
from tensorkart_trainer.settings import TrainerSettings


@lru_cache
def get_settings() -> TrainerSettings:
    return load_settings(TrainerSettings)


SettingsDep = Annotated[TrainerSettings, Depends(get_settings)]


def require_token(request: Request, settings: SettingsDep) -> None:
    """401 unless the request carries `Authorization: Bearer <TENSORKART_TOKEN>` (when set)."""
    if settings.token and not token_matches(request.headers.get("authorization"), settings.token):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="missing or invalid bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )


def get_store(request: Request) -> JobStore:
    return request.app.state.store


def get_registry(request: Request) -> ModelRegistry:
    return request.app.state.registry


StoreDep = Annotated[JobStore, Depends(get_store)]
RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]


def make_state(settings: TrainerSettings) -> tuple[JobStore, ModelRegistry]:
    """The job store and registry an app instance shares between requests."""
    store = JobStore(settings, redis.Redis.from_url(settings.redis_url))
    registry = ModelRegistry(settings.data_root, redis.Redis.from_url(settings.redis_url, decode_responses=True))
    return store, registry
