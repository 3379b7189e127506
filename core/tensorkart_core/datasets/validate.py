"""`datasets validate`: every row well-formed and in range, every named image present and a complete PNG."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tensorkart_core.datasets.layout import CSV_NAME, dataset_dir
from tensorkart_core.datasets.paths import resolve_image
from tensorkart_core.datasets.rows import RowError, parse_row

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"


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
            elif not looks_like_png(image):
                problem(f"{CSV_NAME} line {number}: image {row.image} is not a complete PNG file")
    if report.rows == 0 and not report.problems:
        problem(f"{csv_path}: no rows")
    if extra:
        report.problems.append(f"... and {extra} more problems")
    return report


def looks_like_png(path: Path) -> bool:
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
    return head == PNG_SIGNATURE and tail == _PNG_END


def png_problem(path: Path) -> str | None:
    """Cheap check without decoding: exists, non-empty, PNG signature (truncation shows at decode)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except FileNotFoundError:
        return "missing"
    except OSError as error:
        return f"unreadable ({error.strerror})"
    if head != PNG_SIGNATURE:
        return "not a PNG"
    return None
