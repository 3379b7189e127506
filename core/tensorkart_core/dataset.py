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
from dataclasses import dataclass, field
from pathlib import Path

from tensorkart_core.image_paths import resolve_image

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


IMAGE_PATTERN = re.compile(r"^img_(\d+)\.png$")


def image_index(image_path: str) -> int | None:
    """The <n> of an `.../img_<n>.png` path, or None when the name is not of that form."""
    match = IMAGE_PATTERN.match(Path(image_path.replace("\\", "/")).name)
    return int(match.group(1)) if match else None


def repair_tail(csv_path: Path) -> int:
    """Cut a partial last line (no newline: the writer was killed mid-row); returns bytes removed."""
    if not csv_path.is_file():
        return 0
    with open(csv_path, "rb+") as handle:
        size = handle.seek(0, 2)
        if size == 0:
            return 0
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return 0
        keep = 0
        block = 4096
        position = size
        while position > 0:
            start = max(0, position - block)
            handle.seek(start)
            chunk = handle.read(position - start)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                keep = start + cut + 1
                break
            position = start
        handle.truncate(keep)
        return size - keep


@dataclass
class DatasetReport:
    """What `validate_dataset` found: rows read, and every problem, one line each."""

    name: str
    path: Path
    rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems and self.rows > 0


def validate_dataset(data_root: Path, name: str, check_images: bool = True, limit: int = 50) -> DatasetReport:
    """Check a dataset: data.csv rows well-formed and in range, every named image present and a PNG.

    At most `limit` problems are listed (then a count of the rest).
    """
    directory = dataset_dir(data_root, name)
    report = DatasetReport(name, directory)
    csv_path = directory / CSV_NAME
    if not directory.is_dir():
        report.problems.append(f"{directory}: no such dataset folder")
        return report
    if not csv_path.is_file():
        report.problems.append(f"{csv_path}: missing")
        return report
    extra = 0

    def problem(text: str) -> None:
        nonlocal extra
        if len(report.problems) < limit:
            report.problems.append(text)
        else:
            extra += 1

    raw = csv_path.read_bytes()
    if raw and not raw.endswith(b"\n"):
        problem(f"{csv_path}: last line is incomplete (no newline)")
    seen: set[str] = set()
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = parse_row(line, number)
        except RowError as error:
            problem(f"{CSV_NAME} {error}")
            continue
        report.rows += 1
        if row.image in seen:
            problem(f"{CSV_NAME} line {number}: image {row.image} is named twice")
        seen.add(row.image)
        if check_images:
            image = resolve_image(data_root, csv_path, row.image)
            if not image.is_file():
                problem(f"{CSV_NAME} line {number}: image {row.image} is missing")
            elif not _looks_like_png(image):
                problem(f"{CSV_NAME} line {number}: image {row.image} is not a complete PNG file")
    if report.rows == 0 and not report.problems:
        problem(f"{csv_path}: no rows")
    if extra:
        report.problems.append(f"... and {extra} more problems")
    return report


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"


def _looks_like_png(path: Path) -> bool:
    """PNG signature at the start and the IEND chunk at the end (a truncated write fails this)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
            size = handle.seek(0, 2)
            if size < 20:
                return False
            handle.seek(size - 8)
            tail = handle.read(8)
    except OSError:
        return False
    return head == _PNG_SIGNATURE and tail == _PNG_END
