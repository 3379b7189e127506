"""Shared by the first-hour tests: run the real `tensorkart` entry point and read its one error line."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass

from tests.helpers import REPO, TENSORKART


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def tensorkart(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Ran:
    """`tensorkart ARGS` as a user runs it (the installed console script), timed."""
    started = time.monotonic()
    done = subprocess.run(
        [TENSORKART, *args],
        env={**os.environ, **(env or {})},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return Ran(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def error_line(ran: Ran) -> str:
    """stderr is exactly one line `error: <what> — <fix>`: no traceback, no Python repr."""
    assert "Traceback" not in ran.stderr, ran.stderr
    lines = [line for line in ran.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, ran.stderr
    line = lines[0]
    assert line.startswith("error: ") and " — " in line, line
    assert "object at 0x" not in line and "{'" not in line and "[{" not in line, line
    return line
