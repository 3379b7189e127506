"""Closed-loop evaluation after training: `tensorkart eval --model V --track T --laps N` per track.

The command (TRAINER_EVAL_COMMAND) runs as a subprocess and prints one JSON line with
"autonomy". When it is missing or fails, evaluation is skipped and the reason recorded.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import Any


def resolve_command(command: str) -> list[str] | str:
    """argv for `command`, or a sentence saying why it cannot run."""
    try:
        argv = shlex.split(command)
    except ValueError as error:
        return f"TRAINER_EVAL_COMMAND {command!r} cannot be parsed: {error}"
    if not argv:
        return "TRAINER_EVAL_COMMAND is empty"
    if shutil.which(argv[0]):
        return argv
    beside = os.path.join(os.path.dirname(sys.executable), argv[0])
    if os.access(beside, os.X_OK):
        return [beside, *argv[1:]]
    return f"evaluation command {argv[0]!r} not found"


def _last_json(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict) and "autonomy" in value:
                return value
    return None


def evaluate(
    command: str,
    version: str,
    tracks: list[str],
    laps: int,
    timeout_s: float,
    log: Callable[[str], None],
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """{"status": done|partial|skipped, "reason", "tracks": {track: result JSON or {"error": ...}}}."""
    argv = resolve_command(command)
    if isinstance(argv, str):
        log(f"evaluation skipped: {argv}")
        return {"status": "skipped", "reason": argv, "tracks": {}}
    results: dict[str, Any] = {}
    for track in tracks:
        full = [*argv, "--model", version, "--track", track, "--laps", str(laps)]
        log(f"evaluating {version} on {track}: {shlex.join(full)}")
        try:
            done = subprocess.run(
                full,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                env={**os.environ, **(env or {})},
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired:
            results[track] = {"error": f"timed out after {timeout_s:.0f}s"}
            log(f"evaluation on {track} timed out")
            continue
        except OSError as error:
            results[track] = {"error": f"could not run: {error}"}
            continue
        report = _last_json(done.stdout)
        if done.returncode != 0 or report is None:
            tail = [t.strip(" \u2502\u256d\u256e\u2570\u256f\u2500") for t in (done.stderr or done.stdout).splitlines()]
            tail = [t for t in tail if t][-3:]
            detail = " | ".join(tail)[:300]
            reason = f"exit {done.returncode}" + (f": {detail}" if detail else "") if done.returncode else ""
            results[track] = {"error": reason or "no JSON line with 'autonomy' in its output"}
            log(f"evaluation on {track} failed: {results[track]['error']}")
            continue
        results[track] = report
        log(f"evaluation on {track}: autonomy {report.get('autonomy')}")
    ok = [t for t, r in results.items() if "error" not in r]
    if not ok:
        reasons = "; ".join(f"{t}: {r['error']}" for t, r in results.items())
        return {"status": "skipped", "reason": f"evaluation failed ({reasons})", "tracks": results}
    return {"status": "done" if len(ok) == len(results) else "partial", "reason": None, "tracks": results}
