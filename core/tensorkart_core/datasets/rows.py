"""data.csv rows: parse, format, read, and repair a partial last line.

Rows are `path,x,y,a,b,rb` with no header, so `numpy.loadtxt(data.csv, delimiter=',',
usecols=(1, 2, 3, 4, 5))` and `usecols=(0,), dtype=str` read them as TensorKart's utils.py did.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path


class RowError(ValueError):
    """A malformed data.csv row."""


@dataclass(frozen=True)
class Row:
    """One data.csv row: image path as written, stick x/y, buttons."""

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
    if not Path(csv_path).is_file():
        return rows, problems
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


def rows_text(rows: list[Row]) -> str:
    return "".join(r.to_csv() for r in rows)


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
