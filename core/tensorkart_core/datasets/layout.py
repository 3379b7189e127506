"""Where datasets live on shared storage and what they may be called.

$TENSORKART_DATA/samples/<name>/img_<n>.png
$TENSORKART_DATA/samples/<name>/data.csv      one row per frame, no header:
    samples/<name>/img_<n>.png,<x>,<y>,<a>,<b>,<rb>
$TENSORKART_DATA/samples/<name>/session.json  our extra metadata
$TENSORKART_DATA/samples/<name>/deleted.csv   soft-deleted rows (same row format), see curation
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

SAMPLES_DIR = "samples"
CSV_NAME = "data.csv"
SESSION_NAME = "session.json"
DELETED_NAME = "deleted.csv"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
IMAGE_PATTERN = re.compile(r"^img_(\d+)\.png$")


class DatasetNameError(ValueError):
    """A dataset name that could escape the samples folder or is otherwise unusable."""


class DatasetNotFound(LookupError):
    """No dataset of that name (or no dataset matches the pattern)."""


def validate_name(name: str) -> str:
    """Return `name` if it is a safe dataset name, else raise DatasetNameError saying why."""
    if not isinstance(name, str) or not name:
        raise DatasetNameError("dataset name is empty")
    if "/" in name or "\\" in name or "\x00" in name:
        raise DatasetNameError(f"dataset name {name!r} contains a path separator")
    if name in (".", "..") or ".." in name:
        raise DatasetNameError(f"dataset name {name!r} contains '..'")
    if len(name) > 64:
        raise DatasetNameError(f"dataset name is {len(name)} characters long; the limit is 64")
    if not NAME_PATTERN.match(name):
        raise DatasetNameError(
            f"dataset name {name!r} may only use letters, digits, '_', '-', '.' and must not start with '.' or '-'"
        )
    return name


def validate_pattern(pattern: str) -> str:
    """A dataset name or glob; raise DatasetNameError when it could escape samples/."""
    plain = pattern
    for char in "*?[]!":
        plain = plain.replace(char, "x")
    validate_name(plain)
    return pattern


def samples_root(data_root: Path) -> Path:
    return Path(data_root) / SAMPLES_DIR


def dataset_dir(data_root: Path, name: str) -> Path:
    return samples_root(data_root) / validate_name(name)


def csv_path(data_root: Path, name: str) -> Path:
    return dataset_dir(data_root, name) / CSV_NAME


def require_dataset(data_root: Path, name: str) -> Path:
    """The dataset's folder; DatasetNotFound when it has no data.csv."""
    folder = dataset_dir(data_root, name)
    if not (folder / CSV_NAME).is_file():
        raise DatasetNotFound(f"dataset {name!r} not found (no {folder / CSV_NAME})")
    return folder


def image_relpath(name: str, index: int) -> str:
    """The path written in data.csv for image `index` of dataset `name`."""
    return f"{SAMPLES_DIR}/{name}/img_{index}.png"


def image_index(image_path: str) -> int | None:
    """The <n> of an `.../img_<n>.png` path, or None when the name is not of that form."""
    match = IMAGE_PATTERN.match(Path(image_path.replace("\\", "/")).name)
    return int(match.group(1)) if match else None


def list_datasets(data_root: Path) -> list[str]:
    """Names of the folders under samples/ that hold a data.csv."""
    root = samples_root(data_root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / CSV_NAME).is_file())


def resolve_names(data_root: Path, patterns: list[str]) -> list[str]:
    """Dataset names matching `patterns` (names or globs), in order, without repeats."""
    available = list_datasets(data_root)
    names: list[str] = []
    for pattern in patterns:
        validate_pattern(pattern)
        matched = [n for n in available if fnmatch.fnmatchcase(n, pattern)]
        if not matched:
            raise DatasetNotFound(f"no dataset matches {pattern!r} (have: {', '.join(available) or 'none'})")
        names.extend(n for n in matched if n not in names)
    return names
