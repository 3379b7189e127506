"""The model registry: versions on shared storage, the active version in Redis.

    $TENSORKART_DATA/models/<version>/model.json   metadata (pre-processing spec, outputs,
                                                   training job, datasets, metrics)
    Redis  tensorkart:models:active    the active version
           tensorkart:models:history   previously active versions (newest first), for rollback
    channel tensorkart:models:events   JSON {"event": "promote"|"rollback", "version", "previous"}

Promote and rollback publish an event; inference servers follow it (and poll the
active key as a fallback).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

import redis

MODELS_DIR = "models"
METADATA_NAME = "model.json"
ACTIVE_KEY = "tensorkart:models:active"
HISTORY_KEY = "tensorkart:models:history"
EVENTS_CHANNEL = "tensorkart:models:events"
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


class RegistryError(ValueError):
    """Unknown or invalid model version."""


def new_version(prefix: str = "m") -> str:
    """A fresh, sortable version name like m20261124-081530-3fa2."""
    return f"{prefix}{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(2)}"


def validate_version(version: str) -> str:
    if not isinstance(version, str) or not VERSION_PATTERN.match(version) or ".." in version:
        raise RegistryError(f"invalid model version {version!r}")
    return version


def models_root(data_root: Path) -> Path:
    return Path(data_root) / MODELS_DIR


def model_dir(data_root: Path, version: str) -> Path:
    return models_root(data_root) / validate_version(version)


def read_metadata(data_root: Path, version: str) -> dict[str, Any]:
    path = model_dir(data_root, version) / METADATA_NAME
    if not path.is_file():
        raise RegistryError(f"unknown model version {version!r} (no {path})")
    return json.loads(path.read_text())


def write_file_atomically(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all: a temp file beside it, then a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def write_metadata(data_root: Path, version: str, metadata: dict[str, Any]) -> Path:
    """Write model.json atomically (temp file + rename)."""
    folder = model_dir(data_root, version)
    folder.mkdir(parents=True, exist_ok=True)
    write_file_atomically(folder / METADATA_NAME, json.dumps(metadata, indent=2, sort_keys=True).encode())
    return folder / METADATA_NAME


def list_versions(data_root: Path) -> list[str]:
    root = models_root(data_root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / METADATA_NAME).is_file())


class ModelRegistry:
    """Active-version bookkeeping in Redis over model folders on shared storage."""

    def __init__(self, data_root: Path, client: redis.Redis) -> None:
        self.data_root = Path(data_root)
        self.redis = client

    @classmethod
    def from_url(cls, data_root: Path, redis_url: str) -> ModelRegistry:
        return cls(data_root, redis.Redis.from_url(redis_url, decode_responses=True))

    def active(self) -> str | None:
        value = self.redis.get(ACTIVE_KEY)
        return value or None

    def history(self) -> list[str]:
        return list(self.redis.lrange(HISTORY_KEY, 0, -1))

    def promote(self, version: str) -> dict[str, Any]:
        read_metadata(self.data_root, version)  # must exist
        previous = self.active()
        pipe = self.redis.pipeline()
        if previous and previous != version:
            pipe.lpush(HISTORY_KEY, previous)
            pipe.ltrim(HISTORY_KEY, 0, 99)
        pipe.set(ACTIVE_KEY, version)
        pipe.execute()
        event = {"event": "promote", "version": version, "previous": previous}
        self.redis.publish(EVENTS_CHANNEL, json.dumps(event))
        return event

    def rollback(self) -> dict[str, Any]:
        previous = self.redis.lpop(HISTORY_KEY)
        if not previous:
            raise RegistryError("nothing to roll back to: no previously active version")
        current = self.active()
        self.redis.set(ACTIVE_KEY, previous)
        event = {"event": "rollback", "version": previous, "previous": current}
        self.redis.publish(EVENTS_CHANNEL, json.dumps(event))
        return event
