"""Reading a dataset for training: every data.csv row parsed, every image located by the one path rule.

A soft-deleted frame is not in data.csv (it moved to deleted.csv), so a scan never sees it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tensorkart_core.datasets.layout import CSV_NAME, require_dataset
from tensorkart_core.datasets.paths import resolve_image
from tensorkart_core.datasets.rows import RowError, parse_row, read_rows
from tensorkart_core.datasets.validate import png_problem


@dataclass
class Sample:
    """One usable frame: absolute image path and the five recorded values."""

    path: str
    values: tuple[float, float, float, float, float]


@dataclass
class DatasetScan:
    """Every row of one dataset: usable samples plus what was wrong with the rest."""

    name: str
    samples: list[Sample] = field(default_factory=list)
    bad_rows: list[str] = field(default_factory=list)
    bad_images: list[str] = field(default_factory=list)
    rows: int = 0


def scan(data_root: Path, name: str, check_images: bool = True) -> DatasetScan:
    """Parse data.csv of `name`, never raising on a bad row or image: they are listed instead."""
    csv_path = require_dataset(data_root, name) / CSV_NAME
    result = DatasetScan(name)
    root = Path(data_root).resolve()
    with open(csv_path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            result.rows += 1
            try:
                row = parse_row(line, number)
            except RowError as error:
                result.bad_rows.append(f"{name}/{CSV_NAME} {error}")
                continue
            image = resolve_image(root, csv_path, row.image)
            problem = png_problem(image) if check_images else None
            if problem:
                result.bad_images.append(f"{row.image}: {problem}")
                continue
            result.samples.append(Sample(str(image), row.outputs))
    return result


def content_hash(scan_result: DatasetScan) -> str:
    """sha256 over the used frames' values and image bytes, in order: equal data, equal hash."""
    digest = hashlib.sha256()
    for sample in scan_result.samples:
        digest.update(json.dumps(sample.values).encode())
        try:
            with open(sample.path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
        except OSError:
            digest.update(b"<unreadable>")
    return digest.hexdigest()


def session_rows(session: Path, data_root: Path | None) -> tuple[list[str], np.ndarray]:
    """Image paths (absolute, by the one path rule) and the 5 values of each row of one session folder
    (`tensorkart prepare`). Without a data root, the folder's grandparent (…/samples/<name>) is used."""
    rows, _ = read_rows(session / CSV_NAME, strict=True)
    root = data_root if data_root is not None else session.resolve().parent.parent
    paths = [str(resolve_image(root, session / CSV_NAME, r.image)) for r in rows]
    return paths, np.asarray([r.outputs for r in rows], dtype=np.float32).reshape(-1, 5)
