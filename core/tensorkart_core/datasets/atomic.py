"""Atomic file writes: a temp file beside the target, flushed and fsynced, then renamed over it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def write_atomically(target: Path, write: Callable[[Path], None], durable: bool = True) -> None:
    """Call write(temp) and rename temp over `target` (readers see the old or the new file, never half);
    durable: fsync the temp file first (metadata and csv files; bulk image copies skip it)."""
    target = Path(target)
    temp = target.with_name(f".{target.name}.tmp")
    try:
        write(temp)
        if durable:
            with open(temp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_text(target: Path, text: str) -> None:
    write_atomically(target, lambda temp: temp.write_text(text, encoding="utf-8"))


def write_bytes(target: Path, data: bytes) -> None:
    write_atomically(target, lambda temp: temp.write_bytes(data))
