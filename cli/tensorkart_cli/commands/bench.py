"""`tensorkart bench [NAME]`: run one or all benchmarks (bench/bench_*.py), print JSON."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer

REPO = Path(__file__).resolve().parents[3]


def bench(name: list[str] = typer.Argument(None, help="benchmark name(s); default: all")) -> None:
    """Run benchmarks; results are merged into bench/results.json and printed as one JSON object."""
    runner = REPO / "bench" / "run.py"
    if not runner.is_file():
        typer.echo(f"benchmarks live in the source checkout ({runner} not found)", err=True)
        raise typer.Exit(2)
    raise typer.Exit(subprocess.call([sys.executable, str(runner), *(name or [])]))
