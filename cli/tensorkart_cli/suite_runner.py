"""`tensorkart eval --suite NAME`: a model over every run of an evaluation suite, scored against the expert.

Each run is one `tensorkart eval` of its own (private inference server, controller in lock-step,
headless practice track, all on free loopback ports), so runs are independent and go in parallel,
`--jobs` at a time (default: one per two cores). Printed on stdout: one JSON line per run, in the
suite's order, then the aggregate line (tensorkart_simulator.suites). Progress goes to stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tensorkart_simulator.suites import Suite, SuiteRun, aggregate, expert_speed, score


class SuiteRunError(RuntimeError):
    """A run of the suite that gave no report; the message names the run and what it printed."""


def default_jobs() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


def eval_command(model: str, run: SuiteRun, suite: Suite, data: Path | None, timeout: float) -> list[str]:
    command = [sys.executable, "-m", "tensorkart_cli.main", "eval", "--model", model]
    command += ["--track", run.track, "--theme", run.theme, "--traffic", str(run.traffic), "--seed", str(run.seed)]
    command += ["--laps", str(suite.laps), "--max-seconds", str(suite.max_seconds), "--timeout", str(timeout)]
    if data is not None:
        command += ["--data", str(data)]
    return command


def run_one(model: str, run: SuiteRun, suite: Suite, data: Path | None, timeout: float) -> dict[str, Any]:
    """Evaluate `model` on one run (a `tensorkart eval` child) and score it against the expert."""
    reference = expert_speed(run, suite)
    completed = subprocess.run(
        eval_command(model, run, suite, data, timeout),
        capture_output=True,
        text=True,
        timeout=timeout + 120,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    if completed.returncode != 0 or not lines:
        tail = completed.stderr.strip().splitlines()[-5:]
        raise SuiteRunError(f"run {run.track} / {run.theme} failed (exit {completed.returncode}): {' | '.join(tail)}")
    return score(run, suite, json.loads(lines[-1]), reference)


def run_suite(
    model: str,
    suite: Suite,
    jobs: int,
    data: Path | None = None,
    timeout: float = 900.0,
    emit: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run every run of `suite`, `jobs` at a time; emit the run lines in order, then the aggregate."""
    started = time.monotonic()
    results: list[dict[str, Any] | None] = [None] * len(suite.runs)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(run_one, model, run, suite, data, timeout) for run in suite.runs]
        for index, future in enumerate(futures):
            results[index] = future.result()
            done = sum(1 for r in results if r is not None)
            print(
                f"suite {suite.name}: {done}/{len(suite.runs)} runs, {time.monotonic() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    lines = [line for line in results if line is not None]
    for line in lines:
        emit(json.dumps(line))
    total = aggregate(suite, lines)
    emit(json.dumps(total))
    return total
