"""The TensorKart dataset layout on shared storage, read and written the original way.

    $TENSORKART_DATA/samples/<name>/img_<n>.png
    $TENSORKART_DATA/samples/<name>/data.csv      one row per frame, no header:
        samples/<name>/img_<n>.png,<x>,<y>,<a>,<b>,<rb>
    $TENSORKART_DATA/samples/<name>/session.json  our extra metadata

Image paths in data.csv are relative to the data root, as in TensorKart's record.py,
so `numpy.loadtxt(data.csv, delimiter=',', usecols=(1, 2, 3, 4, 5))` and
`usecols=(0,), dtype=str` read it exactly as the original utils.py did.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

SAMPLES_DIR = "samples"
CSV_NAME = "data.csv"
SESSION_NAME = "session.json"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


class DatasetNameError(ValueError):
    """A dataset name that could escape the samples folder or is otherwise unusable."""


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


def samples_root(data_root: Path) -> Path:
    return Path(data_root) / SAMPLES_DIR


def dataset_dir(data_root: Path, name: str) -> Path:
    return samples_root(data_root) / validate_name(name)


def image_relpath(name: str, index: int) -> str:
    """The path written in data.csv for image `index` of dataset `name`."""
    return f"{SAMPLES_DIR}/{name}/img_{index}.png"


@dataclass(frozen=True)
class Row:
    """One data.csv row: image path relative to the data root, stick x/y, buttons."""

    image: str
    x: float
    y: float
    a: int
    b: int
    rb: int

    def to_csv(self) -> str:
        return f"{self.image},{_fmt(self.x)},{_fmt(self.y)},{self.a},{self.b},{self.rb}\n"

    @property
    def outputs(self) -> tuple[float, float, float, float, float]:
        return (self.x, self.y, float(self.a), float(self.b), float(self.rb))


def _fmt(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class RowError(ValueError):
    """A malformed data.csv row."""


def parse_row(line: str, line_number: int = 0) -> Row:
    """Parse one data.csv line; raise RowError naming the line and problem."""
    parts = line.rstrip("\r\n").split(",")
    where = f"line {line_number}" if line_number else "row"
    if len(parts) != 6:
        raise RowError(f"{where}: expected 6 comma-separated fields, got {len(parts)}")
    image = parts[0].strip()
    if not image:
        raise RowError(f"{where}: empty image path")
    try:
        x, y, a, b, rb = (float(p) for p in parts[1:])
    except ValueError:
        raise RowError(f"{where}: non-numeric value in {parts[1:]}") from None
    if not all(math.isfinite(v) for v in (x, y, a, b, rb)):
        raise RowError(f"{where}: non-finite value")
    if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
        raise RowError(f"{where}: axis out of range [-1, 1] (x={x}, y={y})")
    if any(v not in (0.0, 1.0) for v in (a, b, rb)):
        raise RowError(f"{where}: buttons must be 0 or 1 (a={a}, b={b}, rb={rb})")
    return Row(image, x, y, int(a), int(b), int(rb))


def read_rows(csv_path: Path, strict: bool = True) -> tuple[list[Row], list[str]]:
    """All rows of a data.csv. strict: raise on the first bad row; else skip and report."""
    rows: list[Row] = []
    problems: list[str] = []
    with open(csv_path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(parse_row(line, number))
            except RowError as error:
                if strict:
                    raise RowError(f"{csv_path}: {error}") from None
                problems.append(str(error))
    return rows, problems


def list_datasets(data_root: Path) -> list[str]:
    """Names of the folders under samples/ that hold a data.csv."""
    root = samples_root(data_root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / CSV_NAME).is_file())
