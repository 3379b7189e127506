"""Benchmark runner: runs bench/bench_<name>.py modules, each in its own process, and
merges what they measure into bench/results.json (one flat JSON object, CONTRACT.md).

Every module defines `run() -> dict[str, float]`, measuring our approach and the
original one in the same run. `python bench/run.py [NAME ...]` or `tensorkart bench [NAME]`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results.json"
MARKER = "BENCH-RESULT "


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))


def run_one(name: str) -> dict[str, float]:
    """Run bench_<name>.run() in a fresh interpreter; its last marked line is the result."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(BENCH_DIR)!r}); import bench_{name} as b; "
        f"print({MARKER!r} + json.dumps(b.run()), flush=True)"
    )
    completed = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, check=False)
    lines = [line for line in completed.stdout.splitlines() if line.startswith(MARKER)]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark {name} failed (exit {completed.returncode})")
    return json.loads(lines[-1][len(MARKER) :])


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def bench(
    names: Annotated[
        list[str] | None, typer.Argument(help=f"benchmarks to run (default all: {', '.join(available())})")
    ] = None,
) -> None:
    """Run benchmarks and merge their figures into bench/results.json."""
    raise typer.Exit(main(names))


def main(names: list[str] | None = None) -> int:
    """Run `names` (default: all); print the merged results; 1 if one failed, 2 for an unknown name."""
    names = names or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}", file=sys.stderr)
        return 2
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    failed = []
    for name in names:
        started = time.monotonic()
        print(f"bench {name} ...", file=sys.stderr, flush=True)
        try:
            measured = run_one(name)
        except RuntimeError as error:
            print(str(error), file=sys.stderr)
            failed.append(name)
            continue
        print(f"bench {name}: {json.dumps(measured)} ({time.monotonic() - started:.0f}s)", file=sys.stderr)
        results.update(measured)
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(json.dumps(results, sort_keys=True))
    return 1 if failed else 0


if __name__ == "__main__":
    app(prog_name="python bench/run.py")
