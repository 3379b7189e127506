"""FastAPI dependencies: settings and bearer-token auth."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from tensorkart_core.auth import token_matches
from tensorkart_core.settings import load_settings
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
